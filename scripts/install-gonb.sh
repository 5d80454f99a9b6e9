#!/bin/bash
# Installs GoNB (the compiled-Go Jupyter kernel the RetLab kernel is measured against) for the kernel
# benchmark only: GoNB, goimports and gopls from the Go module proxy into a bench-only GOBIN, and GoNB's
# kernelspec into a private JUPYTER_DATA_DIR, so nothing reaches the user's Jupyter or the project venv.
#
#   scripts/install-gonb.sh DIR      # DIR/bin: gonb goimports gopls; DIR/jupyter: the kernelspec "gonb"
#
# Versions are pinned (GONB_VERSION, TOOLS_VERSION, GOPLS_VERSION may override them); gopls before
# v0.18 does not build with Go 1.26 (an old x/tools tokeninternal: "invalid array length"), v0.24 needs Go 1.27.
set -euo pipefail
dir=${1:?usage: install-gonb.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
GONB_VERSION=${GONB_VERSION:-v0.11.1}
TOOLS_VERSION=${TOOLS_VERSION:-v0.47.0}
GOPLS_VERSION=${GOPLS_VERSION:-v0.23.0}
stamp="$dir/.stamp-$GONB_VERSION-$TOOLS_VERSION-$GOPLS_VERSION"
if [ ! -e "$stamp" ]; then
  export GOBIN="$dir/bin"
  # `go install gonb@version` stops on the proxy refusing gonb's version list (it asks for it to look
  # up deprecations), so: download that one version and build it as its own main module, which is
  # what go install does (gonb's go.mod has no replace directives).
  go mod download "github.com/janpfeifer/gonb@$GONB_VERSION"
  (cd "$(go env GOMODCACHE)/github.com/janpfeifer/gonb@$GONB_VERSION" && go build -mod=readonly -o "$GOBIN/gonb" .)
  go install "golang.org/x/tools/cmd/goimports@$TOOLS_VERSION"
  go install "golang.org/x/tools/gopls@$GOPLS_VERSION"
  # GoNB writes its kernelspec (kernel.json naming this gonb binary) under $JUPYTER_DATA_DIR/kernels/gonb.
  PATH="$dir/bin:$PATH" JUPYTER_DATA_DIR="$dir/jupyter" "$dir/bin/gonb" --install --logtostderr
  touch "$stamp"
fi
echo "gonb $GONB_VERSION (goimports $TOOLS_VERSION, gopls $GOPLS_VERSION) in $dir"
