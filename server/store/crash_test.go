package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// crashWriterEnv names the SQLite file a re-executed test binary writes to
// until it is killed; crashRoundEnv keeps each run's keys apart.
const (
	crashWriterEnv = "PROTECTMAP_STORE_CRASH_WRITER"
	crashRoundEnv  = "PROTECTMAP_STORE_CRASH_ROUND"
)

// crashStrike is the strike recorded under key. Its content follows from
// the key, so whatever the store holds after a crash can be checked whole.
func crashStrike(key string) Strike {
	h := fnv.New64a()
	h.Write([]byte(key))
	v := h.Sum64()
	return Strike{
		Point:             orb.Point{22 + float64(v%1800)/100, 44 + float64(v/1800%900)/100},
		Time:              time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC).Add(time.Duration(v%(90*86400)) * time.Second),
		UncertaintyMeters: float64(v % 5000),
		Source:            "crash-test",
		SourceEventID:     key,
		Notes:             strings.Repeat(key+" ", 64),
		Extra:             json.RawMessage(`{"key":` + strconv.Quote(key) + `}`),
	}
}

// crashKey names strike k of batch b (of n strikes) in a round.
func crashKey(round string, b, n, k int) string {
	return fmt.Sprintf("r%s-b%d-of%d-%d", round, b, n, k)
}

// crashWriter is the process the crash test kills: it records strikes, one
// at a time with every fourth Put a batch of ten, and once Put has returned,
// the moment a server would answer 201, prints "ack" and each strike's
// id=key.
func crashWriter(file string) int {
	st, err := Open(ctx, file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	round := os.Getenv(crashRoundEnv)
	for b := 0; ; b++ {
		n := 1
		if b%4 == 3 {
			n = 10
		}
		batch := make([]Strike, n)
		keys := make([]string, n)
		for k := range batch {
			keys[k] = crashKey(round, b, n, k)
			batch[k] = crashStrike(keys[k])
		}
		res, err := st.Put(ctx, "tester", batch)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for k, r := range res {
			keys[k] = r.ID + "=" + keys[k]
		}
		fmt.Println("ack " + strings.Join(keys, " "))
	}
}

// TestCrashKeepsAcknowledgedStrikes kills a writing process with SIGKILL
// mid-stream, three times over, and checks after each restart that every
// acknowledged strike is there, every stored strike is whole, and every
// batch is all there or not at all.
func TestCrashKeepsAcknowledgedStrikes(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strikes.db")
	acked := map[string]string{} // id to key
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashWriterEnv+"="+file, crashRoundEnv+"="+strconv.Itoa(round))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		killAt := 40 + 15*round
		for n := 0; lines.Scan(); n++ {
			if n == killAt {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
			// Lines already in the pipe were printed after their Put
			// returned: they are acknowledged too.
			keys, ok := strings.CutPrefix(lines.Text(), "ack ")
			if !ok {
				t.Fatalf("writer printed %q", lines.Text())
			}
			for _, pair := range strings.Fields(keys) {
				id, key, _ := strings.Cut(pair, "=")
				acked[id] = key
			}
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.String() != "signal: killed" {
			t.Fatalf("writer ended with %v, not by SIGKILL; stderr:\n%s", err, stderr.String())
		}
		checkAfterCrash(t, file, acked)
	}
}

func checkAfterCrash(t *testing.T, file string, acked map[string]string) {
	t.Helper()
	st, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var integrity string
	if err := st.(*sqlStore).db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	for id, key := range acked {
		s, err := st.Get(ctx, id)
		if err != nil {
			t.Errorf("acknowledged strike %s (%s): %v", id, key, err)
			continue
		}
		sameContent(t, s, crashStrike(key))
	}
	stored := listAll(t, st, Query{Limit: MaxLimit})
	batches := map[string]int{}
	for _, s := range stored {
		key := s.SourceEventID
		sameContent(t, s, crashStrike(key))
		batches[key[:strings.LastIndexByte(key, '-')]]++
	}
	for batch, n := range batches {
		if want, _ := strconv.Atoi(batch[strings.LastIndex(batch, "of")+2:]); n != want {
			t.Errorf("batch %s: %d of its %d strikes stored", batch, n, want)
		}
	}
	if len(stored) < len(acked) {
		t.Errorf("%d strikes stored, %d acknowledged", len(stored), len(acked))
	}
	t.Logf("%d strikes acknowledged, %d stored (the rest committed as the writer died, before it could acknowledge them)",
		len(acked), len(stored))
}
