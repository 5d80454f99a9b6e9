"""Kernel attacks of issue 16 (items 2, 9, 11) and issue 14 (a fatal error restarts), run against a built retlab.

Usage: hostile_kernel.py RETLAB_BINARY

Installs the kernelspec with --prefix into a temporary directory (with a
stand-in echarts.min.js), starts the kernel from it through jupyter_client
with RETLAB_ECHARTS unset, and prints one Markdown table row per attack:
attack | expected | observed. Exits 1 if any attack was not handled.
"""
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

TIMEOUT = 60


def run_cell(kc, code, timeout=TIMEOUT):
    """Execute code; return (reply content, text of stdout + results)."""
    msg_id = kc.execute(code)
    return wait_for(kc, msg_id, timeout)


def wait_for(kc, msg_id, timeout=TIMEOUT):
    out = []
    deadline = time.time() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t, c = msg["msg_type"], msg["content"]
        if t == "stream":
            out.append(c["text"])
        elif t in ("execute_result", "display_data"):
            out.append(c["data"].get("text/plain", ""))
        elif t == "error":
            out.append("%s: %s" % (c["ename"], c["evalue"]))
        elif t == "status" and c["execution_state"] == "idle":
            break
    while True:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply["content"], "".join(out)


def main():
    binary = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="retlab-hostile-")
    prefix = os.path.join(tmp, "prefix")
    os.mkdir(os.path.join(tmp, "asset"))  # not in the kernel's working directory, which viz also searches
    fake_js = os.path.join(tmp, "asset", "echarts.min.js")
    with open(fake_js, "w") as f:
        f.write("/* stand-in for echarts.min.js */\n")
    name = "retlab-hostile"
    subprocess.run([binary, "kernel", "install", "--prefix", prefix, "--name", name, "--echarts", fake_js],
                   check=True, capture_output=True)
    spec_dir = os.path.join(prefix, "share", "jupyter", "kernels", name)

    # History: an entry, a line over 16 MB (one huge cell), then the newest entries.
    hist = os.path.join(tmp, "history.jsonl")
    with open(hist, "w") as f:
        f.write(json.dumps({"session": 1, "line": 1, "input": "old := 1"}) + "\n")
        f.write(json.dumps({"session": 1, "line": 2, "input": "// " + "x" * (17 << 20)}) + "\n")
        f.write("not json at all\n")
        f.write(json.dumps({"session": 2, "line": 1, "input": "after := 2"}) + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith("RETLAB_ECHARTS")}
    env.update({"RETLAB_KERNEL_HISTORY": hist, "JUPYTER_PATH": os.path.join(prefix, "share", "jupyter")})
    ksm = KernelSpecManager(kernel_dirs=[os.path.join(prefix, "share", "jupyter", "kernels")])
    km = KernelManager(kernel_name=name, kernel_spec_manager=ksm)
    log_path = os.path.join(tmp, "kernel.log")
    log = open(log_path, "w")
    km.start_kernel(env=env, cwd=tmp, stdout=log, stderr=log)
    kc = km.client()
    kc.start_channels()
    rows, failed = [], 0

    def row(attack, expected, observed, ok):
        nonlocal failed
        if not ok:
            failed += 1
            observed = "FAIL: " + observed
        rows.append("| %s | %s | %s |" % (attack, expected, observed.replace("|", "/").replace("\n", " ")))

    try:
        kc.wait_for_ready(timeout=TIMEOUT)

        # Item 2: a captured signed message replayed.
        run_cell(kc, "counter := 0")
        msg = kc.session.msg("execute_request", content={"code": "counter++", "silent": False, "store_history": True,
                                                         "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        for _ in range(3):
            kc.session.send(kc.shell_channel.socket, msg)
        time.sleep(1.0)
        # Drain the one genuine reply.
        try:
            while True:
                kc.get_shell_msg(timeout=0.5)
        except queue.Empty:
            pass
        _, out = run_cell(kc, "counter")
        with open(log_path) as f:
            dropped = f.read().count("replayed message")
        row("the same signed `counter++` sent 3 times", "runs once: counter == 1, 2 copies dropped",
            "counter == %s; kernel log: %d dropped as replayed" % (out.strip(), dropped), out.strip() == "1")

        # Item 9: history with a >16 MB line and a bad line.
        kc.history(hist_access_type="tail", n=50)
        reply = kc.get_shell_msg(timeout=TIMEOUT)
        while reply["msg_type"] != "history_reply":
            reply = kc.get_shell_msg(timeout=TIMEOUT)
        inputs = [h[2] for h in reply["content"]["history"]]
        ok = "after := 2" in inputs
        row("history file: a 17 MB line and a bad line before the newest entry", "later entries still read",
            "tail holds %d entries; 'after := 2' %s" % (len(inputs), "present" if ok else "missing"), ok)
        big = "// " + "y" * (3 << 20) + "\n1"
        before = os.path.getsize(hist)
        run_cell(kc, big)
        grown = os.path.getsize(hist) - before if os.path.getsize(hist) >= before else os.path.getsize(hist)
        row("a 3 MB cell", "history entry capped (<= 1 MB a line)", "history grew %d bytes" % grown, grown <= (1 << 20))

        # Item 11: the chart asset of the kernelspec the kernel was started from.
        _, out = run_cell(kc, 'import "fmt"\nimport "github.com/retlab/retlab/viz"\np, err := viz.EChartsPath()\nfmt.Println(p, err)')
        want = os.path.join(spec_dir, "echarts.min.js")
        row("kernel from a --prefix kernelspec, RETLAB_ECHARTS unset", "finds the kernelspec's echarts.min.js",
            out.strip()[:120], out.strip().startswith(want + " <nil>"))

        # Issue 14: a fatal runtime error (stack overflow) ends the kernel promptly with its message
        # delivered, so Jupyter can restart it (last: it ends the kernel).
        t0 = time.time()
        msg_id = kc.execute("func soDeep(n int) int { return soDeep(n+1) + 1 }\nsoDeep(0)")
        seen = []
        while km.is_alive() and time.time() - t0 < TIMEOUT:
            try:
                m = kc.get_iopub_msg(timeout=0.2)
                if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] in ("stream", "error"):
                    seen.append(m["content"].get("text") or m["content"].get("evalue", ""))
            except queue.Empty:
                pass
        took = time.time() - t0
        dead = not km.is_alive()
        # The runtime's report goes to a crash file beside the connection file; the restarted
        # kernel (as Jupyter restarts it) shows its message with the first cell.
        crash = km.connection_file + ".crash"
        in_file = os.path.exists(crash) and "stack" in open(crash, errors="replace").read()
        shown = ""
        if dead:
            km.restart_kernel(now=True)
            kc.wait_for_ready(timeout=TIMEOUT)
            _, shown = run_cell(kc, "1 + 1")
        row("a cell recursing without end (stack overflow)",
            "the kernel exits within 30 s; the restarted kernel shows the message",
            "kernel %s after %.1f s; crash file %s; after restart: %s" % (
                "exited" if dead else "still running", took, "has it" if in_file else "lacks it",
                shown.strip().replace("\n", " ")[:160]),
            dead and took < 30 and "stack overflow" in shown)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(rows))
    print("hostile kernel: %d attacks, %d failed" % (len(rows), failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
