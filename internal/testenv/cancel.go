package testenv

import (
	"context"
	"sync/atomic"
)

// CancelAfter is a context that work polls with Err: it reports
// context.Canceled from the At-th look on (never when At is 0), and counts
// the looks, so a test can see how long work went on after it was told
// to stop, in looks rather than wall time.
type CancelAfter struct {
	context.Context
	At    int64
	looks atomic.Int64
}

// NewCancelAfter is a CancelAfter on a background context that cancels at
// look at (0: never).
func NewCancelAfter(at int64) *CancelAfter {
	return &CancelAfter{Context: context.Background(), At: at}
}

// Err counts one look and reports context.Canceled from the At-th on.
func (c *CancelAfter) Err() error {
	if n := c.looks.Add(1); c.At > 0 && n >= c.At {
		return context.Canceled
	}
	return nil
}

// Looks is how many times Err was called.
func (c *CancelAfter) Looks() int64 { return c.looks.Load() }
