"""The benchmark anchor's guard and the machine description every record carries.

The reference side of every benchmark is current PyTorch from PyPI (the .venv-bench venv that
`make bench-deps` builds). A BLAS that runs generic kernels on this CPU is no anchor: Debian's
torch 1.13 on OpenBLAS 0.3.21 falls back to SSE3 ("Prescott") kernels on the project's Xeon and is
3-7x slower than MKL. check_torch() refuses (exit 2) to time such a setup unless the caller allows it,
and says what it found:

* torch.__config__.show(): BLAS_INFO (mkl, or open for OpenBLAS) and "CPU capability usage"
  (DEFAULT means ATen's own kernels are not vectorised);
* the MKL verbose banner (MKL_VERBOSE=1 in a child process) names the instruction set MKL
  dispatched to, e.g. "Intel(R) Advanced Vector Extensions 512 (Intel(R) AVX-512)";
* threadpoolctl names OpenBLAS's kernel architecture (SkylakeX, Haswell, ... or the generic
  Prescott / Core2 / Atom / Nehalem).

Import it after the thread environment is set (threads(n) does that) and before torch.
"""
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

# OpenBLAS core names that mean no AVX at all.
GENERIC_OPENBLAS = {"prescott", "core2", "atom", "nehalem", "penryn", "dunnington", "generic", "katmai",
                    "coppermine", "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat"}


def threads(n):
    """Pin every BLAS / OpenMP pool to n threads; call before importing numpy or torch.

    OPENBLAS_CORETYPE (set on some of the project's machines to force a core type) is dropped so
    that OpenBLAS picks its kernels for this CPU itself."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.pop("OPENBLAS_CORETYPE", None)


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return line.split(":", 1)[1].split()
    return []


def machine():
    """CPU model, the vector flags that decide the kernels, cores, memory, load (a shared machine)."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    flags = [f for f in cpu_flags() if re.match(r"(avx|fma|amx|f16c|sse4)", f)]
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    return {"cpu": model, "flags": sorted(flags), "cores": os.cpu_count(), "memory_bytes": mem,
            "os": platform.platform(), "load_average": list(os.getloadavg())}


def mkl_banner(python=sys.executable):
    """The first MKL_VERBOSE line of a child process's torch.mm: names MKL's dispatched ISA."""
    env = dict(os.environ, MKL_VERBOSE="1")
    code = "import torch; a = torch.ones(64, 64); a @ a"
    try:
        out = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, timeout=300).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    for line in out.splitlines():
        if line.startswith("MKL_VERBOSE") and "SGEMM" not in line:
            return line[len("MKL_VERBOSE"):].strip()
    return ""


def cpu_vendor():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    return ""


def sse_bound_gflops():
    """The most one core can do with 4-wide SSE (a mul and an add a cycle: 8 flop/cycle) at 1.4x the
    clock /proc/cpuinfo reports (room for boost): an AVX2+FMA kernel is well above it, a generic one below."""
    with open("/proc/cpuinfo") as f:
        mhz = [float(line.split(":", 1)[1]) for line in f if line.startswith("cpu MHz")]
    return 8 * 1.4 * max(mhz) / 1000 if mhz else 0.0


def mm_gflops_1thread(torch):
    """torch.mm 512^3 GFLOP/s on one thread, best of 5 (the thread count is restored)."""
    n, old = 512, torch.get_num_threads()
    torch.set_num_threads(1)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    torch.set_num_threads(old)
    return 2 * n ** 3 / best / 1e9


