// Command goref answers, for a batch of inputs, what Go's standard library does with them: the reference
// the collection's Python ports of net/url, fmt, strings.Fields, the agent's proxy parsing and
// http.ProxyFromEnvironment are checked against (tests/unit/test_go_differential.py). Test code only,
// never shipped; standard library only.
//
// Input on stdin: a JSON array of requests {"op": ..., ...}. Output on stdout: a JSON array of answers in
// the same order. Every string Go produces is sent as hex of its bytes, because Go strings may hold
// bytes that are not UTF-8 (url.Parse decodes %FF) and encoding/json would replace them.
package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
)

type request struct {
	Op      string            `json:"op"`
	In      string            `json:"in"`
	Bypass  string            `json:"bypass"`
	Env     map[string]string `json:"env"`
	URLs    []string          `json:"urls"`
	IE      *windowsProxy     `json:"ie"`
	WinHTTP *windowsProxy     `json:"winhttp"`
}

// windowsProxy is what WinHttpGetIEProxyConfigForCurrentUser / WinHttpGetDefaultProxyConfiguration report.
type windowsProxy struct {
	Manual bool   `json:"manual"` // IE: "use a proxy server" ticked (flag 0x2)
	Proxy  string `json:"proxy"`
	Bypass string `json:"bypass"`
}

type answer map[string]any

func hx(s string) string { return hex.EncodeToString([]byte(s)) }

func hexList(items []string) []string {
	out := make([]string, 0, len(items))
	for _, item := range items {
		out = append(out, hx(item))
	}
	return out
}

// parseURL: url.Parse, URL.String() and URL.Host.
func parseURL(in string) answer {
	u, err := url.Parse(in)
	if err != nil {
		return answer{"ok": false, "err": hx(err.Error())}
	}
	return answer{"ok": true, "string": hx(u.String()), "host": hx(u.Host)}
}

// validateHost follows the agent's ValidateHost (agent/proxyconfig/proxy_windows.go): WinINet macros
// refused, "//" prefixed with "http:", "http://" added when "://" is absent, url.Parse, and on failure the
// error text the agent builds without a separator: err.Error() + s + ", skipped".
func validateHost(s string) (*url.URL, error) {
	if s == "<-loopback>" || s == "<local>" {
		return nil, errors.New(s + " host not supported, skipped")
	}
	if strings.Index(s, "//") == 0 {
		s = "http:" + s
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New(err.Error() + s + ", skipped")
	}
	return u, nil
}

// setProxyConfig follows the agent's SetProxyConfig over given Windows settings and process environment.
// IE is used when lpszProxy is not NULL, which WinHttpGetIEProxyConfigForCurrentUser returns only for a
// non-empty proxy string with the manual flag (Wine dlls/winhttp/session.c); else WinHTTP when its proxy is not
// empty; then any http_proxy/https_proxy in the environment discards that proxy, a no_proxy that bypass list.
// Windows environment names ignore case.
func setProxyConfig(r request) answer {
	env := map[string]string{}
	for name, value := range r.Env {
		env[strings.ToLower(name)] = value
	}
	var proxy, bypass string
	if r.IE != nil && r.IE.Manual && r.IE.Proxy != "" {
		proxy, bypass = r.IE.Proxy, r.IE.Bypass
	} else if r.WinHTTP != nil && len(r.WinHTTP.Proxy) > 0 {
		proxy, bypass = r.WinHTTP.Proxy, r.WinHTTP.Bypass
	}
	for _, name := range []string{"https_proxy", "http_proxy", "no_proxy"} {
		if len(env[name]) > 0 {
			switch name {
			case "https_proxy", "http_proxy":
				proxy = ""
			case "no_proxy":
				bypass = ""
			}
		}
	}
	parsed := agent(proxy, bypass)
	for _, name := range []string{"http_proxy", "https_proxy", "no_proxy"} {
		if value, ok := parsed[name]; ok {
			env[name] = value.(string)
		} else {
			env[name] = hx(env[name])
		}
	}
	return answer{"http_proxy": env["http_proxy"], "https_proxy": env["https_proxy"], "no_proxy": env["no_proxy"], "warnings": parsed["warnings"]}
}

