# The Jupyter kernel: `make run` installs it into the project venv and starts
# JupyterLab on notebooks/; `bindings-check` keeps the generated gomacro
# bindings (kernel/bindings/x_*.go) in step with the public packages.
KERNEL_NAME ?= retlab
JUPYTER_ARGS ?=

.PHONY: run kernel-install bindings bindings-check
TEST_STEPS += bindings-check

# Install the kernelspec (kernel.json, logos, echarts.min.js when npm has
# installed it) into .venv, then start JupyterLab from .venv on notebooks/.
run: setup-run build kernel-install
	@echo "run: JupyterLab on notebooks/, opening 00-kernel-tour.ipynb (Ctrl-C stops it)"
	cd notebooks && VIRTUAL_ENV=$(VENV) PATH="$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(ROOT)/notebooks" $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
	  --ServerApp.jpserver_extensions nbclassic=False $(JUPYTER_ARGS) 00-kernel-tour.ipynb

kernel-install: build setup-py setup-npm
	VIRTUAL_ENV=$(VENV) $(BIN)/retlab kernel install --sys-prefix --name $(KERNEL_NAME)

# Regenerate the bindings after changing a public package's API.
bindings:
	$(GO) generate ./kernel/...

# CI: the committed bindings must equal freshly generated ones.
bindings-check:
	@d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	  $(GO) run ./kernel/bindings/gen -out $$d 2>/dev/null || { echo "bindings generator failed"; exit 1; }; \
	  status=0; \
	  for f in $$d/x_*.go; do cmp -s $$f kernel/bindings/$$(basename $$f) || { echo "stale: kernel/bindings/$$(basename $$f)"; status=1; }; done; \
	  for f in kernel/bindings/x_*.go; do [ -e $$d/$$(basename $$f) ] || { echo "obsolete: $$f"; status=1; }; done; \
	  [ $$status = 0 ] && echo "kernel bindings are current" || { echo "run: make bindings"; exit 1; }
