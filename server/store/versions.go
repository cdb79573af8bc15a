package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// A data version is kept as parts (one per layer, one for the
// agreements), each cut into chunks of chunkBytes. A chunk is stored once,
// zstd-compressed, under the SHA-256 of its content: versions sharing a
// layer, or the start of one, share its chunks.
const chunkBytes = 4 << 20

// DataVersion describes one kept version of the served data.
type DataVersion struct {
	// Version is the data version, as /collections gives it.
	Version string
	// FirstServed is when a server first served it; LastServed the last
	// time one started serving it.
	FirstServed, LastServed time.Time
	// Layers are its layers with their feature counts, in order.
	Layers []VersionLayer
	// AgreementsDigest is hex SHA-256 over its agreements as stored.
	AgreementsDigest string
	// Bytes is the size of its parts, uncompressed; StoredBytes what
	// their chunks take compressed, chunks shared with other versions
	// counted in each.
	Bytes, StoredBytes int64
}

// VersionLayer is one layer of a DataVersion.
type VersionLayer struct {
	Name     string `json:"name"`
	Features int    `json:"features"`
}

// VersionPart is one named stream of a data version, written by Write.
type VersionPart struct {
	Name  string
	Write func(io.Writer) error
}

// ErrNoVersion is returned for a data version the store does not keep.
var ErrNoVersion = errors.New("store: no such data version kept")

// manifest is how a version's parts are kept: each part's chunks in order.
type manifest struct {
	Layers []VersionLayer `json:"layers"`
	Parts  []manifestPart `json:"parts"`
}

type manifestPart struct {
	Name   string   `json:"name"`
	Bytes  int64    `json:"bytes"`
	Stored int64    `json:"stored"`
	Chunks []string `json:"chunks"`
}

// MarkServed notes that version is being served from at; it reports false
// when the version is not kept (then SaveVersion keeps it).
func (s *sqlStore) MarkServed(ctx context.Context, version string, at time.Time) (bool, error) {
	r, err := s.db.ExecContext(ctx, "UPDATE data_versions SET last_served_us = "+s.param(1)+" WHERE version = "+s.param(2),
		at.UnixMicro(), version)
	if err != nil {
		return false, unavailable(err)
	}
	n, err := r.RowsAffected()
	return n > 0, unavailable(err)
}

// SaveVersion keeps v with its parts. The parts are cut into chunks in
// order while workers hash and compress chunks on every CPU, and the
// chunks are inserted in transactions of chunksPerTx: few enough commits
// that storing a large version is not a series of fsyncs, small enough
// that strike writes never wait behind a whole version. The version is
// kept once its last chunk is. Saving a version already kept changes
// nothing.
func (s *sqlStore) SaveVersion(ctx context.Context, v DataVersion, parts []VersionPart) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := max(1, runtime.GOMAXPROCS(0))
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(workers))
	if err != nil {
		return err
	}
	defer enc.Close()

	// Each chunk is sent to the workers and, in order, to the inserter,
	// which waits for it to be packed: the order of chunks is kept without
	// holding more than a few in memory.
	free := make(chan []byte, 2*workers)
	for range cap(free) {
		free <- make([]byte, chunkBytes)
	}
	toPack := make(chan *chunk, workers)
	toInsert := make(chan *chunk, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range toPack {
				sum := sha256.Sum256(c.raw)
				c.hash = hex.EncodeToString(sum[:])
				c.packed = enc.EncodeAll(c.raw, make([]byte, 0, len(c.raw)/2))
				free <- c.raw[:cap(c.raw)]
				close(c.done)
			}
		})
	}
	m := manifest{Layers: v.Layers, Parts: make([]manifestPart, len(parts))}
	for i, p := range parts {
		m.Parts[i] = manifestPart{Name: p.Name, Chunks: []string{}}
	}
	inserted := make(chan error, 1)
	go func() { inserted <- s.insertChunks(ctx, cancel, toInsert, m.Parts) }()

	err = cutChunks(ctx, parts, free, func(c *chunk) {
		toPack <- c
		toInsert <- c
	})
	close(toPack)
	close(toInsert)
	if err != nil {
		cancel(err)
	}
	wg.Wait()
	if ierr := <-inserted; err == nil {
		err = ierr
	}
	if err != nil {
		return fmt.Errorf("store: keeping data version %s: %w", v.Version, err)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	t := v.FirstServed.UnixMicro()
	_, err = s.db.ExecContext(ctx, "INSERT INTO data_versions (version, first_served_us, last_served_us, agreements_digest, manifest)"+
		" VALUES ("+s.param(1)+", "+s.param(2)+", "+s.param(3)+", "+s.param(4)+", "+s.param(5)+") ON CONFLICT (version) DO NOTHING",
		v.Version, t, t, v.AgreementsDigest, string(body))
	return unavailable(err)
}

