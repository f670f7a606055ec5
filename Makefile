# Wardline: one binary (API, event stream, web app). `make run` and `make test` are all a new
# machine needs; see README.md.

GO       ?= go
BIN      := bin/wardline
DATA_DIR ?= ./data
ADDR     ?= localhost:8443
WEB_SRC  := $(shell find web/src web/public web/index.html web/package.json web/vite.config.ts -type f 2>/dev/null)

.PHONY: run build web test test-go test-web test-browser vet fuzz bench clean

## run: build everything and serve a demo organisation on an embedded SQLite data directory
run: build
	$(BIN) serve --demo --data-dir $(DATA_DIR) --addr $(ADDR)

## build: the web app, then the binary with it embedded
build: web/dist/index.html
	$(GO) build -o $(BIN) ./cmd/wardline
	$(GO) build -o bin/wardline-bench ./cmd/wardline-bench

# The registry sometimes stalls: npm retries each fetch, and the whole install is tried three times.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && for try in 1 2 3; do \
		npm ci --no-audit --no-fund --fetch-retries=5 --fetch-retry-mintimeout=2000 --fetch-timeout=120000 && break; \
		[ $$try = 3 ] && exit 1; echo "npm ci failed; trying again"; sleep 5; \
	done
	@touch $@

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && npm run build

web: web/dist/index.html

## test: vet, Go tests (services behind WARDLINE_TEST_* switches), web unit tests, browser tests
test: vet test-go test-web test-browser

vet:
	$(GO) vet ./...
	$(GO) vet -tags wardline_slowdisk ./sqlite

test-go: web/dist/index.html
	$(GO) test -race -timeout 20m ./...
	$(GO) test -tags wardline_slowdisk -run TestSyncFloor ./sqlite

test-web: web/node_modules/.package-lock.json
	cd web && npm test

test-browser: build
	@if [ -f web/e2e/run.mjs ]; then cd web && node e2e/run.mjs ../$(BIN); else echo "no browser tests yet"; fi

## fuzz: a short run of every fuzz target
fuzz:
	$(GO) test ./http -run '^$$' -fuzz FuzzDecodeJSON -fuzztime 30s
	$(GO) test ./http -run '^$$' -fuzz FuzzParseClientMessage -fuzztime 30s

## bench: the go test benchmarks (the load generator is bin/wardline-bench; see docs/PERFORMANCE.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./keyring ./audit ./app ./sqlite

clean:
	rm -rf bin web/dist/assets web/dist/index.html
