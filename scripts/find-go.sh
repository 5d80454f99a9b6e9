#!/usr/bin/env bash
# Print the go command the Makefile uses: `go` from PATH when it can build this module (go >= 1.21
# downloads go.mod's toolchain itself through the module proxy), else BOOTSTRAP/bin/go (which
# `make setup-go` downloads when absent).
#
#   scripts/find-go.sh BOOTSTRAP
boot=${1:?usage: find-go.sh BOOTSTRAP}
if g=$(command -v go 2>/dev/null); then
  v=$(GOTOOLCHAIN=local "$g" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
  if [ -n "$v" ] && [ "$v" -ge 21 ]; then echo "$g"; exit 0; fi
fi
echo "$boot/bin/go"
