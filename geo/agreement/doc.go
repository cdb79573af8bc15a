// Package agreement holds the ceasefire rules: agreements that protect sites
// of the index's layers for a time with a buffer, and the verdict on a
// strike under them.
package agreement
