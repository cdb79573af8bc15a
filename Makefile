# protectmap: run `make help` for the targets.
GO      ?= go
BIN     := bin/protectmap
ADDR    ?= :8080
FUZZTIME ?= 30s
BENCHTIME ?= 2s

.PHONY: help run build web test lint golden fuzz bench loadtest loadtest-sse loadtest-mixed loadtest-flood cost-curve bench-10m oracle clean data data-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The map app: npm packages pinned by web/package-lock.json, built by Vite
# into web/dist, which the web package embeds, so it is built before Go.
WEB_SRC := $(wildcard web/index.html web/vite.config.js web/package.json web/src/*)

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build

web: web/dist/index.html ## build the map app into web/dist (embedded by go build)

build: web ## build bin/protectmap
	$(GO) build -o $(BIN) ./cmd/protectmap

run: build ## serve the embedded default data on :8080
	$(BIN) serve --addr $(ADDR)

test: web ## run every test (set PROTECTMAP_REQUIRE_SHARED=1 to fail when ../shared is absent)
	cd web && npm test
	$(GO) vet ./...
	@# The server package alone takes about 5 minutes on a quiet machine and
	@# has taken over 20 on a busy one: the timeout stops a hang, not a slow run.
	$(GO) test -count=1 -timeout 60m ./...

# The public data sets the default layers are derived from (see data/SOURCES.md).
SHARED ?= ../shared/data

data: ## rebuild the default layers in data/ from the data sets in SHARED (default ../shared/data)
	python3 data/build/build.py $(SHARED)

data-check: ## prove the committed default layers are what the build makes from SHARED
	python3 data/build/build.py $(SHARED) --check

lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

golden: web ## rewrite the golden files in testdata/golden (TestEndpoints, TestOpenAPIDocument, TestGoldenTile) from what the code makes now
	$(GO) test -count=1 ./server -run '^(TestEndpoints|TestOpenAPIDocument)$$' -update
	$(GO) test -count=1 ./geo/tile -run '^TestGoldenTile$$' -update
	git status --short testdata/golden

# Every func FuzzXxx in a _test.go file, as "package-dir name" lines.
FUZZ_TARGETS = grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . \
	| sed -E 's@^\./(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\(.*@\1 \2@' | sort -u

fuzz: ## run every fuzz target in the tree for FUZZTIME each (default 30s)
	@# Go's fuzz coordinator can end a busy run with "context deadline exceeded"
	@# and no failing input (go.dev/issue/75804, fixed in Go 1.27): such a run is
	@# tried again, up to three times; a real failure, which writes its input to
	@# testdata/fuzz, is not.
	@$(FUZZ_TARGETS) | while read -r pkg name; do \
		echo "== ./$$pkg $$name ($(FUZZTIME))"; \
		for try in 1 2 3; do \
			$(GO) test "./$$pkg" -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) > .fuzz.log 2>&1 && { cat .fuzz.log; break; }; \
			cat .fuzz.log; \
			if [ $$try != 3 ] && grep -q 'context deadline exceeded' .fuzz.log && ! grep -q 'Failing input written' .fuzz.log; then \
				echo "== retrying $$name: the fuzzer timed out without a failing input"; continue; fi; \
			rm -f .fuzz.log; exit 1; \
		done; \
	done || { rm -f .fuzz.log; exit 1; }; rm -f .fuzz.log

bench: ## benchmarks: index, tiles and HTTP over the generated 1,000,000-feature set; strike store
	$(GO) test ./geo ./geo/geojson ./geo/agreement ./geo/tile ./server ./server/store -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m

loadtest: ## serve the generated 1,000,000-feature set on loopback and drive it with wrk (16 connections, 5 s warm-up, then 3 runs of 20 s a scenario, taking turns); fails on errors, or median items or proximity rate under 0.45 of /healthz's
	$(GO) run ./server/loadtest

loadtest-sse: ## make loadtest's runs with and without 1,000 idle live feed clients, interleaved, 3 each; prints memory per idle client, fails on a fall in throughput over 10 %
	$(GO) run ./server/loadtest -sse 1000

loadtest-mixed: ## items, proximity, tiles and strike writes at once: wrk, 64 connections, 3 x 60 s; fails on errors or memory growth
	$(GO) run ./server/loadtest -mixed

loadtest-flood: ## make loadtest-mixed's mix for 60 s while 2,000 more clients ask the largest proximity answer; fails on 5xx but 503 with Retry-After, a flooding request unanswered and unrefused after 2 s, errors in the mix, /healthz over 100 ms, or resident memory over 1.5 GiB
	$(GO) run ./server/loadtest -mixed -flood

cost-curve: ## load time, resident memory, Nearby and proximity over HTTP at 10^4 to 10^7 generated features; writes the README's table and cost-curve.svg (about 30 minutes and 4 GiB)
	$(GO) run ./server/loadtest -curve -sizes 10000,100000,1000000,10000000 -readme README.md -svg cost-curve.svg

bench-10m: ## write 10,000,000 generated features as a snapshot, then load, index and serve it in one process, once (about 8 GiB at its peak; not in CI)
	$(GO) run ./server/loadtest -curve -snapshot -sizes 10000000

oracle: ## regenerate the GeographicLib oracle figures (needs python3-geographiclib)
	/usr/bin/python3 testdata/oracle/gen.py
	/usr/bin/python3 testdata/oracle/check.py

clean: ## remove build output
	rm -rf bin
	find web/dist -mindepth 1 ! -name .gitkeep -delete
