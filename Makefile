# OpsCockpit. The two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing first (Debian/Ubuntu packages via apt, Go modules).

GO      ?= go
BIN     := bin/opscockpit
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FYNE    := $(GO) run fyne.io/tools/cmd/fyne@v1.7.4
# SQLite's full-text index (FTS5) backs risk search; go-sqlite3 compiles it in with this tag.
export GOFLAGS := -tags=sqlite_fts5

.PHONY: all run build deps test-deps test vet fmt-check unit window-test bench fuzz snapshot docs package clean

all: build

## run: install what is missing, build, and open the cockpit on the embedded demo
run: build
	./$(BIN) $(ARGS)

## build: the opscockpit binary in bin/
build: deps
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/opscockpit

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh test

## test: vet, gofmt, every Go test under -race, and real-window tests under Xvfb (the demo;
## kiosk mode with a follower over a real websocket)
test: test-deps vet fmt-check unit window-test

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race -timeout 20m ./...

window-test: build
	scripts/window-smoke.sh $(BIN) $${SMOKE_SHOT:-/tmp/opscockpit-window.png}
	scripts/warroom-smoke.sh $(BIN) /tmp/opscockpit-kiosk.png /tmp/opscockpit-follower.png

## bench: every benchmark, each reporting a ratio against a baseline measured in the same run
bench: test-deps build
	xvfb-run -a -s "-screen 0 1920x1080x24" $(GO) test -run '^$$' -bench . -benchmem -benchtime 20x ./...

## fuzz: a short run of every fuzz target
fuzz: deps
	scripts/fuzz.sh

## snapshot: regenerate the README screenshot of the demo
snapshot: build
	./$(BIN) snapshot --out docs/screenshot.png --size 1920x1080 --at 5m

## docs: regenerate every screenshot in docs/ (real Prometheus, real window under Xvfb)
docs: test-deps snapshot
	OPSCOCKPIT_DOCS=1 xvfb-run -a -s "-screen 0 1920x1080x24" $(GO) test -count=1 -run 'TestDocs' -v ./cmd/opscockpit/ ./ui/

## package: a desktop package for this OS with fyne.io/tools (metadata from FyneApp.toml)
package: build
	$(FYNE) package --release --src . --executable $(BIN)

clean:
	rm -rf bin
