#!/usr/bin/env bash
# RetLab's install steps, in one place. Both Dockerfiles run this script, and
# CI runs it directly into a temporary prefix (make docker-ci: these machines
# have no Docker engine), so every step an image build takes is exercised.
#
#   docker/install.sh [--prefix DIR] [--user NAME] [--cuda] [--steps a,b,...]
#   docker/install.sh --help
#
# What ends up where (PREFIX defaults to /opt/retlab):
#   GOROOT                     the Go toolchain (go${GO_VERSION}); gomacro, the kernel's
#                              interpreter, asks the go command for the export data of
#                              every standard package a cell imports
#   PREFIX/cache/go-build      the Go build cache, warmed with all of std: kernel start
#                              0.3 s instead of ~26 s (shared/notes/KERNEL.md)
#   PREFIX/bin/retlab          the CLI and kernel (-tags cuda with --cuda)
#   PREFIX/venv                JupyterLab & co., pinned (deps/requirements.txt + docker/constraints.txt)
#   PREFIX/venv/share/jupyter/kernels/retlab
#                              the kernelspec; its kernel.json carries the Go environment
#                              the cache was warmed with, so the kernel finds it however
#                              Jupyter was started
#   PREFIX/share/retlab        echarts.min.js (pinned by package-lock.json) and its licence
#   PREFIX/notebooks           the repository's notebooks (the image copies them into the
#                              user's home)
#   PREFIX/bin/retlab-lab      starts JupyterLab (the image's entrypoint)
#   PREFIX/bin/retlab-healthcheck, PREFIX/env.sh
#
# Every step is idempotent: run it again and it re-checks, or redoes only what
# changed. Run `docker/install.sh --list` for the steps.
set -euo pipefail

# ---- pins -------------------------------------------------------------------
# The Go toolchain, as the Go module proxy serves it (golang.org/toolchain: the
# official release repackaged, what `GOTOOLCHAIN=go1.x.y` downloads). The
# hashes are the checksum database's (sum.golang.org, read through the proxy's
# /sumdb/ endpoint); the download is refused unless its dirhash matches.
GO_VERSION=1.26.8
GO_H1_amd64='h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM='
GO_H1_arm64='h1:sYL/O6MqS68ML0kjsQ36WoYIpJqkw60TxizWUYUKQMc='
# pip: deps/requirements.txt (what make's .venv uses) constrained by
# docker/constraints.txt (every transitive package); npm: package-lock.json;
# Go modules: go.sum; base images: digests in the Dockerfiles.

ALL_STEPS=(apt go modules warm echarts venv retlab kernel notebooks launcher check user)
# Steps that build rather than run: they need the build packages (npm, and gcc
# for --cuda) that a final image stage leaves out.
BUILD_STEPS=" go modules warm echarts retlab kernel "

usage() {
	cat <<'EOF'
usage: docker/install.sh [options]

  --prefix DIR     where everything goes (default /opt/retlab)
  --goroot DIR     the Go toolchain's directory (default /usr/local/go, or PREFIX/go when
                   /usr/local/go holds another version or cannot be written); downloaded
                   there when it lacks the pinned version
  --src DIR        the RetLab source tree (default: this script's repository)
  --python PY      the python the venv is made from (default /usr/bin/python3)
  --user NAME      the account that runs JupyterLab: created when missing (uid --uid),
                   given the notebooks and the Go cache (default: the current user)
  --uid N          uid (and gid) for a created --user (default 1000)
  --cuda           build retlab with -tags cuda against $CUDA_HOME (default /usr/local/cuda)
  --export         also install Chromium, fonts and playwright-core for PNG/PDF export
                   (Debian only; also RETLAB_EXPORT=1)
  --kernel-name N  kernelspec name (default retlab)
  --image          building an image: no pip/npm caches, apt lists removed afterwards
  --steps LIST     run only these steps (comma-separated), in the script's order
  --skip LIST      run all steps but these
  --apt-only       install the Debian packages every step needs, then stop
  --max-start S    the check step's goal for the warm kernel's start (default 1.5 s; fails at 2x)
  --list           print the steps and exit
  --print-env      print the environment a shell in the image needs (env.sh) and exit
EOF
}

