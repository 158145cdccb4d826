// The Go program the differential tests ask what Go does (tests/unit/test_go_differential.py).
// `go 1.21` is the go line of the SSM Agent's own go.mod: Go gives a main module the GODEBUG defaults of
// its go line (https://go.dev/doc/godebug), so e.g. urlstrictcolons=0 as the agent's binary has it.
module ssmproxy.test/goref

go 1.21
