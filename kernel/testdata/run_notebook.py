"""Execute a notebook end to end with nbclient and check each code cell's
metadata.retlab_expect: {"text": substring of a text/plain result,
"mime": a MIME type some output carries, "stream": substring of stdout,
"ename": the error a cell tagged raises-exception gives}.

    python run_notebook.py NOTEBOOK [OUT.ipynb]
"""
import sys

import nbformat
from nbclient import NotebookClient


def texts(outputs):
    for o in outputs:
        if o.output_type == "stream":
            yield "stream", o.text
        elif o.output_type in ("execute_result", "display_data"):
            for mime, data in o.data.items():
                yield mime, data if isinstance(data, str) else ""


def main():
    path = sys.argv[1]
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="retlab", timeout=120, allow_errors=False).execute()
    failures, checked = [], 0
    for i, cell in enumerate(nb.cells):
        exp = cell.metadata.get("retlab_expect")
        if cell.cell_type != "code" or not exp:
            continue
        checked += 1
        got = list(texts(cell.outputs))
        if "text" in exp and not any(m == "text/plain" and exp["text"] in t for m, t in got):
            failures.append(f"cell {i}: no text/plain containing {exp['text']!r} in {got}")
        if "mime" in exp and not any(m == exp["mime"] for m, _ in got):
            failures.append(f"cell {i}: no {exp['mime']} output (have {[m for m, _ in got]})")
        if "stream" in exp and not any(m == "stream" and exp["stream"] in t for m, t in got):
            failures.append(f"cell {i}: no stream containing {exp['stream']!r}")
        if "ename" in exp and not any(o.output_type == "error" and o.ename == exp["ename"] for o in cell.outputs):
            failures.append(f"cell {i}: no {exp['ename']} error")
    if len(sys.argv) > 2:
        nbformat.write(nb, sys.argv[2])
    for f in failures:
        print("FAIL", f)
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
