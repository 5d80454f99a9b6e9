"""Smoke test of a RetLab install made by docker/install.sh: its check step
runs this inside every image build, and CI runs it on a temporary prefix
(make docker-ci).

    python smoke.py --prefix DIR [--kernel NAME] [--echarts-version V]
                    [--max-start SECONDS] [--no-kernel]

Checks, each printed as it passes:
  1. kernelspec  `jupyter kernelspec list` of PREFIX/venv lists the kernel; it
                 runs PREFIX/bin/retlab with the Go environment in kernel.json.
  2. echarts     the kernelspec and PREFIX/share/retlab hold echarts.min.js of
                 the pinned version.
  3. go cache    `go list -export` of all std under kernel.json's environment
                 adds nothing to the cache (warm) and takes seconds, not a minute.
  4. kernel      (unless --no-kernel) the kernel starts within --max-start (best
                 of 5; fails at twice that) and runs cells through jupyter_client: Go with state,
                 RetLab's packages, a chart whose HTML inlines ECharts and
                 carries an SVG.
  5. jupyterlab  retlab-lab prints the URL with a token; retlab-healthcheck
                 passes; the API refuses requests without the token and, with
                 it, lists the kernel and (unless --no-kernel) starts it.

Everything runs with private Jupyter directories and from a scratch working
directory, so nothing of the caller's setup (a repository's node_modules, a
user kernelspec) can stand in for what the install should provide.
"""
import argparse
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def ok(what, detail):
    print("    ok  %-11s %s" % (what, detail), flush=True)


def fail(what, detail):
    print("    FAIL %-10s %s" % (what, detail), flush=True)
    sys.exit(1)


