package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestUnavailable: errors of a database that is down or going away are
// ErrUnavailable; the request's own errors and the database's answers to
// bad statements are not.
func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", fmt.Errorf("begin: %w", refused), true},
		{"administrator shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"bad connection", driver.ErrBadConn, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"regression: a connection closed under a request", fmt.Errorf("commit: %w", pgconn.ErrConnClosed), true},
		{"a deadlock is retried, not an outage", &pgconn.PgError{Code: "40P01"}, false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"regression: a client gone is not an outage", context.Canceled, false},
		{"regression: a deadline is the request's", fmt.Errorf("query: %w", context.DeadlineExceeded), false},
		{"bad input", ErrInvalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unavailable(tt.err)
			if is := errors.Is(got, ErrUnavailable); is != tt.want {
				t.Errorf("unavailable(%v) is ErrUnavailable: %v, want %v", tt.err, is, tt.want)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("unavailable(%v) = %v, lost the cause", tt.err, got)
			}
		})
	}
}

// TestConflict: the database's deadlock and serialization failures are
// conflicts, retried; nothing else is.
func TestConflict(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "40P01"}, true},
		{fmt.Errorf("insert: %w", &pgconn.PgError{Code: "40001"}), true},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "57P01"}, false},
		{nil, false},
	} {
		if got := conflict(tt.err); got != tt.want {
			t.Errorf("conflict(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestFull: a database out of disk is ErrFull, not an outage or a 500.
func TestFull(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "53100"}, true},
		{fmt.Errorf("commit: %w", &pgconn.PgError{Code: "53100"}), true},
		{&pgconn.PgError{Code: "53300"}, false},
		{ErrUnavailable, false},
		{nil, false},
	} {
		got := unavailable(tt.err)
		if errors.Is(got, ErrFull) != tt.want || tt.want && errors.Is(got, ErrUnavailable) {
			t.Errorf("unavailable(%v) = %v, ErrFull %v", tt.err, got, tt.want)
		}
	}
}
