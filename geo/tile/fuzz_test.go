package tile

import (
	"errors"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, c := range []struct {
		name    string
		path    string
		z, x, y uint32
		err     error
	}{
		{"plain", "10/600/345", 10, 600, 345, nil},
		{"mvt extension", "10/600/345.mvt", 10, 600, 345, nil},
		{"pbf extension", "0/0/0.pbf", 0, 0, 0, nil},
		{"deepest zoom", "22/4194303/4194303", 22, 4194303, 4194303, nil},
		{"too deep", "23/0/0", 0, 0, 0, ErrOutOfRange},
		{"x beyond the matrix", "3/8/0", 0, 0, 0, ErrOutOfRange},
		{"y beyond the matrix", "3/0/8", 0, 0, 0, ErrOutOfRange},
		{"negative", "3/-1/0", 0, 0, 0, ErrBadPath},
		{"signed", "3/+1/0", 0, 0, 0, ErrBadPath},
		{"two parts", "3/1", 0, 0, 0, ErrBadPath},
		{"four parts", "3/1/1/1", 0, 0, 0, ErrBadPath},
		{"empty part", "3//1", 0, 0, 0, ErrBadPath},
		{"other extension", "3/1/1.png", 0, 0, 0, ErrBadPath},
		{"two extensions", "3/1/1.mvt.mvt", 0, 0, 0, ErrBadPath},
		{"overflow", "3/4294967296/1", 0, 0, 0, ErrBadPath},
		{"spaces", "3/ 1/1", 0, 0, 0, ErrBadPath},
	} {
		t.Run(c.name, func(t *testing.T) {
			z, x, y, err := ParsePath(c.path)
			if !errors.Is(err, c.err) || (c.err == nil && (z != c.z || x != c.x || y != c.y)) {
				t.Errorf("ParsePath(%q) = %d/%d/%d, %v; want %d/%d/%d, %v", c.path, z, x, y, err, c.z, c.x, c.y, c.err)
			}
		})
	}
}

// FuzzParsePath: any path either names a tile of the matrix or fails
// with one of the two errors, and never panics.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"10/600/345", "0/0/0.mvt", "22/4194303/0.pbf", "23/0/0", "a/b/c", "1/2", "", "//", "3/-1/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		z, x, y, err := ParsePath(path)
		if err != nil {
			if !errors.Is(err, ErrBadPath) && !errors.Is(err, ErrOutOfRange) {
				t.Fatalf("ParsePath(%q): unexpected error %v", path, err)
			}
			return
		}
		if Check(z, x, y) != nil {
			t.Fatalf("ParsePath(%q) accepted %d/%d/%d", path, z, x, y)
		}
	})
}