die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }

PREFIX=/opt/retlab
GOROOT_DIR=
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=/usr/bin/python3
RUN_USER=$(id -un)
RUN_UID=1000
CUDA=0
EXPORT=${RETLAB_EXPORT:-0}
KERNEL_NAME=retlab
IMAGE=0
STEPS=
SKIP=
APT_ONLY=0
MAX_START=1.5
PRINT_ENV=0
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) PREFIX=${2:?--prefix needs a directory}; shift ;;
	--goroot) GOROOT_DIR=${2:?--goroot needs a directory}; shift ;;
	--src) SRC=${2:?--src needs a directory}; shift ;;
	--python) PYTHON=${2:?--python needs a program}; shift ;;
	--user) RUN_USER=${2:?--user needs a name}; shift ;;
	--uid) RUN_UID=${2:?--uid needs a number}; shift ;;
	--cuda) CUDA=1 ;;
	--export) EXPORT=1 ;;
	--kernel-name) KERNEL_NAME=${2:?--kernel-name needs a name}; shift ;;
	--image) IMAGE=1 ;;
	--steps) STEPS=${2:?--steps needs a list}; shift ;;
	--skip) SKIP=${2:?--skip needs a list}; shift ;;
	--apt-only) APT_ONLY=1 ;;
	--max-start) MAX_START=${2:?--max-start needs seconds}; shift ;;
	--list) printf '%s\n' "${ALL_STEPS[@]}"; exit 0 ;;
	--print-env) PRINT_ENV=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option $1" ;;
	esac
	shift
done
[ "$EXPORT" = 1 ] || EXPORT=0
case $RUN_UID in '' | *[!0-9]*) die "--uid wants a number, not $RUN_UID" ;; esac
PREFIX=$(realpath -m "$PREFIX")
SRC=$(realpath -e "$SRC")

# The Go toolchain's place: /usr/local/go when it holds the pinned version or
# can be made to (absent, and /usr/local writable); else PREFIX/go.
go_version_in() { [ -x "$1/bin/go" ] && env -u GOROOT -u GOFLAGS GOTOOLCHAIN=local "$1/bin/go" env GOVERSION 2>/dev/null; }
if [ -z "$GOROOT_DIR" ]; then
	GOROOT_DIR=/usr/local/go
	if [ "$(go_version_in "$GOROOT_DIR" || true)" != "go$GO_VERSION" ] && { [ -e "$GOROOT_DIR" ] || [ ! -w /usr/local ]; }; then
		GOROOT_DIR=$PREFIX/go
	fi
fi
GOROOT_DIR=$(realpath -m "$GOROOT_DIR")
GO=$GOROOT_DIR/bin/go
CACHE=$PREFIX/cache/go-build
VENV=$PREFIX/venv
SHARE=$PREFIX/share/retlab
SCRATCH=$PREFIX/.build
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}

# The kernel's Go environment: the warm step compiles with exactly this and the
# kernel step writes it into kernel.json, so the cache the kernel looks in is
# the one warmed, keyed the same way (GOFLAGS and CGO_ENABLED change the keys).
# Cells are compiled as plugins (cgo on) against the RetLab sources the kernel was
# built from, which the retlab step copies to PREFIX/src (RETLAB_SRC).
KERNEL_ENV=(GOROOT="$GOROOT_DIR" GOCACHE="$CACHE" GOTOOLCHAIN=local CGO_ENABLED=1 GOFLAGS= RETLAB_SRC="$PREFIX/src")
if [ "$EXPORT" = 1 ]; then KERNEL_ENV+=(RETLAB_NODE_MODULES="$SHARE/node_modules"); fi
# --cuda: the kernel is built with -tags cuda and cgo against the CUDA headers,
# and its cells link the same packages, so they are compiled with the same cgo
# flags (other flags would rebuild the CUDA backend, and fail without them).
if [ "$CUDA" = 1 ]; then
	KERNEL_ENV+=(CGO_CFLAGS="-I$CUDA_HOME/include" CGO_LDFLAGS="-L$CUDA_HOME/lib64/stubs -L$CUDA_HOME/lib64")
