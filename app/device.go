package app

import (
	"net"
	"strings"
)

// DeviceFingerprint is the heuristic behind the "sign-in from a new device" alert: the browser
// family and operating system read from the user agent, without versions, and the address
// family of the source ("firefox/windows/ipv4"). Versions are dropped so that a browser update is
// not a new device; the address is reduced to its family so that a phone moving between wards,
// Wi-Fi and 4G is not one either. What it catches: a first sign-in from another browser, another
// operating system, a script (curl, an HTTP library) or another kind of network. What it cannot
// catch: the same browser on the same operating system elsewhere; user agents are the client's
// to claim, so this is a tripwire for IG officers, not an authentication factor.
func DeviceFingerprint(userAgent, addr string) string {
	return uaFamily(userAgent) + "/" + addrFamily(addr)
}

func uaFamily(ua string) string {
	l := strings.ToLower(ua)
	browser := "other"
	switch {
	case l == "":
		browser = "none"
	case strings.Contains(l, "edg/") || strings.Contains(l, "edga/") || strings.Contains(l, "edgios/"):
		browser = "edge"
	case strings.Contains(l, "opr/") || strings.Contains(l, "opera"):
		browser = "opera"
	case strings.Contains(l, "firefox/") || strings.Contains(l, "fxios/"):
		browser = "firefox"
	case strings.Contains(l, "chrome/") || strings.Contains(l, "crios/") || strings.Contains(l, "chromium/"):
		browser = "chrome"
	case strings.Contains(l, "safari/"):
		browser = "safari"
	case !strings.HasPrefix(l, "mozilla/"):
		// A program: its first product token without the version ("curl/8.5" is "curl").
		tok, _, _ := strings.Cut(l, " ")
		tok, _, _ = strings.Cut(tok, "/")
		if tok = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return -1
		}, tok); tok != "" && len(tok) <= 32 {
			browser = tok
		}
	}
	os := "other"
	switch {
	case strings.Contains(l, "iphone") || strings.Contains(l, "ipad") || strings.Contains(l, "ios"):
		os = "ios"
	case strings.Contains(l, "android"):
		os = "android"
	case strings.Contains(l, "windows"):
		os = "windows"
	case strings.Contains(l, "cros"):
		os = "chromeos"
	case strings.Contains(l, "mac os x") || strings.Contains(l, "macintosh"):
		os = "macos"
	case strings.Contains(l, "linux"):
		os = "linux"
	}
	return browser + "/" + os
}

func addrFamily(addr string) string {
	ip := net.ParseIP(addr)
	switch {
	case ip == nil:
		return "unknown"
	case ip.IsLoopback():
		return "loopback"
	case ip.To4() != nil:
		return "ipv4"
	default:
		return "ipv6"
	}
}
