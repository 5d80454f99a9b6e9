#!/usr/bin/env bash
# Run a README command on a fresh, stock Debian 12 machine made here: debootstrap (minbase + what a
# user brings: git, make, ca-certificates, python3) into DIR, default apt sources (main, updates,
# security), the host's extra CA certificates (a TLS proxy's), a clean clone of this repository, then
# `make run` (until JupyterLab prints its URL) or `make test`, timed. Writes a JSON record.
#
#   sudo scripts/fresh-machine.sh run|test DIR [RECORD.json]
#
# Needs root, debootstrap and Debian's mirror; nothing of the host's installs leaks in (the chroot has
# its own /usr, apt state, Go caches and venv). Takes minutes (run) or tens of minutes (test).
set -euo pipefail
what=${1:?usage: fresh-machine.sh run|test DIR [RECORD]}; dir=${2:?DIR}; record=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fresh-machine.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
base=$dir/base root=$dir/root
cleanup() { for m in dev/pts dev sys proc; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done; return 0; }
trap cleanup EXIT
t0=$(date +%s)
if [ ! -x "$base/bin/bash" ]; then
  debootstrap --variant=minbase --include=ca-certificates,make,git,python3 bookworm "$base" http://deb.debian.org/debian >"$dir/debootstrap.log" 2>&1
fi
# Every run starts from the untouched debootstrap.
cleanup; rm -rf --one-file-system "$root"; cp -a "$base" "$root"
echo "fresh-machine: Debian 12 in $root ($(( $(date +%s) - t0 )) s)"
: >"$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cp /etc/resolv.conf "$root/etc/resolv.conf"
grep -q localhost "$root/etc/hosts" 2>/dev/null || printf '127.0.0.1 localhost\n::1 localhost\n' >>"$root/etc/hosts"
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
mount -t proc proc "$root/proc"; mount --bind /sys "$root/sys"; mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
rm -rf "$root/root/retlab"
git clone -q "$src" "$root/root/retlab"
rev=$(git -C "$src" rev-parse --short HEAD)
log=$dir/make-$what.log
cat >"$root/root/fresh-$what.sh" <<'SH'
#!/bin/bash
cd /root/retlab
what=$1 log=$2
start=$(date +%s%N)
if [ "$what" = run ]; then
  # Its own session, so that stopping it stops its JupyterLab and nothing else on the host.
  setsid make run JUPYTER_ARGS="--no-browser --port 8993" >"$log" 2>&1 &
  pid=$! rc=1
  while kill -0 $pid 2>/dev/null; do
    if grep -qE "http://127.0.0.1:[0-9]+/lab" "$log"; then
      echo "SECONDS $(( ($(date +%s%N) - start) / 1000000 ))" >>"$log"
      rc=0; kill -TERM -- -$pid; sleep 3; kill -KILL -- -$pid 2>/dev/null; break
    fi
    sleep 0.2
  done
  wait $pid; echo "EXIT $rc" >>"$log"
else
  make test >"$log" 2>&1; rc=$?
  echo "SECONDS $(( ($(date +%s%N) - start) / 1000000 ))" >>"$log"; echo "EXIT $rc" >>"$log"
fi
SH
chmod +x "$root/root/fresh-$what.sh"
chroot "$root" env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  "/root/fresh-$what.sh" "$what" "/root/make-$what.log" || true
cp "$root/root/make-$what.log" "$log"
ms=$(sed -n 's/^SECONDS //p' "$log" | tail -1); rc=$(sed -n 's/^EXIT //p' "$log" | tail -1)
grep '^setup: ' "$log" || true
echo "fresh-machine: make $what: exit ${rc:-?}, ${ms:-?} ms (log $log)"
if [ -n "$record" ] && [ -n "$ms" ]; then
  python3 - "$record" "$what" "$ms" "${rc:-1}" "$rev" "$log" <<'PY'
import json, platform, re, subprocess, sys, datetime
record, what, ms, rc, rev, log = sys.argv[1:7]
steps = {}
for line in open(log, errors="replace"):
    m = re.match(r"setup: (\S+)\s+([0-9.]+) s", line)
    if m: steps[m.group(1)] = float(m.group(2))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
try: rec = json.load(open(record))
except Exception: rec = {}
rec[what] = {"seconds": round(int(ms) / 1000, 1), "exit": int(rc), "steps_s": steps, "commit": rev,
             "date": datetime.date.today().isoformat(),
             "machine": {"cpu": cpu, "cores": __import__("os").cpu_count(),
                         "mem_gib": round(int(open("/proc/meminfo").read().split()[1]) / 2**20),
                         "loadavg_at_end": open("/proc/loadavg").read().split()[:3]},
             "how": "scripts/fresh-machine.sh: debootstrap bookworm minbase + git make ca-certificates python3, "
                    "stock apt sources, clean clone; time from `make " + what + "` to " +
                    ("JupyterLab's URL" if what == "run" else "its exit") +
                    "; the machine's two cores were shared with other work when measured"}
json.dump(rec, open(record, "w"), indent=1); open(record, "a").write("\n")
PY
fi
[ "${rc:-1}" = 0 ]