def check_torch(torch, allow_generic=False):
    """Describe the torch anchor; exit 2 if it would time generic kernels (unless allow_generic).

    Returns a dict for the records: versions, BLAS, ISA evidence and the thread count in use."""
    cfg = torch.__config__.show()
    blas = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    blas = blas.group(1) if blas else "?"
    cap = re.search(r"CPU capability usage: (\S+)", cfg)
    cap = cap.group(1) if cap else "?"
    info = {"torch": torch.__version__, "blas_info": blas, "cpu_capability": cap,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version()}
    try:
        import numpy
        info["numpy"] = numpy.__version__
    except ImportError:
        pass
    problems = []
    if cap.upper() in ("DEFAULT", "?"):
        problems.append(f"ATen CPU capability is {cap} (no vector kernels)")
    if blas == "mkl":
        banner = mkl_banner()
        info["mkl"] = banner
        if not re.search(r"AVX2|AVX-512|AVX512", banner):
            # On a non-Intel CPU MKL's banner says "Intel(R) Architecture processors" whichever path it
            # takes, so there the kernel is judged by its speed: above what any SSE kernel can reach.
            gflops, bound = mm_gflops_1thread(torch), sse_bound_gflops()
            info["mkl_isa_evidence"] = {"mm_512_1thread_gflops": round(gflops, 1), "sse_bound_gflops": round(bound, 1)}
            if cpu_vendor() == "GenuineIntel" or not bound or gflops <= bound:
                problems.append(f"MKL dispatches to no AVX2/AVX-512 kernels: {banner or 'no MKL_VERBOSE banner'}"
                                f" (torch.mm 512^3 on 1 thread {gflops:.1f} GFLOP/s, SSE bound {bound:.1f})")
    else:
        try:
            import threadpoolctl
            pools = [p for p in threadpoolctl.threadpool_info() if p.get("user_api") == "blas"]
        except ImportError:
            pools = []
        info["blas_pools"] = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "filepath")}
                              for p in pools]
        arch = [str(p.get("architecture", "")).lower() for p in pools]
        if not pools:
            problems.append(f"BLAS_INFO={blas} and threadpoolctl finds no BLAS to check")
        elif any(a in GENERIC_OPENBLAS for a in arch):
            problems.append(f"OpenBLAS runs generic kernels ({', '.join(arch)})")
    info["problems"] = problems
    if problems and not allow_generic:
        print("refusing to time this anchor: " + "; ".join(problems) +
              ". Use current PyTorch from PyPI: `make bench-deps`, then run with .venv-bench/bin/python.",
              file=sys.stderr)
        sys.exit(2)
    return info


def git_commit():
    """HEAD's short hash, with "+dirty" when tracked files differ from it (the timed code is then not HEAD).
    The records and the pages generated from them (docs/, README.md) do not count: `make bench-all` writes
    one record before it times the next, and the code timed is still HEAD's."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)docs", ":(exclude)README.md"], capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except OSError:
        return ""


def go_version():
    try:
        return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


# The commit (and whether the tree was dirty) when the benchmark started, which is the code it timed.
START_COMMIT = git_commit()


def machine_slug(m):
    """A file-name form of a record's machine: CPU model and vector class, e.g. intel-xeon-processor-avx512."""
    words = re.sub(r"\((r|tm)\)", "", m["cpu"].lower())
    vec = "avx512" if any(f.startswith("avx512") for f in m["flags"]) else ("avx2" if "avx2" in m["flags"] else "sse")
    return "-".join(re.findall(r"[a-z0-9]+", words)) + "-" + vec


