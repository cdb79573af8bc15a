package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/web"
)

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 15 * time.Second

// The map's default online tiles: OpenStreetMap's standard layer, whose
// licence asks for this credit.
const (
	defaultTileURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	defaultTileAttribution = "© OpenStreetMap contributors"
)

func serve(args []string, stderr io.Writer) error {
	fs := newFlags("serve", "[--addr HOST:PORT] [--data DIR] [--layer NAME=FILE]...\n\nServes the layers over HTTP. Without --data it serves the embedded default\nlayers. It refuses to start if any layer is broken, and says why.", stderr)
	addr := fs.String("addr", ":8080", "listen address, HOST:PORT")
	dir := fs.String("data", "", "directory whose *.geojson files are the layers, each named after its file (default: the embedded data)")
	var extra layerFlags
	fs.Var(&extra, "layer", "add a layer from a file, as NAME=FILE (repeatable)")
	baseURL := fs.String("base-url", "", "public URL of the service root behind a reverse proxy, e.g. https://maps.example.org/protectmap (default: from the request and X-Forwarded-* headers)")
	tileURL := fs.String("tile-url", defaultTileURL, `raster tile URL template for the map; "" or "off" keeps the map offline on the built-in basemap`)
	tileAttribution := fs.String("tile-attribution", defaultTileAttribution, "credit shown for the tiles of --tile-url")
	corsOrigins := fs.String("cors-origins", "*", "comma-separated origins allowed to call the API from browsers")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *baseURL != "" {
		if u, err := url.Parse(*baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--base-url must be an absolute http(s) URL, not %q", *baseURL)
		}
	}
	if *tileURL == "off" {
		*tileURL = ""
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ix, err := loadIndex(*dir, extra)
	if err != nil {
		return fmt.Errorf("not starting, the data is broken:\n%w", err)
	}
	for _, l := range ix.Layers() {
		log.Info("layer loaded", "layer", l.Name(), "features", l.Len(), "source", l.Source())
	}
	var current atomic.Pointer[geo.Index]
	current.Store(ix)
	h := server.New(server.Config{
		Index:           &current,
		Logger:          log,
		BaseURL:         *baseURL,
		Web:             web.Assets(),
		Basemap:         data.Basemap,
		TileURL:         *tileURL,
		TileAttribution: *tileAttribution,
		CORSOrigins:     splitList(*corsOrigins),
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
