package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/protectmap/protectmap/data"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/geo/snapshot"
	"github.com/protectmap/protectmap/geo/tile"
	"github.com/protectmap/protectmap/internal/procs"
	"github.com/protectmap/protectmap/server"
	"github.com/protectmap/protectmap/server/store"
	"github.com/protectmap/protectmap/web"
)

// The map's default online tiles: OpenStreetMap's standard layer, whose
// licence asks for this credit.
const (
	defaultTileURL         = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
	defaultTileAttribution = "© OpenStreetMap contributors"
)

const serveSynopsis = `[--addr HOST:PORT] [--data DIR] [--layer NAME=FILE]... | [--snapshot FILE] [--config FILE] [flags]

Serves the layers over HTTP. Without --data it serves the embedded default
layers; with --snapshot, the layers, agreements and data version of a
snapshot written by protectmap snapshot. It refuses to start if any layer is
broken, and says why.

Every flag can also be set by the environment variable shown beside it, or
in the settings file of --config (JSON {"addr": ":8080"} or KEY=VALUE lines
such as addr=:8080). A flag on the command line wins over the environment,
which wins over the file, which wins over the default. The settings in force
are logged at start, tokens and passwords redacted.

SIGHUP (or POST /admin/reload with a token, or with --watch a change to
the data files) loads the layers and agreements again; if they load, they
are served from the next request on, else the previous data keeps serving
and /readyz says why. SIGINT or SIGTERM stop
the server: it stops accepting, lets requests finish within
--shutdown-grace, then closes the strike store.`

