package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The flood's clients are a process of their own (-flood-client), so
// their sockets, buffers and goroutines are not counted in the server's
// memory and do not wait in its scheduler. Each of -connections clients
// asks, on one connection at a time, the next of a list of targets, and
// reads every answer whole, timing it from the moment it set out (its
// dial included, when it had to connect) to the last byte of the body or
// the error that ended it. A refused client (503, or a connection reset
// or refused) asks again at once, as a runaway script would.

// floodPatience is the longest a flooding request may go without its
// answer or its refusal: a common patience of clients and proxies.
const floodPatience = 2 * time.Second

// outcome is how one flooding request ended.
type outcome int

const (
	answered    outcome = iota // 2xx
	shed                       // 503 with Retry-After
	serverError                // any other 5xx
	otherStatus                // any other status
	refused                    // the connection was refused or reset before an answer began
	failedRead                 // the connection failed partway through an answer
	unanswered                 // no answer or refusal within floodPatience
	outcomes
)

var outcomeNames = [outcomes]string{"2xx", "503_retry_after", "other_5xx", "other_status", "refused", "broken", "late"}

// floodResult is what the clients saw: requests and their latencies by
// outcome, microseconds.
type floodResult [outcomes][]int64

func (r *floodResult) add(o outcome, d time.Duration) { r[o] = append(r[o], d.Microseconds()) }

// floodClients runs n clients against base, asking targets in turn, for d,
// and prints the result's line (see floodResult.line).
func floodClients(base string, targetsFile string, n int, d time.Duration) error {
	raw, err := os.ReadFile(targetsFile)
	if err != nil {
		return err
	}
	var targets []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if t, ok := strings.CutPrefix(line, "GET "); ok {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 {
		return fmt.Errorf("%s: no GET targets", targetsFile)
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	results := make([]floodResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := floodClient{host: u.Host, targets: targets, next: i * 7919, result: &results[i]}
			c.run(ctx)
		}()
	}
	wg.Wait()
	var all floodResult
	for _, r := range results {
		for o := range outcomes {
			all[o] = append(all[o], r[o]...)
		}
	}
	fmt.Println(all.line(d))
	return nil
}

// floodClient is one flooding client: one connection at a time.
type floodClient struct {
	host    string
	targets []string
	next    int
	result  *floodResult
	conn    net.Conn
	r       *bufio.Reader
}

func (c *floodClient) run(ctx context.Context) {
	defer c.hangUp()
	// A request still out when the flood ends is waited for, up to its
	// patience, so one that would never be answered is counted.
	for ctx.Err() == nil {
		o, d := c.ask()
		if d > floodPatience && o != unanswered {
			o = unanswered
		}
		c.result.add(o, d)
	}
}

// ask sends the next target and reads its answer whole.
func (c *floodClient) ask() (outcome, time.Duration) {
	start := time.Now()
	since := func() time.Duration { return time.Since(start) }
	target := c.targets[c.next%len(c.targets)]
	c.next++
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.host, floodPatience)
		if err != nil {
			return c.failed(err, refused, since())
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	// Past its patience a request is given up: counted late, its
	// connection closed.
	c.conn.SetDeadline(start.Add(floodPatience)) //nolint:errcheck // a closed conn fails the write below
	if _, err := fmt.Fprintf(c.conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, c.host); err != nil {
		return c.failed(err, refused, since())
	}
	res, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return c.failed(err, refused, since())
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		return c.failed(err, failedRead, since())
	}
	if res.Close {
		c.hangUp()
	}
	switch s := res.StatusCode; {
	case s >= 200 && s <= 299:
		return answered, since()
	case s == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
		return shed, since()
	case s >= 500:
		return serverError, since()
	default:
		return otherStatus, since()
	}
}

// failed closes the connection after err and names its outcome: a time-out
// is late whatever the stage.
func (c *floodClient) failed(err error, o outcome, d time.Duration) (outcome, time.Duration) {
	c.hangUp()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return unanswered, d
	}
	return o, d
}

func (c *floodClient) hangUp() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.r = nil, nil
	}
}

// asked is how many requests a flood's result counts.
func (r result) asked() int64 {
	var n int64
	for _, name := range outcomeNames {
		n += r[name]
	}
	return n
}

var floodLine = regexp.MustCompile(`FLOOD (.*)`)

// line is the result as one parseable line: for each outcome its count,
// and the 99th percentile and slowest latency, in microseconds.
func (r *floodResult) line(d time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FLOOD duration_us=%d", d.Microseconds())
	for o := range outcomes {
		s := slices.Clone(r[o])
		slices.Sort(s)
		var p99, most int64
		if len(s) > 0 {
			p99, most = s[min(len(s)-1, len(s)*99/100)], s[len(s)-1]
		}
		fmt.Fprintf(&b, " %s=%d %s_p99_us=%d %s_max_us=%d", outcomeNames[o], len(s), outcomeNames[o], p99, outcomeNames[o], most)
	}
	return b.String()
}

// flooding is a flood under way: its clients' process and their output.
type flooding struct {
	cmd *exec.Cmd
	out io.ReadCloser
}

// startFlood starts n flooding clients of base asking the targets of the
// request lines in file, for d.
func startFlood(base, file string, n int, d time.Duration) (*flooding, error) {
	cmd, out, err := startSelf("-flood-client", file, "-flood-connections", strconv.Itoa(n), "-duration", d.String(), base)
	if err != nil {
		return nil, err
	}
	return &flooding{cmd: cmd, out: out}, nil
}

// wait waits for the flood's end and gives its result.
func (f *flooding) wait() (result, error) {
	out, err := io.ReadAll(f.out)
	if werr := f.cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("flooding clients: %v\n%s", werr, out)
	}
	if err != nil {
		return nil, err
	}
	return parseResult(floodLine, out)
}