// chunk is one chunk of a part on its way into the store.
type chunk struct {
	part int
	size int
	raw  []byte
	// hash and packed are set by a worker before it closes done.
	hash   string
	packed []byte
	done   chan struct{}
}

// chunksPerTx is how many chunks one transaction inserts.
const chunksPerTx = 8

// cutChunks runs each part's writer in turn and passes what it writes to
// send in chunks of chunkBytes (a part's last shorter), each in a buffer
// taken from free.
func cutChunks(ctx context.Context, parts []VersionPart, free chan []byte, send func(*chunk)) error {
	for i, p := range parts {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(p.Write(pw)) }()
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				pr.CloseWithError(context.Cause(ctx))
				return context.Cause(ctx)
			}
			n, err := io.ReadFull(pr, buf)
			if n > 0 {
				send(&chunk{part: i, size: n, raw: buf[:n], done: make(chan struct{})})
			} else {
				free <- buf
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			} else if err != nil {
				pr.CloseWithError(err)
				return fmt.Errorf("%s: %w", p.Name, err)
			}
		}
	}
	return nil
}

// insertChunks inserts the chunks it receives, in order, chunksPerTx to a
// transaction, and lists each in its part. After an error it stops the
// cutting with it and only drains.
func (s *sqlStore) insertChunks(ctx context.Context, stop context.CancelCauseFunc, in <-chan *chunk, parts []manifestPart) error {
	var batch []*chunk
	var err error
	flush := func() {
		if err == nil && len(batch) > 0 {
			err = s.inTx(ctx, func(tx *txn) error {
				stmt, err := tx.PrepareContext(ctx, "INSERT INTO data_chunks (hash, size, data) VALUES ("+
					s.param(1)+", "+s.param(2)+", "+s.param(3)+") ON CONFLICT (hash) DO NOTHING")
				if err != nil {
					return err
				}
				defer stmt.Close()
				for _, c := range batch {
					if _, err := stmt.ExecContext(ctx, c.hash, c.size, c.packed); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				err = unavailable(err)
				stop(err)
			}
		}
		batch = batch[:0]
	}
	for c := range in {
		<-c.done
		p := &parts[c.part]
		p.Chunks = append(p.Chunks, c.hash)
		p.Bytes += int64(c.size)
		p.Stored += int64(len(c.packed))
		if batch = append(batch, c); len(batch) == chunksPerTx {
			flush()
		}
	}
	flush()
	return err
}

// LoadVersion reads a kept version: its description, and each part in
// order, passed to read. It returns ErrNoVersion for one not kept.
func (s *sqlStore) LoadVersion(ctx context.Context, version string, read func(name string, r io.Reader) error) (DataVersion, error) {
	v, m, err := s.version(ctx, version)
	if err != nil {
		return v, err
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return v, err
	}
	defer dec.Close()
	for _, p := range m.Parts {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(s.readChunks(ctx, dec, p.Chunks, pw)) }()
		err := read(p.Name, pr)
		pr.CloseWithError(io.ErrClosedPipe) // stops the chunk reader if read returned early
		if err != nil {
			return v, fmt.Errorf("store: data version %s, %s: %w", version, p.Name, err)
		}
	}
	return v, nil
}

func (s *sqlStore) readChunks(ctx context.Context, dec *zstd.Decoder, chunks []string, w io.Writer) error {
	var out []byte
	for _, hash := range chunks {
		var packed []byte
		if err := s.db.QueryRowContext(ctx, "SELECT data FROM data_chunks WHERE hash = "+s.param(1), hash).Scan(&packed); err != nil {
			return fmt.Errorf("chunk %s: %w", hash, unavailable(err))
		}
		var err error
		if out, err = dec.DecodeAll(packed, out[:0]); err != nil {
			return fmt.Errorf("chunk %s: %w", hash, err)
		}
		if sum := sha256.Sum256(out); hex.EncodeToString(sum[:]) != hash {
			return fmt.Errorf("chunk %s does not match its hash", hash)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

const versionColumns = "version, first_served_us, last_served_us, agreements_digest, manifest"

func scanVersion(row scanner) (DataVersion, manifest, error) {
	var v DataVersion
	var m manifest
	var first, last int64
	var body string
	if err := row.Scan(&v.Version, &first, &last, &v.AgreementsDigest, &body); err != nil {
		return v, m, err
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return v, m, fmt.Errorf("store: data version %s: its manifest: %w", v.Version, err)
	}
	v.FirstServed, v.LastServed, v.Layers = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC(), m.Layers
	for _, p := range m.Parts {
		v.Bytes += p.Bytes
		v.StoredBytes += p.Stored
	}
	return v, m, nil
}

func (s *sqlStore) version(ctx context.Context, version string) (DataVersion, manifest, error) {
	v, m, err := scanVersion(s.db.QueryRowContext(ctx, "SELECT "+versionColumns+" FROM data_versions WHERE version = "+s.param(1), version))
	if errors.Is(err, sql.ErrNoRows) {
		return v, m, &LookupError{Key: version, Err: ErrNoVersion}
	}
	return v, m, unavailable(err)
}

// Versions lists the kept data versions, the most recently served first.
func (s *sqlStore) Versions(ctx context.Context) ([]DataVersion, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+versionColumns+" FROM data_versions ORDER BY last_served_us DESC, version")
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []DataVersion{}
	for rows.Next() {
		v, _, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, unavailable(rows.Err())
}

// eventVerdictVersionSQL is the data version the verdict in an audit
// event's record was judged on, NULL for a record without one.
func (s *sqlStore) eventVerdictVersionSQL() string {
	if s.backend == "postgres" {
		return "(record::jsonb -> 'verdict' ->> 'data_version')"
	}
	return "json_extract(record, '$.verdict.data_version')"
}

// PruneVersions forgets the kept versions that no recorded verdict was
// judged on, but the keepLast most recently served, then every chunk no
// version left uses. keepLast < 0 keeps every version. The verdicts are a
// strike's current one and every earlier one in the audit log, deleted
// strikes' included, so any verdict the history shows can be judged again
// on its own data. Their versions are read from the records, once per
// prune: it runs at reload, and a column filled on each write would cost
// every write for them.
func (s *sqlStore) PruneVersions(ctx context.Context, keepLast int) (int, error) {
	if keepLast < 0 {
		return 0, nil
	}
	var forgot int64
	err := s.inTx(ctx, func(tx *txn) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM data_versions WHERE version NOT IN (SELECT verdict_version FROM strikes WHERE verdict_version IS NOT NULL)
			AND version NOT IN (SELECT `+s.eventVerdictVersionSQL()+` FROM strike_events WHERE `+s.eventVerdictVersionSQL()+` IS NOT NULL)
			AND version NOT IN (SELECT version FROM data_versions ORDER BY last_served_us DESC, version LIMIT `+strconv.Itoa(keepLast)+`)`)
		if err != nil {
			return err
		}
		if forgot, err = r.RowsAffected(); err != nil || forgot == 0 {
			return err
		}
		used := map[string]bool{}
		rows, err := tx.QueryContext(ctx, "SELECT manifest FROM data_versions")
		if err != nil {
			return err
		}
		for rows.Next() {
			var body string
			var m manifest
			if err := rows.Scan(&body); err != nil {
				rows.Close()
				return err
			}
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				rows.Close()
				return err
			}
			for _, p := range m.Parts {
				for _, c := range p.Chunks {
					used[c] = true
				}
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		var unused []string
		rows, err = tx.QueryContext(ctx, "SELECT hash FROM data_chunks")
		if err != nil {
			return err
		}
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return err
			}
			if !used[h] {
				unused = append(unused, h)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, h := range unused {
			if _, err := tx.ExecContext(ctx, "DELETE FROM data_chunks WHERE hash = "+s.param(1), h); err != nil {
				return err
			}
		}
		return nil
	})
	return int(forgot), err
}
