package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/protectmap/protectmap/server"
)

// received is one webhook delivery as the receiver saw it.
type received struct {
	path, delivery, signature string
	body                      []byte
	at                        time.Time
}

// receiver is a webhook receiver on loopback: it records every request
// and answers with status(path, n), n counting that path's requests from 1.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	hits map[string]int
}

func newReceiver(t *testing.T, status func(path string, n int) int) *receiver {
	r := &receiver{hits: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits[req.URL.Path]++
		n := r.hits[req.URL.Path]
		r.got = append(r.got, received{req.URL.Path, req.Header.Get(server.DeliveryHeader), req.Header.Get(server.SignatureHeader), body, time.Now()})
		r.mu.Unlock()
		if code := status(req.URL.Path, n); code == http.StatusFound {
			http.Redirect(w, req, "http://127.0.0.2:9/elsewhere", code)
		} else {
			w.WriteHeader(code)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// at returns the deliveries to path so far.
func (r *receiver) at(path string) []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.path == path {
			out = append(out, g)
		}
	}
	return out
}

// signed reports whether a delivery's signature is the HMAC-SHA256 of
// "t.body" by secret, made within the last minute.
func signed(g received, secret string) bool {
	ts, mac, ok := strings.Cut(strings.TrimPrefix(g.signature, "t="), ",v1=")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(unix, 0)).Abs() > time.Minute {
		return false
	}
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts + "."))
	h.Write(g.body)
	return hmac.Equal([]byte(hex.EncodeToString(h.Sum(nil))), []byte(mac))
}

// alertLimits retry within a second. The tests count every attempt, so
// no attempt may fail by a timeout: a busy machine can keep an answer, to
// a webhook delivery or to /metrics, waiting for seconds.
var alertLimits = server.Limits{WebhookPoll: 30 * time.Millisecond, WebhookBackoff: 50 * time.Millisecond, WebhookAttempts: 3,
	FeedHeartbeat: 100 * time.Millisecond}

func alertFixture(t *testing.T, allow ...netip.Prefix) *strikeFixture {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Limits, c.Context, c.WebhookAllow = alertLimits, ctx, allow
	})
}

func (f *strikeFixture) subscribe(t *testing.T, body string) map[string]any {
	t.Helper()
	rec := f.send(t, http.MethodPost, "/alerts", "application/json", body, true)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /alerts %s: %d\n%s", body, rec.Code, rec.Body)
	}
	return decode(t, rec.Body.Bytes())
}