def keep_other_machine(path, new):
    """A record measured on another CPU is not replaced but moved to records/machines/SLUG/KIND.json, so
    docs/benchmarks.md keeps every machine's last measurement (the project's machine changes between
    sessions). A record of the same machine is simply replaced."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        old = json.load(f)
    if machine_slug(old["machine"]) == machine_slug(new["machine"]):
        return
    dest = os.path.join(os.path.dirname(path), "machines", machine_slug(old["machine"]), os.path.basename(path))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    os.replace(path, dest)
    print(f"record of another machine kept: {os.path.relpath(dest)}", file=sys.stderr)


def _busy_seconds():
    """CPU seconds the whole machine has been busy (all cores: user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class OtherWork:
    """Measures what else ran on the machine during a benchmark: the machine's busy CPU time minus this
    process's and its (waited-for) children's, per wall second, in cores. Unlike the load average, the
    benchmark's own earlier steps do not count, so a quiet machine reads ~0 even right after a heavy run."""

    def __init__(self):
        self.t0, self.busy0, self.own0 = time.monotonic(), _busy_seconds(), _own_seconds()

    def cores(self):
        wall = max(time.monotonic() - self.t0, 1e-9)
        return max(0.0, ((_busy_seconds() - self.busy0) - (_own_seconds() - self.own0)) / wall)

    def fields(self):
        """Record fields: shared_machine when others used more than a tenth of a core on average."""
        c = self.cores()
        return {"other_work_cores": round(c, 3), "shared_machine": c > 0.1}


def write_record(path, kind, payload):
    """Write a benchmark record (kind, date, machine, versions + payload) as JSON, atomically."""
    rec = {"kind": kind, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(),
           "go": go_version(), "commit": START_COMMIT}
    rec.update(payload)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    keep_other_machine(path, rec)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(rec, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return rec


GO_LINE = re.compile(r"^Benchmark\w+/(\S+?)(?:-\d+)?\s.*?([\d.]+) GFLOP/s")


def go_cpu_test_binary(root):
    """Compile the CPU backend's test binary once (its benchmarks run as fresh processes)."""
    binary = os.path.join(tempfile.mkdtemp(prefix="retlab-bench-"), "cpu.test")
    subprocess.run(["go", "test", "-c", "-o", binary, "./retnet/backend/cpu"], cwd=root, check=True)
    return binary


def go_bench(binary, pattern, threads, isa, benchtime, count):
    """Best GFLOP/s per case name of one run of a Go test binary's benchmarks (a fresh process),
    GOMAXPROCS and RETLAB_THREADS = threads, RETLAB_CPU = isa (empty: the best path)."""
    env = dict(os.environ, RETLAB_THREADS=str(threads), GOMAXPROCS=str(threads))
    env.pop("RETLAB_CPU", None)
    if isa:
        env["RETLAB_CPU"] = isa
    cmd = [binary, "-test.run", "^$", "-test.bench", pattern, f"-test.benchtime={benchtime}",
           f"-test.cpu={threads}", f"-test.count={count}"]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=os.path.dirname(binary))
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}")
    out = {}
    for line in res.stdout.splitlines():
        m = GO_LINE.match(line)
        if m:
            out[m.group(1)] = max(out.get(m.group(1), 0), float(m.group(2)))
    return out


def go_supported_isas(binary):
    """The Go kernel paths this machine runs, slowest first (cpu.SupportedISAs)."""
    out = subprocess.run([binary, "-test.run", "^TestPrintBestISA$", "-test.v"], capture_output=True,
                         text=True, env=dict(os.environ, RETLAB_PRINT_ISA="1")).stdout
    m = re.search(r"supported \[([\w ]+)\]", out)
    return m.group(1).split() if m else ["generic"]


def go_peak(binary, threads):
    """GFLOP/s of the FMA-chain probe per ISA on threads threads (cpu.MeasurePeak, best of 3)."""
    return go_bench(binary, "^BenchmarkPeak$", threads, "", "1x", 3)


# Runs argv[2:] as its child and writes the child's wait4 ru_maxrss (KiB) to fd argv[1]; exits with the
# child's status. run_with_rss starts commands through it (see there).
_LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
os.write(int(sys.argv[1]), str(ru.ru_maxrss).encode())
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_with_rss(cmd, env=None, cwd=None):
    """Run cmd as a fresh process; return (stdout, peak RSS bytes of that process: wait4 ru_maxrss).

    Both sides of every comparison are measured this way: the whole process, runtime included. Linux
    keeps a process's peak RSS across exec, and a child forked from this driver starts with the driver's
    pages mapped (torch imported: 300 MB and more), so cmd is started by a small launcher (python -S,
    _LAUNCHER) that forks it and reports its ru_maxrss: what is counted beyond cmd's own memory is then
    the launcher's few MB, not the driver's."""
    r, w = os.pipe()
    rr, rw = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.close(rr)
        os.dup2(w, 1)
        os.set_inheritable(rw, True)
        if cwd:
            os.chdir(cwd)
        try:
            os.execve(sys.executable, [sys.executable, "-S", "-c", _LAUNCHER, str(rw)] + list(cmd),
                      env if env is not None else os.environ)
        finally:
            os._exit(127)
    os.close(w)
    os.close(rw)
    chunks = []
    with os.fdopen(r) as f:
        for chunk in iter(lambda: f.read(65536), ""):
            chunks.append(chunk)
    with os.fdopen(rr, "rb") as f:
        kib = f.read()
    _, status, _ = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0 or not kib:
        sys.exit(f"{' '.join(cmd)} exited with {code}")
    return "".join(chunks), int(kib) * 1024
