"""Execute RetLab notebooks headless with nbclient and the RetLab kernel.

    python execute.py [--quick] [--out DIR | --in-place] [--figures DIR]
                      [--report FILE] [--kernel NAME] NOTEBOOK...

Each notebook runs in a fresh kernel whose working directory is the
notebook's own folder (as in JupyterLab), with

    RETLAB_QUICK=1        in --quick mode: the notebook shrinks its sizes and says so
    RETLAB_FIGURES=DIR    where the notebook exports its figures (SVG + PNG)

in the kernel's environment. A notebook states its time budget in its
metadata, {"retlab": {"budget_s": {"quick": Q, "full": F}}}; a run over the
budget of its mode fails, as does any cell error (cells tagged
raises-exception excepted) or a cell whose metadata.retlab_expect is not met:
{"text": substring of a text/plain result, "mime": a MIME type some output
carries, "stream": substring of stdout}.

The executed notebook is written to --out DIR (or back over the source with
--in-place), its chart outputs made fit to commit (see commit_outputs): a
chart's text/html inlines the ECharts library (about 1 MB of third-party
code, which the repository must not hold) and only draws in a trusted
notebook, so it is replaced by the chart's SVG (drawn by the same ECharts
on the server side) plus a PNG of it, which GitHub, nbviewer and an
untrusted JupyterLab all show.

The report (JSON, --report) lists per notebook: mode, seconds, budget,
cells, figures exported, failures. Exit status 1 if any notebook failed.
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The ECharts loader viz inlines into every chart's HTML (viz/html.go).
LOADER = re.compile(r'<script type="text/javascript">\nif \(!window\.echarts\).*?</script>\n', re.S)
SVG_SIZE = re.compile(r'<svg[^>]*?\bwidth="(\d+(?:\.\d+)?)"[^>]*?\bheight="(\d+(?:\.\d+)?)"', re.S)


def outputs_texts(outputs):
    for o in outputs:
        if o.output_type == "stream":
            yield "stream", o.text
        elif o.output_type in ("execute_result", "display_data"):
            for mime, data in o.data.items():
                yield mime, data if isinstance(data, str) else ""


def check_expectations(nb):
    """Returns (checked, failures) for the cells' retlab_expect metadata: {"text":
    substring of a text/plain result, "mime": a MIME type some output carries,
    "stream": substring of stdout, "ename": the error a cell tagged
    raises-exception gives}."""
    failures, checked = [], 0
    for i, cell in enumerate(nb.cells):
        exp = cell.metadata.get("retlab_expect")
        if cell.cell_type != "code" or not exp:
            continue
        checked += 1
        got = list(outputs_texts(cell.outputs))
        if "text" in exp and not any(m == "text/plain" and exp["text"] in t for m, t in got):
            failures.append(f"cell {i}: no text/plain containing {exp['text']!r}")
        if "mime" in exp and not any(m == exp["mime"] for m, _ in got):
            failures.append(f"cell {i}: no {exp['mime']} output (have {sorted({m for m, _ in got})})")
        if "stream" in exp and not any(m == "stream" and exp["stream"] in t for m, t in got):
            failures.append(f"cell {i}: no stream output containing {exp['stream']!r}")
        if "ename" in exp and not any(o.output_type == "error" and o.ename == exp["ename"] for o in cell.outputs):
            failures.append(f"cell {i}: no {exp['ename']} error")
    return checked, failures


def is_chart_html(html):
    return 'class="retlab-chart"' in html


def rasterise(svgs, workdir):
    """PNG bytes for each SVG string, drawn by headless Chromium through
    viz's own rasteriser (viz/js/raster.cjs), one browser for the batch.
    Returns None for all when node, playwright-core or Chromium is missing."""
    nm = os.path.join(ROOT, "node_modules")
    chromium = os.environ.get("RETLAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    node = os.environ.get("RETLAB_NODE") or shutil.which("node")
    script = os.path.join(ROOT, "viz", "js", "raster.cjs")
    if not svgs:
        return []
    if not (chromium and node and os.path.isdir(os.path.join(nm, "playwright-core"))):
        print("execute.py: no node/playwright-core/chromium: chart outputs keep no PNG", file=sys.stderr)
        return [None] * len(svgs)
    jobs = []
    for i, svg in enumerate(svgs):
        m = SVG_SIZE.search(svg)
        w, h = (round(float(m.group(1))), round(float(m.group(2)))) if m else (900, 500)
        sp, pp = os.path.join(workdir, f"{i}.svg"), os.path.join(workdir, f"{i}.png")
        with open(sp, "w") as f:
            f.write(svg)
        jobs.append({"svg": sp, "png": pp, "pdf": "", "width": w, "height": h, "scale": 1})
    jf = os.path.join(workdir, "jobs.json")
    with open(jf, "w") as f:
        json.dump(jobs, f)
    subprocess.run([node, script, nm, chromium, jf], check=True, timeout=600)
    out = []
    for j in jobs:
        with open(j["png"], "rb") as f:
            out.append(base64.b64encode(f.read()).decode())
    return out


# A chart SVG larger than this (big heatmaps: one element per cell) is
# kept as its PNG only.
MAX_SVG = 200_000


def commit_outputs(nb):
    """Makes chart outputs fit to commit and to show untrusted: a bundle with
    a chart's text/html and its image/svg+xml keeps the SVG (unless it is
    over MAX_SVG bytes), gains a PNG of it and loses the HTML (which inlines
    ECharts). A chart HTML with no SVG (a live chart mid-update) keeps only
    its text/plain. Other HTML (progress bars, tables) is kept. Returns the
    number of charts converted."""
    targets = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for o in cell.outputs:
            if o.output_type not in ("execute_result", "display_data"):
                continue
            html = o.data.get("text/html", "")
            if isinstance(html, list):
                html = "".join(html)
            if not is_chart_html(html):
                continue
            del o.data["text/html"]
            if "image/svg+xml" in o.data:
                targets.append(o)
            # transient display ids are not saved; drop the HTML-only metadata
            o.metadata.pop("text/html", None)
    with tempfile.TemporaryDirectory() as d:
        pngs = rasterise([o.data["image/svg+xml"] for o in targets], d)
    for o, png in zip(targets, pngs):
        if png:
            o.data["image/png"] = png
            if len(o.data["image/svg+xml"]) > MAX_SVG:
                del o.data["image/svg+xml"]
    return len(targets)


def run_notebook(path, quick, figures, kernel, out_path):
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("retlab", {})
    mode = "quick" if quick else "full"
    budget = meta.get("budget_s", {}).get(mode)
    env_before = dict(os.environ)
    os.environ["RETLAB_QUICK"] = "1" if quick else "0"
    nbdir = os.path.dirname(os.path.abspath(path))
    if figures:  # relative to the kernel's working directory when below it, so outputs show no machine paths
        rel = os.path.relpath(figures, nbdir)
        os.environ["RETLAB_FIGURES"] = figures if rel.startswith("..") else rel
    res = {"notebook": os.path.basename(path), "mode": mode, "budget_s": budget, "failures": []}
    t0 = time.time()
    try:
        client = NotebookClient(nb, kernel_name=kernel, timeout=meta.get("cell_timeout_s", 1200),
                                allow_errors=False, record_timing=True,
                                resources={"metadata": {"path": nbdir}})
        client.execute()
    except CellExecutionError as e:
        res["failures"].append("cell error: " + str(e)[:4000])
    except Exception as e:  # kernel died, timeout
        res["failures"].append(f"{type(e).__name__}: {e}"[:4000])
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    res["seconds"] = round(time.time() - t0, 1)
    checked, fails = check_expectations(nb)
    res["expectations_checked"] = checked
    res["failures"] += fails
    if budget is None:
        res["failures"].append(f"metadata.retlab.budget_s.{mode} is missing: every notebook states its time budget")
    elif res["seconds"] > budget:
        res["failures"].append(f"took {res['seconds']}s, over its {mode} budget of {budget}s")
    cells = []
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code":
            continue
        ex = c.metadata.get("execution", {})
        s, e = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
        if s and e:
            from datetime import datetime
            dt = (datetime.fromisoformat(e.replace("Z", "+00:00")) - datetime.fromisoformat(s.replace("Z", "+00:00"))).total_seconds()
            cells.append({"cell": i, "seconds": round(dt, 2)})
        c.metadata.pop("execution", None)  # timestamps would churn every diff
    res["slowest_cells"] = sorted(cells, key=lambda c: -c["seconds"])[:5]
    if figures and os.path.isdir(figures):  # the files this run wrote
        res["figures"] = sorted(f for f in os.listdir(figures) if os.path.getmtime(os.path.join(figures, f)) >= t0)
    res["charts"] = commit_outputs(nb)
    nb.metadata.setdefault("retlab", {})["last_run"] = {"mode": mode, "seconds": res["seconds"]}
    if out_path:
        nbformat.write(nb, out_path)
        res["out"] = out_path
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--quick", action="store_true", help="quick mode (RETLAB_QUICK=1): smaller sizes")
    ap.add_argument("--out", help="directory for the executed notebooks")
    ap.add_argument("--in-place", action="store_true", help="write the executed notebooks over their sources")
    ap.add_argument("--figures", help="directory the notebooks export figures into (RETLAB_FIGURES)")
    ap.add_argument("--report", help="write a JSON report here")
    ap.add_argument("--kernel", default="retlab")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="set in the kernel's environment (e.g. RETLAB_RETRAIN=1)")
    a = ap.parse_args()
    for kv in a.env:
        name, _, value = kv.partition("=")
        os.environ[name] = value
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    if a.figures:
        a.figures = os.path.abspath(a.figures)
        os.makedirs(a.figures, exist_ok=True)
    results = []
    for p in a.notebooks:
        out = os.path.join(a.out, os.path.basename(p)) if a.out else (p if a.in_place else None)
        r = run_notebook(p, a.quick, a.figures, a.kernel, out)
        results.append(r)
        status = "ok" if not r["failures"] else "FAILED"
        print(f"{r['notebook']}: {status} in {r['seconds']}s ({r['mode']} mode, budget {r['budget_s']}s), "
              f"{r['charts']} charts, {len(r.get('figures', []))} figure files", flush=True)
        for f in r["failures"]:
            print("  FAIL", f, flush=True)
    if a.report:
        with open(a.report, "w") as f:
            json.dump(results, f, indent=1)
    sys.exit(1 if any(r["failures"] for r in results) else 0)


if __name__ == "__main__":
    main()
