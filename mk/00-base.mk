# Debian packages, the Go toolchain and modules, the Go build of the CLI, and the Go tests.
.PHONY: setup-apt setup-apt-test setup-go build test-go fuzz-smoke
SETUP_STEPS += setup-apt setup-go
TEST_SETUP_STEPS += setup-apt-test

setup-apt:
	@scripts/step.sh apt scripts/apt-install.sh deps/apt.txt

setup-apt-test:
	@scripts/step.sh apt-test scripts/apt-install.sh deps/apt-test.txt

# The pinned toolchain (docker/install.sh's, from the Go module proxy, hash-checked)
# only when the machine has no usable go; then the modules of go.sum.
setup-go:
	@test -x "$(GO)" || scripts/step.sh go-toolchain docker/install.sh --steps go \
	  --prefix $(ROOT)/.cache/go-install --goroot $(GO_BOOTSTRAP)
	@scripts/step.sh go-modules $(GO) mod download

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