func TestAlertWebhooks(t *testing.T) {
	recv := newReceiver(t, func(path string, n int) int {
		switch {
		case path == "/always-fails":
			return http.StatusInternalServerError
		case path == "/redirects":
			return http.StatusFound
		case n == 1: // the first delivery fails once, then is retried
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	f := alertFixture(t, netip.MustParsePrefix("127.0.0.0/8"))
	base := serveLive(t, f, alertLimits)
	sub := f.subscribe(t, `{"meters":1000,"collections":["energy"],"classes":["substation"],"webhook":"`+recv.URL+`/hook"}`)
	secret, _ := sub["secret"].(string)
	if len(secret) != 64 || sub["owner"] != testActor {
		t.Fatalf("subscription %v", sub)
	}
	failing := f.subscribe(t, `{"meters":1000,"site":"energy/sub-kyiv-north","webhook":"`+recv.URL+`/always-fails"}`)
	redirected := f.subscribe(t, `{"meters":1000,"webhook":"`+recv.URL+`/redirects"}`)
	feed := follow(t, base, "?alert="+sub["id"].(string))

	// 5 km from the substation, then about 140 m from it, twice.
	far := f.post(t, "application/geo+json", strikeAt(30.4702, 50.57, moratoriumStart, `"source":"desk","event_id":"far"`), http.StatusCreated)
	near := f.post(t, "application/geo+json", strikeAt(30.4722, 50.5253, moratoriumStart, `"source":"desk","event_id":"near-1"`), http.StatusCreated)
	again := f.post(t, "application/geo+json", strikeAt(30.4682, 50.5253, moratoriumStart, `"source":"desk","event_id":"near-2"`), http.StatusCreated)

	t.Cleanup(func() {
		if t.Failed() {
			t.Log(f.logs.String())
		}
	})
	waitFor(t, func() bool { return len(recv.at("/hook")) >= 3 })
	time.Sleep(500 * time.Millisecond) // time for any delivery too many
	got := recv.at("/hook")
	if len(got) != 3 {
		t.Fatalf("%d requests to the webhook, want 3 (one retried)", len(got))
	}
	// Deliveries may be sent in any order: the first answered 500 is
	// sent again after the backoff, the other once.
	byDelivery := map[string][]received{}
	for _, g := range got {
		byDelivery[g.delivery] = append(byDelivery[g.delivery], g)
	}
	if len(byDelivery) != 2 {
		t.Fatalf("%d deliveries, want 2", len(byDelivery))
	}
	// Which delivery met the failing first answer depends on which was sent
	// first, so the strikes are checked as a set.
	delivered := map[any]int{}
	for id, tries := range byDelivery {
		var payload struct {
			Alert  string
			Strike map[string]any
			Sites  []map[string]any
		}
		if err := json.Unmarshal(tries[0].body, &payload); err != nil {
			t.Fatal(err)
		}
		delivered[payload.Strike["id"]] = len(tries)
		if payload.Alert != sub["id"] || len(payload.Sites) != 1 ||
			payload.Sites[0]["id"] != "sub-kyiv-north" || payload.Sites[0]["meters"].(float64) > 200 {
			t.Errorf("delivery %s (%d tries): %s", id, len(tries), tries[0].body)
		}
		for _, g := range tries {
			if !signed(g, secret) {
				t.Errorf("delivery %s: signature %q does not verify", id, g.signature)
			}
		}
		if len(tries) == 2 && tries[1].at.Sub(tries[0].at) < alertLimits.WebhookBackoff {
			t.Errorf("retried after %v, before the backoff", tries[1].at.Sub(tries[0].at))
		}
	}
	if tries := delivered[near["id"]] + delivered[again["id"]]; len(delivered) != 2 || tries != 3 {
		t.Errorf("deliveries by strike %v, want %v and %v, one of them tried twice", delivered, near["id"], again["id"])
	}
	// A tampered body fails the signature.
	tampered := got[0]
	tampered.body = append([]byte(" "), tampered.body...)
	if signed(tampered, secret) {
		t.Error("a tampered body verified")
	}

	// The feed filtered by the alert sends the near strikes alone.
	for _, want := range []map[string]any{near, again} {
		if ev := feed.next(t); ev.data["id"] != want["id"] {
			t.Errorf("alert feed: %v, want %v", ev.data["id"], want["id"])
		}
	}
	feed.quiet(t, 200*time.Millisecond)
	_ = far

	// Deliveries that never succeed, and a redirect not followed, end in
	// the dead letters after WebhookAttempts tries.
	waitFor(t, func() bool {
		return len(recv.at("/always-fails")) >= 2*alertLimits.WebhookAttempts && len(recv.at("/redirects")) >= 2*alertLimits.WebhookAttempts
	})
	for _, s := range []map[string]any{failing, redirected} {
		var dead []any
		waitFor(t, func() bool {
			rec := f.send(t, http.MethodGet, "/alerts/"+s["id"].(string)+"/dead-letters", "", "", true)
			dead, _ = decode(t, rec.Body.Bytes())["dead_letters"].([]any)
			return len(dead) == 2
		})
		d := dead[0].(map[string]any)
		if d["attempts"] != float64(alertLimits.WebhookAttempts) || !strings.Contains(d["last_error"].(string), "answered") {
			t.Errorf("dead letter %v", d)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(recv.at("/always-fails")); n != 2*alertLimits.WebhookAttempts {
		t.Errorf("%d attempts at two deliveries, want %d", n, 2*alertLimits.WebhookAttempts)
	}
	if n := len(recv.at("/elsewhere")); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}

	// /metrics counts what was sent: /hook 2 delivered and 1 failed (then
	// retried), the two failing subscriptions 2 deliveries x 3 attempts
	// each, all failed, 2 x 2 of them retries, 4 dead; the follower of the
	// alert's feed is connected.
	for sample, want := range map[string]float64{
		`protectmap_alert_delivery_attempts_total{result="delivered"}`: 2,
		`protectmap_alert_delivery_attempts_total{result="failed"}`:    float64(1 + 4*alertLimits.WebhookAttempts),
		`protectmap_alert_delivery_retries_total`:                      float64(1 + 4*(alertLimits.WebhookAttempts-1)),
		`protectmap_alert_dead_letters_total`:                          4,
		`protectmap_alert_deliveries{state="pending"}`:                 0,
		`protectmap_alert_deliveries{state="delivered"}`:               2,
		`protectmap_alert_deliveries{state="dead"}`:                    4,
		`protectmap_feed_clients`:                                      1,
	} {
		if got := metric(t, base, sample); got != want {
			t.Errorf("%s = %v, want %v", sample, got, want)
		}
	}
	// Labels name results and states, never a subscription or a receiver,
	// so the series stay few however many subscribe.
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if body := string(scraped); strings.Contains(body, sub["id"].(string)) || strings.Contains(body, recv.URL) {
		t.Errorf("/metrics names a subscription or its webhook:\n%s", grepLines(body, "protectmap_alert"))
	}
}

func TestAlertSubscriptions(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) {
		c.Limits, c.Context = alertLimits, ctx
		c.Limits.MaxAlertsPerOwner = 2
	})
	other := func(method, target string) int {
		req := httptest.NewRequest(method, target, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Authorization", "Bearer another-token")
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		return rec.Code
	}
	sub := f.subscribe(t, `{"meters":500,"collections":["hospitals"]}`)
	id := sub["id"].(string)
	for _, tc := range []struct {
		name, method, target string
		status               int
	}{
		{"another token's subscription is not found", http.MethodGet, "/alerts/" + id, http.StatusNotFound},
		{"nor its dead letters", http.MethodGet, "/alerts/" + id + "/dead-letters", http.StatusNotFound},
		{"nor can it be deleted", http.MethodDelete, "/alerts/" + id, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := other(tc.method, tc.target); got != tc.status {
				t.Errorf("%s %s: %d, want %d", tc.method, tc.target, got, tc.status)
			}
		})
	}
	rec := f.send(t, http.MethodGet, "/alerts", "", "", true)
	list, _ := decode(t, rec.Body.Bytes())["alerts"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["secret"] != nil {
		t.Errorf("GET /alerts: %s", rec.Body)
	}
	f.subscribe(t, `{"meters":5}`)
	if rec := f.send(t, http.MethodPost, "/alerts", "application/json", `{"meters":5}`, true); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "2 alert subscriptions already") {
		t.Errorf("a third subscription of two allowed: %d %s", rec.Code, rec.Body)
	}
	if rec := f.send(t, http.MethodGet, "/alerts", "", "", false); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /alerts without a token: %d", rec.Code)
	}
	for _, tc := range []struct{ name, body, param string }{
		{"meters missing", `{"collections":["hospitals"]}`, "meters"},
		{"meters zero", `{"meters":0}`, "meters"},
		{"meters beyond the largest radius", `{"meters":200001}`, "meters"},
		{"unknown collection", `{"meters":5,"collections":["nope"]}`, "collections[0]"},
		{"unknown site", `{"meters":5,"site":"hospitals/nope"}`, "site"},
		{"site without a collection", `{"meters":5,"site":"hosp-okhmatdyt"}`, "site"},
		{"unknown member", `{"meters":5,"radius":3}`, "body"},
		{"not JSON", `meters=5`, "body"},
		{"loopback webhook", `{"meters":5,"webhook":"http://127.0.0.1:8080/x"}`, "webhook"},
		{"private webhook", `{"meters":5,"webhook":"https://10.0.0.7/x"}`, "webhook"},
		{"metadata service webhook", `{"meters":5,"webhook":"http://169.254.169.254/latest"}`, "webhook"},
		{"mapped loopback webhook", `{"meters":5,"webhook":"http://[::ffff:127.0.0.1]/x"}`, "webhook"},
		{"webhook not http", `{"meters":5,"webhook":"file:///etc/passwd"}`, "webhook"},
		{"webhook with user information", `{"meters":5,"webhook":"https://u:p@example.org/x"}`, "webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.send(t, http.MethodPost, "/alerts", "application/json", tc.body, true)
			p := decode(t, rec.Body.Bytes())
			params, _ := p["invalid-params"].([]any)
			if rec.Code != http.StatusBadRequest || len(params) != 1 || params[0].(map[string]any)["name"] != tc.param {
				t.Errorf("%d %s, want 400 naming %s", rec.Code, rec.Body, tc.param)
			}
		})
	}
	if rec := f.send(t, http.MethodDelete, "/alerts/"+id, "", "", true); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", rec.Code, rec.Body)
	}
	if rec := f.send(t, http.MethodGet, "/alerts/"+id, "", "", true); rec.Code != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", rec.Code)
	}
	if rec := f.get(t, "/strikes/events?alert="+id); rec.Code != http.StatusBadRequest {
		t.Errorf("the feed of a deleted alert: %d", rec.Code)
	}
}
