# The Jupyter kernel: `make run` installs it into the project venv and starts
# JupyterLab on notebooks/. Cells are compiled as plugins, so the kernel is
# built with cgo (gcc) by `make build`, like every Go build here by default.
KERNEL_NAME ?= retlab
JUPYTER_ARGS ?=

.PHONY: run kernel-install kernel-warm

# Install the kernelspec (kernel.json, logos, echarts.min.js when npm has
# installed it) into .venv, then start JupyterLab from .venv on notebooks/.
run: setup-run build kernel-install kernel-warm
	@echo "run: JupyterLab on notebooks/, opening 00-kernel-tour.ipynb (Ctrl-C stops it)"
	cd notebooks && VIRTUAL_ENV=$(VENV) PATH="$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(ROOT)/notebooks" $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
	  --ServerApp.jpserver_extensions nbclassic=False $(JUPYTER_ARGS) 00-kernel-tour.ipynb

kernel-install: build setup-py setup-npm
	VIRTUAL_ENV=$(VENV) $(BIN)/retlab kernel install --sys-prefix --name $(KERNEL_NAME)

# The kernel benchmark against GoNB, one run on this machine (scripts/bench_kernel.py), into
# docs/records/kernel.json; then `make bench-docs` makes its table in docs/benchmarks.md. GoNB,
# goimports and gopls are installed for it only (scripts/install-gonb.sh, pinned versions) into
# .cache/gonb, and both kernelspecs go to a private JUPYTER_DATA_DIR, so neither the venv's nor the
# user's Jupyter sees them.
GONB_DIR := $(ROOT)/.cache/gonb
GONB_VERSION ?= v0.11.1
BENCH_KERNEL_ARGS ?=
.PHONY: bench-kernel
bench-kernel: build setup-py
	GONB_VERSION=$(GONB_VERSION) scripts/install-gonb.sh $(GONB_DIR)
	JUPYTER_DATA_DIR=$(GONB_DIR)/jupyter $(BIN)/retlab kernel install --user --name retlab
	JUPYTER_DATA_DIR=$(GONB_DIR)/jupyter JUPYTER_PATH= $(PY) scripts/bench_kernel.py --gonb-dir $(GONB_DIR) \
	  --gonb-version $(GONB_VERSION) --out docs/records/kernel.json $(BENCH_KERNEL_ARGS)
	/usr/bin/python3 scripts/bench_docs.py

# What a starting kernel builds before its first cell (the standard library
# for dynamic linking, RetLab's packages), into the Go build cache once per
# machine, so the first cell in JupyterLab does not wait tens of seconds.
kernel-warm: build
	@scripts/step.sh kernel-warm $(BIN)/retlab kernel warm

# The Go suite starts kernels (kernel/jupyter_test.go): warm first, so a fresh
# machine's first cell is not timed against the build of std.
test-go: kernel-warm