// agent follows SetProxyConfig's ParseProxySettings and bypass loop over one proxy and one bypass string.
func agent(proxy, bypass string) answer {
	var http, https, other *url.URL
	var err error
	warnings := []string{}
	for _, f := range strings.Fields(proxy) {
		for _, s := range strings.Split(f, ";") {
			if len(s) == 0 {
				continue
			}
			split := strings.SplitN(s, "=", 2)
			if len(split) > 1 {
				switch split[0] {
				case "https":
					https, err = validateHost(split[1])
				case "http":
					http, err = validateHost(split[1])
				default:
					continue
				}
			} else {
				other, err = validateHost(split[0])
			}
			if err != nil {
				warnings = append(warnings, "ParseProxySettings, invalid URL or host for proxy: "+err.Error())
			}
		}
	}
	httpProxy, httpsProxy := http, https
	if https == nil && http == nil {
		httpProxy = other
	} else if https != nil && http == nil {
		httpProxy = other
	} else if https == nil && http != nil {
		httpsProxy = other
	}
	result := answer{}
	if httpProxy != nil {
		result["http_proxy"] = hx(httpProxy.String())
	}
	if httpsProxy != nil {
		result["https_proxy"] = hx(httpsProxy.String())
	}
	bypassList := []string{}
	for _, f := range strings.Fields(bypass) {
		for _, s := range strings.Split(f, ";") {
			if len(s) == 0 {
				continue
			}
			u, err := validateHost(s)
			if err == nil {
				bypassList = append(bypassList, u.Host)
			} else {
				warnings = append(warnings, "SetProxySettings invalid URL or host for no_proxy: "+err.Error())
			}
		}
	}
	if len(bypassList) > 0 {
		result["no_proxy"] = hx(strings.Join(bypassList, ","))
	}
	result["warnings"] = hexList(warnings)
	return result
}

// routes runs this program again with exactly the given environment: http.ProxyFromEnvironment reads the
// environment once per process (sync.Once), so each environment needs a process of its own.
func routes(self string, env map[string]string, urls []string) answer {
	cmd := exec.Command(self, "-routes")
	cmd.Env = []string{}
	for name, value := range env {
		cmd.Env = append(cmd.Env, name+"="+value)
	}
	input, _ := json.Marshal(urls)
	cmd.Stdin = bytes.NewReader(input)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return answer{"fatal": err.Error()}
	}
	var result []answer
	if err := json.Unmarshal(out.Bytes(), &result); err != nil {
		return answer{"fatal": err.Error()}
	}
	return answer{"routes": result}
}

// routesChild answers, in a process whose environment is the one under test, which proxy
// http.ProxyFromEnvironment picks for each URL ("" = direct).
func routesChild() {
	var urls []string
	if err := json.NewDecoder(os.Stdin).Decode(&urls); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	result := make([]answer, 0, len(urls))
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			result = append(result, answer{"err": hx(err.Error())})
			continue
		}
		proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u})
		switch {
		case err != nil:
			result = append(result, answer{"err": hx(err.Error())})
		case proxy == nil:
			result = append(result, answer{"proxy": ""})
		default:
			result = append(result, answer{"proxy": hx(proxy.String())})
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(result)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-routes" {
		routesChild()
		return
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var requests []request
	if err := json.NewDecoder(os.Stdin).Decode(&requests); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	answers := make([]answer, 0, len(requests))
	for _, r := range requests {
		switch r.Op {
		case "parse":
			answers = append(answers, parseURL(r.In))
		case "sprintf":
			// The agent logs each proxy variable with log.Infof(name + ": " + value): the value is the format.
			answers = append(answers, answer{"out": hx(fmt.Sprintf(r.In))})
		case "fields":
			answers = append(answers, answer{"fields": hexList(strings.Fields(r.In))})
		case "agent":
			answers = append(answers, agent(r.In, r.Bypass))
		case "setproxy":
			answers = append(answers, setProxyConfig(r))
		case "routes":
			answers = append(answers, routes(self, r.Env, r.URLs))
		default:
			answers = append(answers, answer{"fatal": "unknown op " + r.Op})
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(answers)
}
