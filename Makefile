# protectmap: run `make help` for the targets.
GO      ?= go
BIN     := bin/protectmap
ADDR    ?= :8080
FUZZTIME ?= 30s
BENCHTIME ?= 2s

.PHONY: help run build test lint fuzz bench oracle clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## build bin/protectmap
	$(GO) build -o $(BIN) ./cmd/protectmap

run: build ## serve the embedded default data on :8080
	$(BIN) serve --addr $(ADDR)

test: ## run every test (set PROTECTMAP_REQUIRE_SHARED=1 to fail when ../shared is absent)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

lint: ## go vet and staticcheck
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	$(GO) test ./geo -run '^$$' -fuzz '^FuzzParseBBox$$' -fuzztime $(FUZZTIME)
	$(GO) test ./geo -run '^$$' -fuzz '^FuzzDecodeLayer$$' -fuzztime $(FUZZTIME)

bench: ## benchmarks over the generated 1,000,000-feature set
	$(GO) test ./geo -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 30m

oracle: ## regenerate the GeographicLib oracle figures (needs python3-geographiclib)
	/usr/bin/python3 testdata/oracle/gen.py
	/usr/bin/python3 testdata/oracle/check.py

clean: ## remove build output
	rm -rf bin
