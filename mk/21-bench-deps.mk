# The benchmark anchor: current PyTorch + numpy from PyPI in their own venv
# (.venv-bench, deps/requirements-bench.txt). Large (~5.4 GB with the NVIDIA
# libraries the wheel pulls), so it is never a SETUP_STEP: only `make bench-deps`
# and the bench-* targets that compare against PyTorch install it.
BENCH_VENV := $(ROOT)/.venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python

.PHONY: bench-deps
bench-deps: $(BENCH_VENV)/.stamp
$(BENCH_VENV)/.stamp: deps/requirements-bench.txt
	/usr/bin/python3 -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install -q --disable-pip-version-check -r deps/requirements-bench.txt
	$(BENCH_PY) -c 'import torch, numpy; print("bench venv: torch", torch.__version__, "numpy", numpy.__version__)'
	touch $@
