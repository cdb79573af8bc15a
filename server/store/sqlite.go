package store

import (
	"database/sql"
	"errors"
	"net/url"
	"runtime"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// sqlitePragmas are set on every connection: WAL so readers never wait for
// the writer; synchronous=FULL so a commit fsyncs the log and an
// acknowledged strike survives a crash or power loss; a busy timeout for
// writers in other processes; immediate transactions so a writer takes the
// lock when it begins, never failing halfway on a lock upgrade.
var sqlitePragmas = url.Values{
	"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"},
	"_txlock": {"immediate"},
}

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
