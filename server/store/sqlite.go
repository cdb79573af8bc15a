package store

import (
	"database/sql"
	"errors"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqlitePragmas are set on every connection: WAL so readers never wait for
// the writer; synchronous=FULL so a commit fsyncs the log and an
// acknowledged strike survives a crash or power loss; a busy timeout for
// writers in other processes; immediate transactions so a writer takes the
// lock when it begins, never failing halfway on a lock upgrade.
//
// Statement journals in memory (temp_store): each INSERT of many rows
// inside a write journals the pages it changes so that it alone can be
// undone, and in a temporary file those journals were half the pages a
// write wrote; they hold a statement's pages only until it ends. A 16 MiB page
// cache (SQLite's default is 2 MiB) holds a 1,000-strike write's pages,
// its strikes, events and verdicts, without spilling them to the log
// before the commit and reading them back.
//
// 16 KiB pages (SQLite's default is 4 KiB) for a new store, set before
// anything writes it: an event's row, its record about 2 KB, took a
// 4 KiB page of its own, two not fitting, so nearly half of every page a
// write logged was empty; 16 KiB pages hold seven. A store made before
// keeps its pages (VACUUM outside WAL mode would change them).
//
// The log is copied into the database file (a checkpoint) once it holds
// 4,000 pages, 64 MiB of 16 KiB pages, not SQLite's 1,000: a page that
// several writes change, an index's or a table's last, is copied once a
// checkpoint, and fewer checkpoints wrote 15% fewer bytes to the disk
// over a steady stream of writes.
var sqlitePragmas = url.Values{
	"_pragma": {"page_size(16384)", "busy_timeout(10000)", "synchronous(FULL)", "temp_store(MEMORY)", "cache_size(-16384)",
		"wal_autocheckpoint(" + strconv.Itoa(checkpointPages) + ")"},
	// The driver sets the journal mode after every _pragma, page_size among
	// them: switching to WAL writes a new store's first page.
	"_journal_mode": {"WAL"},
	"_txlock":       {"immediate"},
}

// checkpointPages is the length of the log, in pages, that a commit
// checkpoints past.
const checkpointPages = 4000

func openSQLite(file string) (*sqlStore, error) {
	if file == "" {
		return nil, errors.New("store: no SQLite file named")
	}
	// The driver reads everything after '?' as its parameters.
	if strings.ContainsRune(file, '?') {
		return nil, errors.New("store: a SQLite file name may not contain '?'")
	}
	db, err := sql.Open("sqlite", file+"?"+sqlitePragmas.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	return &sqlStore{db: db, backend: "sqlite", writes: new(sync.Mutex)}, nil
}
