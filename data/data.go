// Package data embeds protectmap's curated default layers and the offline
// basemap: energy infrastructure, hospitals and bridges of Ukraine as RFC 7946
// GeoJSON FeatureCollections, derived by build/build.py and documented, with
// their sources and licences, in SOURCES.md.
//
// The binary holds the files gzip-compressed (FILE.gz beside each FILE, made
// by build.py) and decompresses them when they are asked for, at start: the
// energy layer takes 164 kB in the binary instead of 1.2 MB.
package data

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

//go:embed energy.geojson.gz hospitals.geojson.gz bridges.geojson.gz zones.geojson.gz
var layers embed.FS

//go:embed basemap/ukraine.geojson.gz
var basemap []byte

//go:embed agreements.json
var agreements []byte

// Layers returns the default layer files energy.geojson, hospitals.geojson,
// bridges.geojson and zones.geojson (the Black Sea corridor, the Danube
// route and the ports the Black Sea arrangement protects), decompressed
// anew on each call: call it once and keep what it returns.
func Layers() Files {
	entries, err := layers.ReadDir(".")
	if err != nil {
		panic(err) // the embedded directory always reads
	}
	files := Files{}
	for _, e := range entries {
		gz, err := layers.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		files[strings.TrimSuffix(e.Name(), ".gz")] = mustGunzip(e.Name(), gz)
	}
	return files
}

// Basemap returns the offline fallback basemap: simplified Ukrainian oblast
// outlines as a GeoJSON FeatureCollection. The bytes are the caller's.
func Basemap() []byte { return mustGunzip("basemap/ukraine.geojson.gz", basemap) }

// Agreements returns the default agreements document (see
// agreement.DecodeAgreements in geo/agreement): the March 2025 moratorium on
// strikes against energy infrastructure and the Black Sea arrangement of 25
// March 2025, each with every party's reading and its sources. The bytes
// are the caller's.
func Agreements() []byte { return bytes.Clone(agreements) }

// mustGunzip decompresses an embedded file. The copies are checked when
// they are made (build.py --check) and by this package's tests, so a
// failure here is a broken build, not bad input.
func mustGunzip(name string, gz []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err == nil {
		// The gzip trailer ends with the size, so the bytes are read once,
		// into a buffer of the right size.
		out := bytes.NewBuffer(make([]byte, 0, binary.LittleEndian.Uint32(gz[len(gz)-4:])))
		if _, err = out.ReadFrom(zr); err == nil {
			return out.Bytes()
		}
	}
	panic(fmt.Sprintf("data: embedded %s does not decompress: %v", name, err))
}

// Files is a read-only file system of one directory held in memory: file
// names to their bytes. It is an fs.ReadFileFS and an fs.ReadDirFS; the
// bytes ReadFile returns are the caller's.
type Files map[string][]byte

// Open opens a file, or "." for the directory itself.
func (f Files) Open(name string) (fs.File, error) {
	if name == "." {
		entries, _ := f.ReadDir(".")
		return &dirFile{info: fileInfo{name: ".", dir: true}, entries: entries}, nil
	}
	b, ok := f[name]
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &file{Reader: bytes.NewReader(b), info: fileInfo{name: name, size: int64(len(b))}}, nil
}

// ReadFile returns a copy of the named file's bytes.
func (f Files) ReadFile(name string) ([]byte, error) {
	b, ok := f[name]
	if !ok || !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: fs.ErrNotExist}
	}
	return bytes.Clone(b), nil
}

// ReadDir lists the files of ".", sorted by name.
func (f Files) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	slices.Sort(names)
	entries := make([]fs.DirEntry, len(names))
	for i, n := range names {
		entries[i] = fileInfo{name: n, size: int64(len(f[n]))}
	}
	return entries, nil
}

type file struct {
	*bytes.Reader
	info fileInfo
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	off     int // entries already listed
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: ".", Err: fs.ErrInvalid}
}

// ReadDir lists the next n entries (n <= 0: all that are left), as
// fs.ReadDirFile says.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return rest, nil
}

// fileInfo describes a file of Files, or its directory.
type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string               { return path.Base(i.name) }
func (i fileInfo) Size() int64                { return i.size }
func (i fileInfo) ModTime() time.Time         { return time.Time{} }
func (i fileInfo) IsDir() bool                { return i.dir }
func (i fileInfo) Sys() any                   { return nil }
func (i fileInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i fileInfo) Info() (fs.FileInfo, error) { return i, nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
