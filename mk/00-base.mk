# Debian packages, the Go build of the CLI, and the Go tests.
APT_PKGS_FILE := deps/apt.txt

.PHONY: setup-apt setup-go build test-go fuzz-smoke
SETUP_STEPS += setup-apt setup-go

setup-apt:
	@scripts/apt-install.sh $(APT_PKGS_FILE)

setup-go:
	$(GO) mod download

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/retlab ./cmd/retlab

# The whole Go suite (no -short: long checks included), then fuzz smoke.
test-go:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory fuzz-smoke

FUZZ_TIME ?= 15s
# Each line: package FuzzName. Every fuzz target runs FUZZ_TIME on its seed corpus and beyond.
FUZZ_TARGETS := $(shell cat deps/fuzz.txt 2>/dev/null | sed 's/ /:/')
fuzz-smoke:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZ_TIME))"; \
	  $(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$(FUZZ_TIME) -fuzzminimizetime=2s $$pkg || exit 1; done
