# RetLab: `make run` sets up and starts the main job, `make test` sets up and
# runs every test. Each area keeps its targets in mk/<area>.mk and adds them to
# SETUP_STEPS (installs) and TEST_STEPS (checks beyond `go test`).
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)
BIN := $(ROOT)/bin
GO ?= go
export GOFLAGS := -buildvcs=false

SETUP_STEPS :=
TEST_STEPS :=
include $(sort $(wildcard mk/*.mk))

.PHONY: help setup test test-short run
help:
	@echo "make run        set up and start the main job (see README)"
	@echo "make test       set up and run all tests (what CI runs)"
	@echo "make test-short go test -short ./... only (fast)"
	@echo "make setup      install every dependency (Debian, Go, pip venv, npm)"

setup: $(SETUP_STEPS)

test: setup
	$(MAKE) --no-print-directory test-go $(TEST_STEPS)

test-short:
	$(GO) test -short ./...