func serve(args []string, stderr io.Writer) error {
	fs := newFlags("serve", serveSynopsis, stderr)
	addr := fs.String("addr", ":8080", "listen address, HOST:PORT")
	input := addDataFlags(fs)
	baseURL := fs.String("base-url", "", "public URL of the service root behind a reverse proxy, e.g. https://maps.example.org/protectmap (default: from the request and X-Forwarded-* headers)")
	tileURL := fs.String("tile-url", defaultTileURL, `raster tile URL template for the map; "" or "off" keeps the map offline on the built-in basemap. Its host is the only one the map's Content-Security-Policy allows images from`)
	tileAttribution := fs.String("tile-attribution", defaultTileAttribution, "credit shown for the tiles of --tile-url")
	corsOrigins := fs.String("cors-origins", "*", "comma-separated origins allowed to call the API from browsers (never with credentials)")
	storeDSN := fs.String("store", "protectmap.db", `strike log: a SQLite file (created if missing) or a postgres://user@host/db URL shared by several replicas; "off" serves no /strikes`)
	tokens := fs.String("tokens", "", "comma-separated bearer tokens (NAME:TOKEN or TOKEN) accepted for writes and POST /admin/reload (secret: prefer the environment or --tokens-file)")
	tokensFile := fs.String("tokens-file", "", "file of bearer tokens, one a line as NAME:TOKEN (the name is the actor in the audit log; a bare TOKEN is named token- and 8 hex digits of its SHA-256), added to --tokens")
	allowInsecure := fs.Bool("allow-insecure-tokens", false, "accept Authorization headers over plain HTTP from other machines (default: HTTPS, a trusted proxy saying X-Forwarded-Proto: https, or loopback only)")
	trustedProxies := fs.String("trusted-proxies", "127.0.0.0/8,::1", `comma-separated CIDR prefixes or addresses of the reverse proxies whose X-Forwarded-Proto, X-Forwarded-For and X-Forwarded-Host are believed; from any other peer they are ignored; "none" trusts none`)
	webhookAllow := fs.String("webhook-allow", "", `comma-separated CIDR prefixes or addresses alert webhooks may be posted to besides public addresses, such as "10.1.0.0/16" for a receiver on the internal network (loopback, private, link-local and shared addresses are refused otherwise)`)
	grace := fs.Duration("shutdown-grace", 15*time.Second, "on SIGINT or SIGTERM, how long in-flight requests get to finish")
	tileCacheMiB := fs.Int("tile-cache-mib", server.DefaultTileCacheBytes>>20, "memory for rendered vector tiles, in MiB; 0 caches none (and warms none)")
	featureCacheMiB := fs.Int("feature-cache-mib", server.DefaultFeatureCacheBytes>>20, "memory for the GeoJSON of features as first written, which answers then copy instead of writing again, in MiB; 0 keeps none")
	gzipStream := fs.Bool("gzip-stream", false, "gzip each proximity answer and items page as one stream as it is sent: about half the bytes of the default, which stitches it from features compressed once, for several times the CPU")
	warmTiles := fs.Int("warm-tiles", 6, fmt.Sprintf("render every layer's vector tiles of zooms 0 to this (at most %d) in the background at start and after each reload, so the map's first views need no rendering; 0 turns it off", tile.MaxWarmZoom))
	keepVersions := fs.Int("keep-versions", server.DefaultKeepVersions, "data versions kept in the strike store beside those any recorded verdict, a strike's current one or an earlier one in its history, was judged on: the last N served (at least 1); -1 keeps every one")
	requestLogInterval := fs.Duration("request-log-interval", 100*time.Millisecond, "write the request log's lines in one write this often (or once 64 KiB gather), where each had a write of its own, which into a pipe costs a fifth of the requests a second; a process killed outright loses at most this much of it. 0 writes each line at once")
	watch := fs.Duration("watch", 0, "check the data files this often and reload once they have changed and settled (0: only on SIGHUP or POST /admin/reload)")
	var limits server.Limits
	limitFlags(fs, &limits)
	goProcs := fs.Int("procs", procs.Default(), "processors Go runs goroutines on (GOMAXPROCS); more than the CPUs lets a request woken under load, such as a load balancer's probe, wait for the kernel's time slices rather than behind every goroutine queued before it (default: twice the CPUs, or the GOMAXPROCS environment variable)")
	set := newSettings(fs, "tokens")
	if err := set.parse(args, os.Getenv); err != nil {
		return err
	}
	if *goProcs < 1 {
		return usagef("--procs must be 1 or more, not %d", *goProcs)
	}
	if *baseURL != "" {
		if u, err := url.Parse(*baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usagef("--base-url must be an absolute http(s) URL, not %q", *baseURL)
		}
	}
	if err := input.check(); err != nil {
		return err
	}
	if *watch < 0 || *watch > 0 && len(input.files()) == 0 {
		return usagef("--watch needs a positive interval and data from files (--data, --layer, --agreements or --snapshot): the embedded data never changes")
	}
	proxies, err := server.ParseTrustedProxies(*trustedProxies)
	if err != nil {
		return usagef("--trusted-proxies: %v", err)
	}
	webhookNets, err := server.ParseTrustedProxies(*webhookAllow)
	if err != nil {
		return usagef("--webhook-allow: %v", err)
	}
	if *tileCacheMiB < 0 {
		return usagef("--tile-cache-mib must be 0 or more, not %d", *tileCacheMiB)
	}
	if *featureCacheMiB < 0 {
		return usagef("--feature-cache-mib must be 0 or more, not %d", *featureCacheMiB)
	}
	if *warmTiles < 0 || *warmTiles > tile.MaxWarmZoom {
		return usagef("--warm-tiles must be a zoom from 0 to %d, not %d", tile.MaxWarmZoom, *warmTiles)
	}
	if *keepVersions < -1 || *keepVersions == 0 {
		// The version served is always among the last served.
		return usagef("--keep-versions must be 1 or more, or -1 for all, not %d", *keepVersions)
	}
	if *requestLogInterval < 0 {
		return usagef("--request-log-interval must be 0 or more, not %v", *requestLogInterval)
	}
	if *tileURL == "off" {
		*tileURL = ""
	}
	accepted, err := readTokens(*tokens, *tokensFile)
	if err != nil {
		return err
	}
	// Without batches the request log is the log: one handler, so its
	// lines and the others never write to stderr at once.
	log := slog.New(slog.NewTextHandler(stderr, nil))
	requestLog := log
	if *requestLogInterval > 0 {
		batch := newLogBatch(stderr, *requestLogInterval)
		defer batch.Close()
		log = slog.New(slog.NewTextHandler(batch, nil))
		requestLog = slog.New(slog.NewTextHandler(batch.Requests(), nil))
	}
	log.Info("settings", set.describe()...)

	load := func(context.Context) (*server.Dataset, error) {
		d, from, err := input.load()
		if err == nil {
			log.Info("agreements loaded", "from", from, "agreements", len(d.Agreements))
		}
		return d, err
	}
	d, err := load(context.Background())
	if err != nil {
		return fmt.Errorf("not starting, the data is broken:\n%w", err)
	}
	for _, l := range d.Index.Layers() {
		log.Info("layer loaded", "layer", l.Name(), "features", l.Len(), "source", l.Source())
	}
	log.Info("data loaded", "version", d.Version, "agreements", len(d.Agreements))

	var st store.Store
	if *storeDSN != "" && *storeDSN != "off" {
		if st, err = store.Open(context.Background(), *storeDSN); err != nil {
			return fmt.Errorf("the strike store: %w", err)
		}
		defer func() {
			if err := st.Close(); err != nil {
				log.Error("closing the strike store", "err", err)
			}
		}()
		start := time.Now()
		if err := server.KeepVersion(context.Background(), st, d, *keepVersions); err != nil {
			return fmt.Errorf("keeping data version %s in the strike store: %w", d.Version, err)
		}
		log.Info("data version kept", "version", d.Version, "took", time.Since(start))
		// Strikes recorded before verdicts and the audit log were kept get
		// them now, against the data served at the upgrade.
		n, err := server.Backfill(context.Background(), st, d)
		if err != nil {
			return fmt.Errorf("the strike store: %w", err)
		}
		if n > 0 {
			log.Info("strikes back-filled with a verdict and a create event", "strikes", n, "version", d.Version)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var current atomic.Pointer[geo.Index]
	current.Store(d.Index)
	reloader := server.NewReloader(load)
	// The gate's counts, kept by the Server and reported by the handler's /metrics.
	conns := new(server.ConnStats)
	h := server.New(server.Config{
		Index:               &current,
		DataVersion:         d.Version,
		Agreements:          d.Agreements,
		Reloader:            reloader,
		Logger:              log,
		RequestLogger:       requestLog,
		BaseURL:             *baseURL,
		Web:                 web.Assets(),
		Basemap:             data.Basemap(),
		TileURL:             *tileURL,
		TileAttribution:     *tileAttribution,
		CORSOrigins:         splitList(*corsOrigins),
		Store:               st,
		Tokens:              accepted,
		AllowInsecureTokens: *allowInsecure,
		TrustedProxies:      proxies,
		WebhookAllow:        webhookNets,
		Limits:              limits,
		ConnStats:           conns,
		WarmTileZoom:        *warmTiles,
		TileCacheBytes:      cacheBytes(*tileCacheMiB),
		FeatureCacheBytes:   cacheBytes(*featureCacheMiB),
		GzipStream:          *gzipStream,
		KeepVersions:        *keepVersions,
		ProgramVersion:      programVersion(),
		// A signal ends the live feed's streams, so Shutdown need not wait
		// out the grace period for them.
		Context: ctx,
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	runtime.GOMAXPROCS(*goProcs)
	srv := server.HTTPServer(h, limits)
	srv.ConnStats = conns
	go reloadOnHangup(ctx, reloader)
	if *watch > 0 {
		files := input.files
		// The files are fingerprinted before serving: a change made once the
		// server answers is then always seen as one.
		go reloadOnChange(ctx, reloader, *watch, files, fingerprint(files()))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace", *grace)
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	// The store is closed (deferred above) only once every request that
	// could write to it has finished or the grace period is over.
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// cacheBytes is the size server.Config takes for a cache of mib MiB, where
// 0 means none.
func cacheBytes(mib int) int {
	if mib == 0 {
		return -1
	}
	return mib << 20
}

// reloadOnHangup reloads the data on every SIGHUP until ctx ends. The
// Reloader logs each outcome.
func reloadOnHangup(ctx context.Context, r *server.Reloader) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.Reload(ctx) //nolint:errcheck // logged, and reported by /readyz
		}
	}
}

// dataFlags name the data served, or judged against: the layers and the
// agreements, or a snapshot of both.
type dataFlags struct {
	dir, agreements, snapshot *string
	extra                     layerFlags
}

func addDataFlags(fs *flag.FlagSet) *dataFlags {
	f := addSourceFlags(fs)
	f.snapshot = fs.String("snapshot", "", "snapshot file written by protectmap snapshot: its layers, agreements and data version, loaded faster than GeoJSON, instead of --data, --layer and --agreements")
	return f
}

// addSourceFlags is addDataFlags without --snapshot, for the command that
// writes snapshots from the files.
func addSourceFlags(fs *flag.FlagSet) *dataFlags {
	noSnapshot := ""
	f := &dataFlags{
		dir:        fs.String("data", "", "directory whose *.geojson files are the layers, each named after its file (default: the embedded data)"),
		agreements: fs.String("agreements", "", `ceasefire agreements file, {"agreements": [...]} (default: DIR/agreements.json when --data DIR has one, else the embedded agreements)`),
		snapshot:   &noSnapshot,
	}
	fs.Var(&f.extra, "layer", "add a layer from a file, as NAME=FILE (repeatable)")
	return f
}

// check refuses a snapshot named beside the files it replaces.
func (f *dataFlags) check() error {
	if *f.snapshot != "" && (*f.dir != "" || len(f.extra) > 0 || *f.agreements != "") {
		return usagef("--snapshot holds the layers and agreements: it goes without --data, --layer and --agreements")
	}
	return nil
}

// load reads the data the flags name.
func (f *dataFlags) load() (*server.Dataset, string, error) {
	if *f.snapshot != "" {
		return loadSnapshot(*f.snapshot)
	}
	return loadDataset(*f.dir, f.extra, *f.agreements)
}

// files lists the files the data is read from, for --watch.
func (f *dataFlags) files() []string {
	if *f.snapshot != "" {
		return []string{*f.snapshot}
	}
	return dataFiles(*f.dir, f.extra, *f.agreements)
}

// loadDataset loads the layers and the agreements, checks that they fit
// each other, and names the result by a hash of every file read. from
// names where the agreements came from: --agreements, else the data
// directory's agreements.json, else the embedded agreements.
func loadDataset(dir string, extra layerFlags, agreementsFile string) (*server.Dataset, string, error) {
	r, d, err := checkedData(dir, extra, agreementsFile)
	if err != nil {
		return nil, "", err
	}
	return d, r.AgreementsFrom, nil
}

// checkedData reads the files named (readData) and checks the agreements
// against the layers, as serve and snapshot both must.
func checkedData(dir string, extra layerFlags, agreementsFile string) (rawData, *server.Dataset, error) {
	r, err := readData(dir, extra, agreementsFile)
	if err != nil {
		return r, nil, err
	}
	d, err := r.dataset()
	if err != nil && r.AgreementsFrom == embeddedAgreements && dir != "" {
		err = fmt.Errorf("%w\n(%s has no agreements.json, so the embedded agreements apply; give it one, even {\"agreements\": []}, or pass --agreements FILE)", err, dir)
	}
	return r, d, err
}

// loadSnapshot loads the data a snapshot holds, checked as loadDataset
// checks the files.
func loadSnapshot(file string) (*server.Dataset, string, error) {
	s, err := snapshot.ReadFile(file)
	if err != nil {
		return nil, "", err
	}
	// Reading leaves the file's sections of coordinates as garbage.
	debug.FreeOSMemory()
	d, err := rawData{s}.dataset()
	return d, s.AgreementsFrom, err
}

// rawData is the data as read, its agreements not yet checked against
// its layers.
type rawData struct{ *snapshot.Data }

// dataset checks the agreements against the layers; every problem names
// the agreements' file.
func (r rawData) dataset() (*server.Dataset, error) {
	ix, err := geo.NewIndex(r.Layers...)
	if err != nil {
		return nil, err
	}
	set, err := agreement.LoadAgreements(ix, r.AgreementsFrom, bytes.NewReader(r.Agreements))
	if err != nil {
		return nil, err
	}
	return &server.Dataset{Index: ix, Agreements: set.Agreements(), Version: r.Version}, nil
}

// readData reads the layers and agreements files named, and names them by a
// hash of every file read.
func readData(dir string, extra layerFlags, agreementsFile string) (rawData, error) {
	sum := sha256.New()
	ix, err := loadIndexSum(dir, extra, sum)
	if err != nil {
		return rawData{}, err
	}
	body, from := data.Agreements(), embeddedAgreements
	if agreementsFile == "" && dir != "" {
		if inData := filepath.Join(dir, "agreements.json"); fileExists(inData) {
			agreementsFile = inData
		}
	}
	if agreementsFile != "" {
		if body, err = os.ReadFile(agreementsFile); err != nil {
			return rawData{}, err
		}
		from = agreementsFile
	} else if _, ok := ix.Layer(geojson.ZonesLayer); !ok && dir != "" {
		// The embedded agreements' zones are theirs, not the directory's
		// sites: they come with them.
		if ix, err = withEmbeddedZones(ix, sum); err != nil {
			return rawData{}, err
		}
	}
	fmt.Fprintf(sum, "%s\x00", from)
	sum.Write(body)
	return rawData{&snapshot.Data{Version: hex.EncodeToString(sum.Sum(nil)[:8]), AgreementsFrom: from, Agreements: body, Layers: ix.Layers()}}, nil
}

// withEmbeddedZones is ix with the embedded zones layer added, its file
// written to sum.
func withEmbeddedZones(ix *geo.Index, sum io.Writer) (*geo.Index, error) {
	file := geojson.ZonesLayer + geojson.LayerExt
	body, err := data.Layers().ReadFile(file)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(sum, "%s (embedded)\x00", file)
	sum.Write(body)
	zones, err := geojson.DecodeLayer(geojson.ZonesLayer, file+" (embedded)", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	return geo.NewIndex(append(slices.Clone(ix.Layers()), zones)...)
}

// embeddedAgreements names the agreements built into the binary.
const embeddedAgreements = "agreements.json (embedded)"

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// readTokens gathers the bearer tokens of --tokens and --tokens-file (one a
// line, NAME:TOKEN or TOKEN; blank lines and '#' comments skipped).
func readTokens(list, file string) ([]string, error) {
	tokens := splitList(list)
	if file == "" {
		return tokens, nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, usagef("--tokens-file: %v", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" && t[0] != '#' {
			tokens = append(tokens, t)
		}
	}
	return tokens, sc.Err()
}

// limitFlags adds a flag for each of the server's limits, defaulting to
// server.DefaultLimits().
func limitFlags(fs *flag.FlagSet, l *server.Limits) {
	d := server.DefaultLimits()
	fs.DurationVar(&l.ReadHeaderTimeout, "read-header-timeout", d.ReadHeaderTimeout, "time a client has to send a request's headers (stops slowloris clients)")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", d.ReadTimeout, "time a client has to send a whole request")
	fs.DurationVar(&l.WriteTimeout, "write-timeout", d.WriteTimeout, "time to answer a request, after its headers")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", d.IdleTimeout, "how long an idle keep-alive connection stays open")
	fs.IntVar(&l.MaxNewConns, "max-new-conns", d.MaxNewConns, "connections let in and not yet answered once, each counted at most --new-conn-hold and not while its request waits for a heavy slot; more wait, first come first served, up to --new-conn-wait (default: 128 a CPU)")
	fs.DurationVar(&l.NewConnHold, "new-conn-hold", d.NewConnHold, "longest one new connection counts against --max-new-conns, so clients that connect and send nothing keep no one out for longer")
	fs.DurationVar(&l.NewConnWait, "new-conn-wait", d.NewConnWait, "longest a new connection waits to be let in (--max-new-conns) before its request is answered 503 with Retry-After")
	fs.IntVar(&l.MaxNewConnsWaiting, "max-new-conns-waiting", d.MaxNewConnsWaiting, "new connections that may wait to be let in at once; one more is closed at once, unanswered")
	fs.IntVar(&l.MaxHeaderBytes, "max-header-bytes", d.MaxHeaderBytes, "largest request headers, in bytes")
	fs.Int64Var(&l.MaxBodyBytes, "max-body-bytes", d.MaxBodyBytes, "largest request body, in bytes, but for batch proximity and strike imports, which have their own bounds (128 MiB, 64 MiB)")
	fs.DurationVar(&l.HeavyTimeout, "heavy-timeout", d.HeavyTimeout, "deadline of a heavy request (large batch proximity or strike import, report export), replacing --read-timeout and --write-timeout")
	fs.Int64Var(&l.MaxSitesInFlight, "max-sites-in-flight", d.MaxSitesInFlight, "sites that proximity, nearest and items answers being built at once may hold, each counted at its limit (about 1 KB of memory a site); beyond, 503 with Retry-After")
	fs.Int64Var(&l.MinUploadBytesPerSecond, "min-upload-rate", d.MinUploadBytesPerSecond, "slowest a heavy request's body may arrive, in bytes a second over each --min-upload-window; slower ones get 408 and free their slot")
	fs.DurationVar(&l.MinUploadWindow, "min-upload-window", d.MinUploadWindow, "time over which --min-upload-rate is measured")
	fs.IntVar(&l.MaxHeavy, "max-heavy", d.MaxHeavy, "heavy requests (large batches and imports, reports, answers of more than 2,000 sites) answered at once; more wait up to --heavy-wait for a slot, given first to the client addresses holding fewest, then get 503 with Retry-After (default: one fewer than the CPUs, at least 1)")
	fs.DurationVar(&l.HeavyWait, "heavy-wait", d.HeavyWait, "longest a heavy request waits for a slot (less a random part of up to half of it) before 503 with Retry-After")
	fs.IntVar(&l.MaxHeavyWaiting, "max-heavy-waiting", d.MaxHeavyWaiting, "heavy requests that may wait for a slot at once; more get 503 with Retry-After at once")
	fs.IntVar(&l.CPUTokens, "cpu-tokens", d.CPUTokens, "requests computing at once; every other request but /healthz, /readyz and /metrics waits for a token, parked, first come first served, up to --cpu-token-wait, so a probe waits to run behind at most this many (default: two a CPU)")
	fs.DurationVar(&l.CPUTokenWait, "cpu-token-wait", d.CPUTokenWait, "longest a request waits for a CPU token (--cpu-tokens) before 503 with Retry-After")
	fs.Float64Var(&l.RatePerSecond, "rate-limit", 0, "requests per second allowed to one client address, 429 beyond; 0 means no limit (health, readiness and metrics are never limited)")
	fs.IntVar(&l.RateBurst, "rate-burst", 0, "requests one client may send at once above --rate-limit (default: twice --rate-limit)")
	fs.DurationVar(&l.FeedHeartbeat, "feed-heartbeat", d.FeedHeartbeat, "how often a GET /strikes/events stream with nothing to send sends a comment line, for proxies")
	fs.IntVar(&l.FeedBuffer, "feed-buffer", d.FeedBuffer, "events a GET /strikes/events client may fall behind before it is dropped (it reconnects and resumes)")
	fs.DurationVar(&l.FeedWriteTimeout, "feed-write-timeout", d.FeedWriteTimeout, "time one write to a GET /strikes/events client may take before the client is dropped")
	fs.DurationVar(&l.FeedPoll, "feed-poll", d.FeedPoll, "how often the live feed reads the strike store unprompted (it is woken at once by this server's writes, and on PostgreSQL by every replica's)")
	fs.IntVar(&l.MaxFeedClients, "max-feed-clients", d.MaxFeedClients, "clients GET /strikes/events serves at once; more get 503 with Retry-After")
	fs.DurationVar(&l.WebhookTimeout, "webhook-timeout", d.WebhookTimeout, "time one alert webhook delivery may take, connecting and answer included")
	fs.IntVar(&l.WebhookAttempts, "webhook-attempts", d.WebhookAttempts, "tries of an alert webhook delivery before it goes to the subscription's dead letters")
	fs.DurationVar(&l.WebhookBackoff, "webhook-backoff", d.WebhookBackoff, "pause after an alert webhook delivery's first failure, doubling after each further one (at most an hour)")
	fs.DurationVar(&l.WebhookPoll, "webhook-poll", d.WebhookPoll, "how often deliveries due for a retry are looked for")
	fs.IntVar(&l.MaxWebhookQueue, "max-webhook-queue", d.MaxWebhookQueue, "alert webhook deliveries waiting at once; one more goes to the dead letters unsent")
	fs.IntVar(&l.MaxAlertsPerOwner, "max-alerts-per-token", d.MaxAlertsPerOwner, "alert subscriptions one token may hold")
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
