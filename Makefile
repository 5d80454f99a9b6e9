# RetLab: `make run` sets up and starts the main job, `make test` sets up and
# runs every test. Each area keeps its targets in mk/<area>.mk and adds them to
# SETUP_STEPS (installs `make run` needs: the notebooks and nothing else),
# TEST_SETUP_STEPS (installs only the tests need) and TEST_STEPS (checks beyond
# `go test`). Each set-up step prints one line with its time and the log file
# holding its output (scripts/step.sh; RETLAB_VERBOSE=1 shows it as it comes).
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
BIN := $(ROOT)/bin
# A Go toolchain that can build go.mod's version (any go >= 1.21 fetches the
# rest itself), else the pinned one that `make setup-go` downloads into .cache/go.
GO_BOOTSTRAP := $(ROOT)/.cache/go
GO ?= $(shell scripts/find-go.sh $(GO_BOOTSTRAP))
export PATH := $(dir $(GO)):$(PATH)
export GOFLAGS := -buildvcs=false
export RETLAB_SETUP_LOGS := $(ROOT)/.cache/setup-logs

SETUP_STEPS :=
TEST_SETUP_STEPS :=
TEST_STEPS :=
include $(sort $(wildcard mk/*.mk))

.PHONY: help setup setup-run test test-short run
help:
	@echo "make run        set up what the notebooks need and start JupyterLab (see README)"
	@echo "make test       set up everything the tests need and run them all (what CI runs)"
	@echo "make test-short go test -short ./... only (fast)"
	@echo "make setup-run  install what make run needs (Debian, Go, the venv with JupyterLab, npm chart assets)"
	@echo "make setup      that, plus what the tests need (Chromium, Debian's PyTorch, CUDA headers, ...)"

setup-run: $(SETUP_STEPS)
setup: setup-run $(TEST_SETUP_STEPS)

test: setup
	$(MAKE) --no-print-directory test-go $(TEST_STEPS)

test-short:
	$(GO) test -short ./...