fi

# What a shell in the image needs (env.sh; the Dockerfiles' ENV says the same,
# and docker/docker_test.go checks that it does).
print_env() {
	printf 'export GOROOT=%s\n' "$GOROOT_DIR"
	printf 'export GOTOOLCHAIN=local\n'
	printf 'export RETLAB_PREFIX=%s\n' "$PREFIX"
	# shellcheck disable=SC2016 # $PATH is for env.sh to expand
	printf 'export PATH=%s/bin:%s/bin:%s/bin:$PATH\n' "$PREFIX" "$VENV" "$GOROOT_DIR"
}
if [ "$PRINT_ENV" = 1 ]; then print_env; exit 0; fi

# ---- step selection ---------------------------------------------------------
selected=()
if [ "$APT_ONLY" = 1 ]; then
	selected=(apt)
else
	for s in ${STEPS//,/ }; do
		[[ " ${ALL_STEPS[*]} " == *" $s "* ]] || die "unknown step $s (steps: ${ALL_STEPS[*]})"
	done
	for s in ${SKIP//,/ }; do
		[[ " ${ALL_STEPS[*]} " == *" $s "* ]] || die "unknown step $s (steps: ${ALL_STEPS[*]})"
	done
	for s in "${ALL_STEPS[@]}"; do
		if [ -n "$STEPS" ] && [[ ",$STEPS," != *",$s,"* ]]; then continue; fi
		if [[ ",$SKIP," == *",$s,"* ]]; then continue; fi
		selected+=("$s")
	done
fi
needs_build_packages() {
	[ "$APT_ONLY" = 1 ] && return 0
	local s
	for s in "${selected[@]}"; do [[ $BUILD_STEPS == *" $s "* ]] && return 0; done
	return 1
}

# ---- logging ----------------------------------------------------------------
step_n=0
log() { printf '    %s\n' "$*"; }
run_step() {
	local name=$1 t0
	step_n=$((step_n + 1))
	printf '\n==> [%d/%d] %s\n' "$step_n" "${#selected[@]}" "$name"
	t0=$(date +%s)
	"step_$name"
	printf '<== %s done (%d s)\n' "$name" $(($(date +%s) - t0))
}

# shellcheck disable=SC1091 # the running system's file
os_id() { (. /etc/os-release 2>/dev/null && echo "${ID:-unknown}") || echo unknown; }

# ---- steps ------------------------------------------------------------------

# apt: the Debian (or Ubuntu) packages, through the project's installer (which
# skips what is installed). Always the run-time set; the build set when a
# build step is selected.
step_apt() {
	# gcc and libc6-dev: the kernel compiles cells as plugins (cgo) at run time.
	local pkgs=(ca-certificates python3 python3-venv nodejs tini gcc libc6-dev) list
	# nodejs runs ECharts' server-side renderer: charts in notebooks carry an
	# SVG next to their HTML (what nbconvert, GitHub and untrusted notebooks show).
	if [ "$EXPORT" = 1 ]; then
		[ "$(os_id)" = debian ] || die "--export needs Debian's chromium package ($(os_id) ships it as a snap)"
		pkgs+=(chromium fonts-liberation)
	fi
	if needs_build_packages; then
		command -v npm >/dev/null || pkgs+=(npm) # another Node.js (NodeSource) may bring its own npm
	fi
	list=$(mktemp)
	printf '%s\n' "${pkgs[@]}" >"$list"
	log "packages: ${pkgs[*]}"
	"$SRC/scripts/apt-install.sh" "$list"
	rm -f "$list"
	if [ "$IMAGE" = 1 ]; then
		apt-get clean
		rm -rf /var/lib/apt/lists/*
	fi
}

# go: the pinned toolchain in GOROOT_DIR; downloaded from the Go module proxy
# and checked against the pinned hash when missing.
step_go() {
	local have arch url proxy
	have=$(go_version_in "$GOROOT_DIR" || true)
	if [ "$have" = "go$GO_VERSION" ]; then
		log "$GOROOT_DIR holds go$GO_VERSION"
		return
	fi
	[ -e "$GOROOT_DIR" ] && die "$GOROOT_DIR holds ${have:-something that is not a Go toolchain}, not go$GO_VERSION: remove it or choose --goroot"
	local h1
	case $(uname -m) in
	x86_64 | amd64) arch=amd64 h1=$GO_H1_amd64 ;;
	aarch64 | arm64) arch=arm64 h1=$GO_H1_arm64 ;;
	*) die "no pinned Go toolchain for $(uname -m)" ;;
	esac
	proxy=
	for p in $(printf '%s' "${GOPROXY:-https://proxy.golang.org}" | tr ',|' '  '); do
		case $p in http://* | https://*) proxy=${p%/}; break ;; esac
	done
	[ -n "$proxy" ] || die "GOPROXY=${GOPROXY:-} names no proxy to download the Go toolchain from"
	url=$proxy/golang.org/toolchain/@v/v0.0.1-go$GO_VERSION.linux-$arch.zip
	log "downloading $url"
	"$PYTHON" - "$url" "$h1" "$GOROOT_DIR" <<'PY'
# Download a golang.org/toolchain module zip, check its dirhash (the h1: of
# go.sum) and unpack it as a GOROOT, as cmd/go does for GOTOOLCHAIN switches:
# restore exec bits (zips do not keep them) and copy each _go.mod to go.mod.
import base64, hashlib, os, shutil, sys, tempfile, urllib.request, zipfile
url, want, dest = sys.argv[1:4]
with tempfile.TemporaryFile() as tmp:
    with urllib.request.urlopen(url, timeout=300) as r:
        shutil.copyfileobj(r, tmp, 1 << 20)
    z = zipfile.ZipFile(tmp)
    names = sorted(n for n in z.namelist() if not n.endswith("/"))
    # golang.org/x/mod/sumdb/dirhash.Hash1: sha256 over "sha256hex  name\n" lines.
    lines = "".join("%s  %s\n" % (hashlib.sha256(z.read(n)).hexdigest(), n) for n in names)
    got = "h1:" + base64.b64encode(hashlib.sha256(lines.encode()).digest()).decode()
    if got != want:
        sys.exit("install.sh: error: %s has hash %s, pinned %s: refusing it" % (url, got, want))
    top = names[0][:names[0].index("/", names[0].index("@")) + 1]  # golang.org/toolchain@v.../
    stage = dest + ".partial"
    shutil.rmtree(stage, ignore_errors=True)
    for n in names:
        rel = n[len(top):]
        if not n.startswith(top) or rel.startswith("/") or ".." in rel.split("/"):
            sys.exit("install.sh: error: unexpected path in the toolchain zip: " + n)
        path = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(n) as src, open(path, "wb") as out:
            shutil.copyfileobj(src, out)
        d, base = os.path.split(rel)
        if rel.startswith(("bin/", "pkg/tool/")) or (d.startswith("lib/") and base.startswith("go_") and base.endswith("_exec")):
            os.chmod(path, 0o755)
        if base == "_go.mod":
            shutil.copyfile(path, os.path.join(os.path.dirname(path), "go.mod"))
    os.rename(stage, dest)
print("    hash %s matches; unpacked %d files" % (got, len(names)))
PY
	have=$(go_version_in "$GOROOT_DIR" || true)
	[ "$have" = "go$GO_VERSION" ] || die "the unpacked toolchain reports '$have'"
	log "$GOROOT_DIR holds go$GO_VERSION"
}

# Build-side Go environment: the toolchain just installed, no VCS stamping
# (an image's build context has no .git), no toolchain switching.
go_build_env() { env GOROOT="$GOROOT_DIR" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false "$@"; }

# modules: the module cache for the build (go.mod/go.sum).
step_modules() {
	(cd "$SRC" && go_build_env "$GO" mod download && go_build_env "$GO" mod verify >/dev/null) ||
		die "go mod download/verify failed"
	log "$(cd "$SRC" && go_build_env "$GO" list -m all | wc -l) modules, verified against go.sum"
}

# warm: export data of every standard package, compiled into PREFIX's cache
# under the kernel's environment. gomacro asks `go list -export` for each
# package a cell imports; `go list` never trims the cache.
step_warm() {
	local n
	mkdir -p "$CACHE"
	n=$(cd "$GOROOT_DIR/src" && env "${KERNEL_ENV[@]}" "$GO" list -export -deps -f '{{if .Export}}x{{end}}' std | grep -c x)
	log "$n standard packages have export data in $CACHE ($(du -sh "$CACHE" | cut -f1))"
}

# The ECharts version package.json pins (and viz.EChartsVersion expects).
echarts_version() { "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["dependencies"]["echarts"])' "$SRC/package.json"; }

# echarts: `npm ci` of the pinned lockfile in a scratch copy (the source tree's
# node_modules stays untouched), then the asset and its licence into SHARE.
# Without --export only the production dependency (ECharts) is installed.
step_echarts() {
	local want dir omit=(--omit=dev) cache=()
	want=$(echarts_version)
	if [ "$EXPORT" = 0 ] && grep -qs "version=\"$want\"" "$SHARE/echarts.min.js"; then
		log "$SHARE/echarts.min.js is ECharts $want"
		return
	fi
	# With --export the whole lockfile (playwright-core too) stays in SHARE,
	# where kernel.json's RETLAB_NODE_MODULES points; else a scratch copy.
	mkdir -p "$SHARE" "$SCRATCH"
	if [ "$EXPORT" = 1 ]; then dir=$SHARE omit=(); else dir=$SCRATCH/npm; fi
	if [ "$IMAGE" = 1 ]; then cache=(--cache "$SCRATCH/npm-cache"); fi
	mkdir -p "$dir"
	cp "$SRC/package.json" "$SRC/package-lock.json" "$dir/"
	(cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci "${omit[@]}" "${cache[@]}" \
		--ignore-scripts --no-audit --no-fund --loglevel=error)
	local js=$dir/node_modules/echarts/dist/echarts.min.js
	grep -qs "version=\"$want\"" "$js" || die "npm ci did not install ECharts $want ($js)"
	if [ "$dir" = "$SHARE" ]; then
		ln -sf node_modules/echarts/dist/echarts.min.js "$SHARE/echarts.min.js"
	else
		cp "$js" "$SHARE/echarts.min.js"
	fi
	# Apache-2.0: the licence and notice travel with the file.
	mkdir -p "$SHARE/licenses/echarts"
	cp "$dir/node_modules/echarts/LICENSE" "$dir/node_modules/echarts/NOTICE" "$SHARE/licenses/echarts/"
	rm -rf "$SCRATCH/npm" "$SCRATCH/npm-cache"
	log "ECharts $want -> $SHARE/echarts.min.js"
}

# venv: JupyterLab and the kernel's Python clients, every package pinned. A
# plain venv (no system site packages): the image needs nothing of Debian's.
step_venv() {
	local req=$SRC/deps/requirements.txt cons=$SRC/docker/constraints.txt stamp=$VENV/.retlab-stamp want
	want=$(cat "$req" "$cons" | sha256sum | cut -d' ' -f1)-$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/jupyter-lab" ]; then
		log "$VENV is current"
		return
	fi
	[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
	local nocache=()
	[ "$IMAGE" = 1 ] && nocache=(--no-cache-dir)
	# Wheels only: every pinned package has them (Python 3.11 and 3.12, amd64
	# and arm64), so no compiler is needed and nothing is built differently.
	"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${nocache[@]}" \
		--only-binary=:all: -r "$req" -c "$cons"
	"$VENV/bin/python" -m pip check >/dev/null || die "pip check: $("$VENV/bin/python" -m pip check)"
	# The project's JupyterLab settings (no news pop-up on a first start).
	mkdir -p "$VENV/share/jupyter/lab/settings"
	cp "$SRC/deps/jupyterlab-overrides.json" "$VENV/share/jupyter/lab/settings/overrides.json"
	echo "$want" >"$stamp"
	log "$("$VENV/bin/jupyter-lab" --version | sed 's/^/JupyterLab /') in $VENV ($("$VENV/bin/python" -m pip list --format=freeze | wc -l) packages)"
}

# retlab: the CLI and kernel. CPU: cgo on (the kernel loads each cell as a
# plugin), built from the copied sources with the environment cells are built
# in. --cuda: -tags cuda with cgo against the CUDA headers and link stubs, and
# a CPU twin for the kernel step when the binary may need a GPU just to start.
step_retlab() {
	mkdir -p "$PREFIX/bin"
	# The module's sources (code and embedded files; not notebooks, test data or
	# build outputs), which cells are compiled against.
	rm -rf "$PREFIX/src.partial" && mkdir -p "$PREFIX/src.partial"
	tar -C "$SRC" --exclude=./.git --exclude=./node_modules --exclude='./.venv*' --exclude=./bin \
		--exclude=./.cache --exclude=./runs --exclude=./notebooks --exclude='*/testdata' --exclude=./docs -cf - . |
		tar -C "$PREFIX/src.partial" -xf -
	rm -rf "$PREFIX/src" && mv "$PREFIX/src.partial" "$PREFIX/src"
	log "RetLab sources for the cells in $PREFIX/src ($(du -sh "$PREFIX/src" | cut -f1))"
	if [ "$CUDA" = 1 ]; then
		[ -f "$CUDA_HOME/include/cuda.h" ] || die "--cuda: no $CUDA_HOME/include/cuda.h (set CUDA_HOME)"
		# Like the CPU build: from the copy, with the environment cells are built in.
		(cd "$PREFIX/src" && env "${KERNEL_ENV[@]}" "$GO" build -tags cuda -o "$PREFIX/bin/retlab" ./cmd/retlab)
		mkdir -p "$SCRATCH"
		(cd "$SRC" && go_build_env CGO_ENABLED=0 "$GO" build -trimpath -o "$SCRATCH/retlab-cpu" ./cmd/retlab)
		log "built $PREFIX/bin/retlab (-tags cuda) and a CPU twin for installing the kernelspec"
	else
		# cgo on: the kernel loads cells compiled as plugins.
		# Built from the copy, with the environment the kernel builds cells in.
		(cd "$PREFIX/src" && env "${KERNEL_ENV[@]}" "$GO" build -o "$PREFIX/bin/retlab" ./cmd/retlab)
		log "built $PREFIX/bin/retlab ($(du -h "$PREFIX/bin/retlab" | cut -f1))"
	fi
}

# kernel: `retlab kernel install` into the venv, then kernel.json gets the Go
# environment (KERNEL_ENV) and, for --cuda, the CUDA binary in argv.
step_kernel() {
	local installer=$PREFIX/bin/retlab display="Go (RetLab)"
	if [ "$CUDA" = 1 ]; then
		installer=$SCRATCH/retlab-cpu
		display="Go (RetLab, CUDA)"
	fi
	[ -x "$installer" ] || die "no $installer: run the retlab step first"
	[ -f "$SHARE/echarts.min.js" ] || die "no $SHARE/echarts.min.js: run the echarts step first"
	[ -x "$VENV/bin/python" ] || die "no $VENV: run the venv step first"
	env -u VIRTUAL_ENV "$installer" kernel install --sys-prefix --python "$VENV/bin/python" \
		--name "$KERNEL_NAME" --display-name "$display" --echarts "$SHARE/echarts.min.js" | sed 's/^/    /'
	local spec=$VENV/share/jupyter/kernels/$KERNEL_NAME/kernel.json
	"$VENV/bin/python" - "$spec" "$PREFIX/bin/retlab" "${KERNEL_ENV[@]}" <<'PY'
import json, sys
path, exe, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
spec = json.load(open(path))
spec["argv"][0] = exe
spec["env"] = dict(p.split("=", 1) for p in pairs)
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
    f.write("\n")
print("    kernel.json: argv[0]=%s, env %s" % (exe, " ".join(pairs)))
PY
	# What a starting kernel builds before its first cell (std for dynamic
	# linking, RetLab's packages), into the image's build cache.
	env "${KERNEL_ENV[@]}" "$installer" kernel warm 2>&1 | sed 's/^/    /'
	if [ "$CUDA" = 1 ]; then rm -f "$SCRATCH/retlab-cpu"; fi
}

# notebooks: the repository's notebooks (checkpoints left out).
step_notebooks() {
	rm -rf "$PREFIX/notebooks"
	mkdir -p "$PREFIX/notebooks"
	tar -C "$SRC/notebooks" --exclude=.ipynb_checkpoints -cf - . | tar -C "$PREFIX/notebooks" -xf -
	log "$(find "$PREFIX/notebooks" -name '*.ipynb' | wc -l) notebooks in $PREFIX/notebooks"
}

# launcher: env.sh, retlab-lab (JupyterLab with RetLab's defaults; the image's
# entrypoint; 127.0.0.1 unless installed with --image) and retlab-healthcheck (GET /api: the only unauthenticated
# endpoint, so the check needs no token).
step_launcher() {
	mkdir -p "$PREFIX/bin"
	# In an image the server must listen on the container's interfaces (a
	# published port is the only way in) and may run as root; on a machine it
	# listens on 127.0.0.1 unless RETLAB_IP says otherwise, and Jupyter's
	# refusal to run as root stands.
	local LAB_IP=127.0.0.1 LAB_ALLOW_ROOT=0
	local LAB_IP_NOTE="default 127.0.0.1 (this machine only; installed without --image)"
	local LAB_ROOT_NOTE="As root, Jupyter refuses to start unless you pass --allow-root."
	if [ "$IMAGE" = 1 ]; then
		LAB_IP=0.0.0.0 LAB_ALLOW_ROOT=1
		LAB_IP_NOTE="default 0.0.0.0 (installed with --image: the container's interfaces)"
		LAB_ROOT_NOTE="As root (docker run --user 0), --allow-root is added."
	fi
	print_env >"$PREFIX/env.sh"
	cat >"$PREFIX/bin/retlab-lab" <<EOF
#!/bin/sh
# Start JupyterLab with the RetLab kernel (written by docker/install.sh).
# Options go to jupyter lab; a first argument that is not an option is run
# instead (docker run IMAGE bash). Token authentication stays on: Jupyter
# prints the URL with its token (set JUPYTER_TOKEN to choose one).
#   RETLAB_IP: $LAB_IP_NOTE
#   RETLAB_PORT (8888), RETLAB_NOTEBOOK_DIR (\$HOME)
# $LAB_ROOT_NOTE
set -e
. "$PREFIX/env.sh"
case "\${1:-}" in
"" | -*) ;;
*) exec "\$@" ;;
esac
ip=\${RETLAB_IP:-$LAB_IP}
if [ -n "\${RETLAB_IP:-}" ]; then
	why="from RETLAB_IP"
elif [ "\$ip" = 127.0.0.1 ]; then
	why="this machine only; set RETLAB_IP=0.0.0.0 to listen on every interface"
else
	why="the image's default: every interface of the container, for its published port"
fi
echo "retlab-lab: listening on \$ip:\${RETLAB_PORT:-8888} (\$why)" >&2
if [ "\$(id -u)" = 0 ] && [ $LAB_ALLOW_ROOT = 1 ]; then set -- --allow-root "\$@"; fi
# The versions are pinned: no update checks or news feed (no calls home).
exec jupyter lab --no-browser --ip="\$ip" --port="\${RETLAB_PORT:-8888}" \\
	--ServerApp.root_dir="\${RETLAB_NOTEBOOK_DIR:-\$HOME}" \\
	--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.news_url= "\$@"
EOF
	cat >"$PREFIX/bin/retlab-healthcheck" <<EOF
#!$VENV/bin/python
"""Exit 0 when JupyterLab answers GET /api on RETLAB_PORT (default 8888)."""
import os, sys, urllib.request
url = "http://127.0.0.1:%s/api" % os.environ.get("RETLAB_PORT", "8888")
try:
    with urllib.request.urlopen(url, timeout=5) as r:
        sys.exit(0 if r.status == 200 and b"version" in r.read() else 1)
except Exception as e:
    print("retlab-healthcheck: %s: %s" % (url, e), file=sys.stderr)
    sys.exit(1)
EOF
	chmod 755 "$PREFIX/bin/retlab-lab" "$PREFIX/bin/retlab-healthcheck"
	log "wrote $PREFIX/env.sh, $PREFIX/bin/retlab-lab, $PREFIX/bin/retlab-healthcheck"
}