class Smoke:
    def __init__(self, a):
        self.a = a
        self.prefix = os.path.abspath(a.prefix)
        self.venv = os.path.join(self.prefix, "venv")
        self.tmp = tempfile.mkdtemp(prefix="retlab-smoke-")
        env = dict(os.environ)
        for k in ("VIRTUAL_ENV", "JUPYTER_PATH", "RETLAB_ECHARTS", "RETLAB_ECHARTS_JS", "JUPYTER_TOKEN", "GOFLAGS"):
            env.pop(k, None)
        env.update({
            "JUPYTER_DATA_DIR": os.path.join(self.tmp, "data"),
            "JUPYTER_CONFIG_DIR": os.path.join(self.tmp, "config"),
            "JUPYTER_RUNTIME_DIR": os.path.join(self.tmp, "runtime"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "JUPYTER_PREFER_ENV_PATH": "1",
            "RETLAB_KERNEL_HISTORY": "off",
            "PYTHONUNBUFFERED": "1",
            "PATH": os.pathsep.join([os.path.join(self.prefix, "bin"), os.path.join(self.venv, "bin"), env.get("PATH", "")]),
        })
        self.env = env
        os.environ.clear()
        os.environ.update(env)  # jupyter_client (imported below) reads these
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)

    # 1.
    def kernelspec(self):
        out = subprocess.run([os.path.join(self.venv, "bin", "jupyter"), "kernelspec", "list", "--json"],
                             env=self.env, cwd=self.work, capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            fail("kernelspec", "jupyter kernelspec list: %s" % out.stderr.strip())
        specs = json.loads(out.stdout)["kernelspecs"]
        ks = specs.get(self.a.kernel)
        if ks is None:
            fail("kernelspec", "%r not listed (have %s)" % (self.a.kernel, sorted(specs)))
        self.resource_dir = ks["resource_dir"]
        spec = ks["spec"]
        want_dir = os.path.join(self.venv, "share", "jupyter", "kernels", self.a.kernel)
        if os.path.realpath(self.resource_dir) != os.path.realpath(want_dir):
            fail("kernelspec", "listed from %s, not the venv's %s" % (self.resource_dir, want_dir))
        exe = os.path.join(self.prefix, "bin", "retlab")
        if spec["argv"][0] != exe or not os.access(exe, os.X_OK):
            fail("kernelspec", "argv %s does not run %s" % (spec["argv"], exe))
        self.kenv = spec.get("env") or {}
        for k in ("GOROOT", "GOCACHE", "GOTOOLCHAIN", "CGO_ENABLED"):
            if k not in self.kenv:
                fail("kernelspec", "kernel.json env lacks %s (have %s)" % (k, self.kenv))
        if not os.access(os.path.join(self.kenv["GOROOT"], "bin", "go"), os.X_OK):
            fail("kernelspec", "kernel.json GOROOT %s has no bin/go" % self.kenv["GOROOT"])
        ok("kernelspec", "%s (%s) runs %s; env %s" % (self.a.kernel, spec["display_name"], exe,
                                                      " ".join("%s=%s" % kv for kv in sorted(self.kenv.items()))))

    # 2.
    def echarts(self):
        want = 'version="%s"' % self.a.echarts_version
        for path in (os.path.join(self.resource_dir, "echarts.min.js"),
                     os.path.join(self.prefix, "share", "retlab", "echarts.min.js")):
            try:
                with open(path, encoding="utf-8") as f:
                    js = f.read()
            except OSError as e:
                fail("echarts", str(e))
            if want not in js:
                fail("echarts", "%s is not ECharts %s" % (path, self.a.echarts_version))
        ok("echarts", "ECharts %s in the kernelspec and %s (%d KiB)" % (
            self.a.echarts_version, os.path.join(self.prefix, "share", "retlab"), len(js) // 1024))

    # 3.
    def gocache(self):
        cache = self.kenv["GOCACHE"]

        def entries():
            return sum(len(files) for _, _, files in os.walk(cache))

        before = entries()
        if before == 0:
            fail("go cache", "%s is empty" % cache)
        env = dict(self.env)
        env.update(self.kenv)
        t0 = time.perf_counter()
        out = subprocess.run([os.path.join(self.kenv["GOROOT"], "bin", "go"), "list", "-export", "-deps",
                              "-f", "{{.ImportPath}} {{.Export}}", "std"],
                             env=env, cwd=os.path.join(self.kenv["GOROOT"], "src"),
                             capture_output=True, text=True, timeout=600)
        dt = time.perf_counter() - t0
        if out.returncode != 0:
            fail("go cache", "go list -export std: %s" % out.stderr.strip()[-2000:])
        n = sum(1 for l in out.stdout.splitlines() if len(l.split()) == 2)  # those with export data
        added = entries() - before
        if added or dt > 20:
            fail("go cache", "not warm: go list -export std took %.1f s and added %d cache files" % (dt, added))
        ok("go cache", "warm: export data of %d std packages in %.2f s, nothing compiled (%s)" % (n, dt, cache))

    # 4.
    def kernel(self):
        from jupyter_client.manager import KernelManager

        starts = []
        km = kc = None
        for i in range(5):
            km = KernelManager(kernel_name=self.a.kernel)
            t0 = time.perf_counter()
            km.start_kernel(cwd=self.work)
            kc = km.client()
            kc.start_channels()
            try:
                kc.wait_for_ready(timeout=120)
            except RuntimeError as e:
                fail("kernel", "did not start: %s" % e)
            starts.append(time.perf_counter() - t0)
            if i < 4:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
        # The goal is --max-start on an idle machine; a loaded one (CI shares
        # its cores) fails only at twice the goal, still far below a cold
        # cache's ~26 s. Check 3 is the exact test of the cache.
        best, seq = min(starts), ", ".join("%.2f" % s for s in starts)
        if best > 2 * self.a.max_start:
            fail("kernel", "start %.2f s (best of %s) exceeds twice the %.1f s goal: is the Go cache warm?" % (
                best, seq, self.a.max_start))
        ok("kernel", "start %.2f s (best of 5: %s); goal %.1f s met: %s" % (
            best, seq, self.a.max_start, "yes" if best <= self.a.max_start else "no (a loaded machine?)"))
        try:
            got = self.run_cell(kc, 'import (\n\t"fmt"\n\t"strings"\n)\n\nx := strings.Repeat("ab", 2)')
            got = self.run_cell(kc, 'fmt.Sprint(x, 6*7)')
            if "abab42" not in got.get("text/plain", ""):
                fail("kernel", "cell result %r, want abab42" % got)
            ok("kernel", "Go cells keep state: %s" % got["text/plain"].strip())
            got = self.run_cell(kc, 'import "github.com/retlab/retlab/retnet"\nimport "github.com/retlab/retlab/viz"\n\n'
                                    'viz.DecayProfiles(retnet.Gammas(retnet.ScheduleTorchscale, 4), viz.ProfileOptions{})')
            html = got.get("text/html", "")
            if 'version="%s"' % self.a.echarts_version not in html:
                fail("kernel", "the chart's HTML does not inline ECharts %s: %s" % (self.a.echarts_version, html[:400]))
            if "<svg" not in got.get("image/svg+xml", ""):
                fail("kernel", "the chart has no image/svg+xml (node and ECharts found?); has %s" % sorted(got))
            ok("kernel", "a viz chart renders: %s (HTML %d KiB with ECharts inlined, SVG %d KiB)" % (
                got.get("text/plain", "").strip()[:60], len(html) // 1024, len(got["image/svg+xml"]) // 1024))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    @staticmethod
    def run_cell(kc, code):
        data = {}
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda m: Smoke._collect(m, data))
        if reply["content"]["status"] != "ok":
            fail("kernel", "cell %r: %s %s" % (code, reply["content"].get("ename"), reply["content"].get("evalue")))
        return data

    @staticmethod
    def _collect(msg, data):
        if msg["msg_type"] in ("execute_result", "display_data"):
            data.update(msg["content"]["data"])
        elif msg["msg_type"] == "error":
            data["error"] = msg["content"].get("evalue", "")

    # 5.
    def jupyterlab(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(self.env, RETLAB_IP="127.0.0.1", RETLAB_PORT=str(port),
                   RETLAB_NOTEBOOK_DIR=os.path.join(self.prefix, "notebooks"))
        # Outside the image the launcher never adds --allow-root itself (issue 16):
        # as root, the smoke test passes it, as a user would.
        args = ["--allow-root"] if os.geteuid() == 0 else []
        proc = subprocess.Popen([os.path.join(self.prefix, "bin", "retlab-lab")] + args, env=env, cwd=self.work,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        lines = queue.Queue()
        log = []
        threading.Thread(target=lambda: [lines.put(l) for l in proc.stdout], daemon=True).start()
        try:
            url = None
            deadline = time.time() + 90
            while url is None and time.time() < deadline:
                try:
                    line = lines.get(timeout=1)
                except queue.Empty:
                    if proc.poll() is not None:
                        break
                    continue
                log.append(line)
                m = re.search(r"(http://127\.0\.0\.1:%d/lab\?token=([0-9a-f]+))" % port, line)
                if m:
                    url, token = m.group(1), m.group(2)
            if url is None:
                fail("jupyterlab", "no URL with a token within 90 s; output:\n%s" % "".join(log)[-3000:])
            ok("jupyterlab", "retlab-lab printed %s..." % url[:url.index("token=") + 10])
            hc = subprocess.run([os.path.join(self.prefix, "bin", "retlab-healthcheck")], env=env,
                                capture_output=True, text=True, timeout=30)
            if hc.returncode != 0:
                fail("jupyterlab", "retlab-healthcheck failed: %s" % hc.stderr.strip())
            base = "http://127.0.0.1:%d" % port
            status, _ = self.http(base + "/api/kernelspecs")
            if status != 403:
                fail("jupyterlab", "GET /api/kernelspecs without the token gave %d, want 403 (auth off?)" % status)
            status, body = self.http(base + "/api/kernelspecs", token)
            if status != 200 or self.a.kernel not in json.loads(body)["kernelspecs"]:
                fail("jupyterlab", "GET /api/kernelspecs with the token: %d %s" % (status, body[:300]))
            ok("jupyterlab", "healthcheck passes; the API wants the token (403 without) and lists %s" % self.a.kernel)
            if self.a.no_kernel:
                return
            status, body = self.http(base + "/api/kernels", token, "POST", {"name": self.a.kernel})
            if status != 201:
                fail("jupyterlab", "POST /api/kernels: %d %s" % (status, body[:300]))
            kid = json.loads(body)["id"]
            try:
                got = self.ws_execute(port, token, kid, "6 * 7")
            finally:
                self.http(base + "/api/kernels/" + kid, token, "DELETE")
            if got.strip() != "42":
                fail("jupyterlab", "a cell through the server's websocket gave %r, want 42; server output:\n%s" % (
                    got, "".join(log)[-3000:]))
            ok("jupyterlab", "the server started %s; a cell sent over its websocket (as JupyterLab does) gave 42" % self.a.kernel)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()

    @staticmethod
    def ws_execute(port, token, kid, code):
        """Run code in a server-side kernel through /api/kernels/ID/channels,
        the websocket JupyterLab uses; return the text/plain result."""
        import uuid

        import websocket  # websocket-client, a jupyter_server dependency

        ws = websocket.create_connection("ws://127.0.0.1:%d/api/kernels/%s/channels" % (port, kid),
                                         header=["Authorization: token " + token], timeout=60)
        try:
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "smoke",
                           "session": uuid.uuid4().hex, "date": "", "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True},
            }))
            result, deadline = None, time.time() + 60
            while time.time() < deadline:
                m = json.loads(ws.recv())
                if m.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if m["msg_type"] == "execute_result":
                    result = m["content"]["data"].get("text/plain", "")
                elif m["msg_type"] == "error":
                    return "error: %s" % m["content"].get("evalue")
                elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle" and result is not None:
                    return result
            return result or "no result within 60 s"
        finally:
            ws.close()

    @staticmethod
    def http(url, token=None, method="GET", body=None):
        req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
        if token:
            req.add_header("Authorization", "token " + token)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--kernel", default="retlab")
    ap.add_argument("--echarts-version", required=True)
    ap.add_argument("--max-start", type=float, default=1.5)
    ap.add_argument("--no-kernel", action="store_true", help="skip everything that runs the kernel (a GPU-only binary)")
    a = ap.parse_args()
    t0 = time.time()
    s = Smoke(a)
    try:
        s.kernelspec()
        s.echarts()
        s.gocache()
        if not a.no_kernel:
            s.kernel()
        s.jupyterlab()
    finally:
        subprocess.run(["rm", "-rf", s.tmp])
    print("    smoke test passed in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
