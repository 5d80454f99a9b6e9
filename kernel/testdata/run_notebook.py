"""Execute a notebook end to end with nbclient and check each code cell's
metadata.retlab_expect (see check_expectations in notebooks/run/execute.py).

    python run_notebook.py NOTEBOOK [OUT.ipynb]
"""
import os
import sys

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "notebooks", "run"))
from execute import check_expectations  # noqa: E402


def main():
    path = sys.argv[1]
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="retlab", timeout=120, allow_errors=False).execute()
    checked, failures = check_expectations(nb)
    if len(sys.argv) > 2:
        nbformat.write(nb, sys.argv[2])
    for f in failures:
        print("FAIL", f)
    print(f"{checked - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures or checked == 0 else 0)


if __name__ == "__main__":
    main()
