package store

// Decoder reads strikes one at a time from an import file, so an import of
// any size holds only the record at hand (and, to catch repeats, the source
// event ids seen).
type Decoder interface {
	// Next returns the next strike, or io.EOF after the last. A bad record
	// is a *RecordError naming line and field; Next then reads on, so every
	// problem can be reported. Input that cannot be read on (broken JSON,
	// a bad CSV header) is a *RecordError too, after which Next returns
	// io.EOF. Any other error is the reader's own.
	Next() (Strike, error)
}
