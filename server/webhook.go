package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
)

// Webhook headers. SignatureHeader is "t=UNIX,v1=HEX": HEX is the
// HMAC-SHA256, keyed by the subscription's secret, of the decimal UNIX
// time, a full stop and the body, so a receiver can refuse a delivery
// replayed later as well as one forged.
const (
	SignatureHeader = "Protectmap-Signature"
	DeliveryHeader  = "Protectmap-Delivery"
)

// maxWebhookURL bounds a webhook URL's length.
const maxWebhookURL = 2048

// Sign is the SignatureHeader value of body sent at t with secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// webhookNets decides which addresses webhooks may be posted to: any
// public unicast address, and those of the networks allowed besides. Any
// token holder can register a webhook, so without this the server would
// post, from inside its network, wherever it was told: to the loopback,
// a metadata service or a private admin page.
type webhookNets []netip.Prefix

// permits reports whether a webhook may be posted to a.
func (n webhookNets) permits(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range n {
		if p.Contains(a) {
			return true
		}
	}
	// RFC 6598's carrier-grade NAT range is private in all but name.
	shared := netip.PrefixFrom(netip.AddrFrom4([4]byte{100, 64, 0, 0}), 10)
	return a.IsGlobalUnicast() && !a.IsPrivate() && !shared.Contains(a)
}

// errWebhookAddress is a webhook host that resolved to an address not permitted.
var errWebhookAddress = errors.New("the address is not a public one, nor in --webhook-allow")

// checkWebhookURL parses a webhook URL: absolute http or https, a host, no
// user information or fragment, and an address literal only where permitted
// (host names are checked when connecting, on every address they resolve to).
func (n webhookNets) checkWebhookURL(raw string) error {
	if len(raw) > maxWebhookURL {
		return fmt.Errorf("longer than %d bytes", maxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an http or https URL")
	case u.Hostname() == "":
		return errors.New("must name a host")
	case u.User != nil:
		return errors.New("must not carry user information; the signature authenticates deliveries")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	}
	if a, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !n.permits(a) {
		return fmt.Errorf("%s: %w", a, errWebhookAddress)
	}
	return nil
}

// newWebhookClient posts deliveries: within timeout in all, only to
// permitted addresses (checked on the address dialled, after resolution,
// so a name that resolves elsewhere later gains nothing), through no
// proxy, and following no redirect (a 3xx is a failed attempt).
func newWebhookClient(n webhookNets, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !n.permits(ap.Addr()) {
			return fmt.Errorf("%s: %w", ap.Addr(), errWebhookAddress)
		}
		return nil
	}}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// post sends one delivery, signed now; nil when the receiver answered 2xx.
func post(ctx context.Context, client *http.Client, target, secret, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(echo.HeaderContentType, mediaJSON)
	req.Header.Set("User-Agent", "protectmap-webhook")
	req.Header.Set(DeliveryHeader, id)
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	// A little of the answer says why it failed; the rest is not wanted.
	snippet, _ := io.ReadAll(io.LimitReader(res.Body, 256))
	if res.StatusCode/100 == 2 {
		return nil
	}
	msg := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?"))
	return fmt.Errorf("the receiver answered %s %s", res.Status, msg)
}
