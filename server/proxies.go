package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// proxies are the peers whose X-Forwarded-Proto, X-Forwarded-For and
// X-Forwarded-Host headers are believed. Any client can send those
// headers; believed from anyone, they would let it pass a token over plain
// HTTP as if it came over HTTPS, take another address past the rate limit,
// and point the links of cacheable answers at another host.
type proxies []netip.Prefix

// trusts reports whether the request came straight from a trusted proxy.
func (p proxies) trusts(r *http.Request) bool {
	addr, ok := peerAddr(r)
	return ok && slices.ContainsFunc(p, func(pfx netip.Prefix) bool { return pfx.Contains(addr) })
}

// peerAddr is the address of the connection's other end.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// forwarded is the first value of a forwarding header when the request
// came from a trusted proxy; empty otherwise.
func (p proxies) forwarded(r *http.Request, name string) string {
	if len(p) == 0 {
		return "" // the usual case: every link of an answer asks
	}
	if v := r.Header.Get(name); v != "" && p.trusts(r) {
		return firstValue(v)
	}
	return ""
}

// ipExtractor finds the client's address: the peer's, or, behind trusted
// proxies, the nearest address in X-Forwarded-For that is not one of them.
func (p proxies) ipExtractor() echo.IPExtractor {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, pfx := range p {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: pfx.Addr().AsSlice(), Mask: net.CIDRMask(pfx.Bits(), pfx.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ParseTrustedProxies reads a comma-separated list of CIDR prefixes or
// single addresses ("127.0.0.1/8, ::1, 10.0.0.0/8"); "" or "none" trusts none.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	if strings.TrimSpace(list) == "none" {
		return nil, nil
	}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			addr, err := netip.ParseAddr(item)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()))
			continue
		}
		pfx, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, err
		}
		if pfx.Addr().Is4In6() {
			// Peers are compared unmapped, so a mapped prefix must lie
			// wholly inside ::ffff:0:0/96 to mean IPv4 addresses at all.
			if pfx.Bits() < 96 {
				return nil, fmt.Errorf("%s: an IPv4-mapped prefix must be /96 or longer", item)
			}
			pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}