# check: docker/smoke.py against what the steps installed. A --cuda binary that
# cannot start without a GPU (as at `docker build`) skips the kernel runs.
step_check() {
	local args=(--prefix "$PREFIX" --kernel "$KERNEL_NAME" --echarts-version "$(echarts_version)" --max-start "$MAX_START")
	if [ "$CUDA" = 1 ] && ! "$PREFIX/bin/retlab" decay --heads 1 --len 1 >/dev/null 2>&1; then
		log "the -tags cuda retlab does not start here (no GPU?): kernel runs skipped"
		args+=(--no-kernel)
	fi
	"$VENV/bin/python" "$SRC/docker/smoke.py" "${args[@]}"
}

# user: the account JupyterLab runs as. Created when missing, with the
# notebooks in its home; it owns the Go cache (go list writes there). The
# stock 'ubuntu' account of Ubuntu images gives up uid 1000 to it.
step_user() {
	if ! id "$RUN_USER" >/dev/null 2>&1; then
		local holder
		holder=$(getent passwd "$RUN_UID" | cut -d: -f1 || true)
		if [ "$holder" = ubuntu ]; then
			log "removing the base image's unused account 'ubuntu' (uid $RUN_UID)"
			userdel --remove ubuntu 2>/dev/null || userdel ubuntu
		elif [ -n "$holder" ]; then
			die "uid $RUN_UID belongs to $holder: choose another --uid"
		fi
		getent group "$RUN_UID" >/dev/null || groupadd --gid "$RUN_UID" "$RUN_USER"
		useradd --uid "$RUN_UID" --gid "$RUN_UID" --create-home --shell /bin/bash "$RUN_USER"
		log "created user $RUN_USER (uid $RUN_UID)"
		local home
		home=$(getent passwd "$RUN_USER" | cut -d: -f6)
		if [ -d "$PREFIX/notebooks" ] && [ ! -e "$home/notebooks" ]; then
			cp -r "$PREFIX/notebooks" "$home/notebooks"
			chown -R "$RUN_USER:" "$home/notebooks"
			log "copied the notebooks to $home/notebooks"
		fi
	else
		log "user $RUN_USER exists"
	fi
	if [ -d "$CACHE" ]; then
		chown -R "$RUN_USER:" "$PREFIX/cache"
		log "$RUN_USER owns $PREFIX/cache"
	fi
}

# ---- run --------------------------------------------------------------------
if [ "${selected[*]}" != apt ]; then mkdir -p "$PREFIX"; fi
printf 'RetLab install: prefix %s, GOROOT %s, source %s%s%s\n' "$PREFIX" "$GOROOT_DIR" "$SRC" \
	"$([ "$CUDA" = 1 ] && echo ', CUDA')" "$([ "$EXPORT" = 1 ] && echo ', export tools')"
printf 'steps: %s\n' "${selected[*]}"
t_all=$(date +%s)
for s in "${selected[@]}"; do run_step "$s"; done
if [ "$IMAGE" = 1 ]; then rm -rf "$SCRATCH"; fi
printf '\nRetLab install: done in %d s\n' $(($(date +%s) - t_all))
