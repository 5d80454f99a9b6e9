# The Jupyter kernel: `make run` installs it into the project venv and starts
# JupyterLab on notebooks/. Cells are compiled as plugins, so the kernel is
# built with cgo (gcc) by `make build`, like every Go build here by default.
KERNEL_NAME ?= retlab
JUPYTER_ARGS ?=

.PHONY: run kernel-install

# Install the kernelspec (kernel.json, logos, echarts.min.js when npm has
# installed it) into .venv, then start JupyterLab from .venv on notebooks/.
run: setup-run build kernel-install
	@echo "run: JupyterLab on notebooks/, opening 00-kernel-tour.ipynb (Ctrl-C stops it)"
	cd notebooks && VIRTUAL_ENV=$(VENV) PATH="$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir="$(ROOT)/notebooks" $$([ "$$(id -u)" = 0 ] && echo --allow-root) \
	  --ServerApp.jpserver_extensions nbclassic=False $(JUPYTER_ARGS) 00-kernel-tour.ipynb

kernel-install: build setup-py setup-npm
	VIRTUAL_ENV=$(VENV) $(BIN)/retlab kernel install --sys-prefix --name $(KERNEL_NAME)
