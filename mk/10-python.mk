# A project-local Python venv (.venv) with pinned pip packages (deps/requirements.txt),
# built on Debian's python3 so Debian's numpy/torch stay usable (--system-site-packages).
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python

# `make run` installs deps/requirements.txt (JupyterLab), `make test` adds
# deps/requirements-test.txt (test clients, classic Notebook for the browser tests).
# deps/jupyterlab-overrides.json holds the project's JupyterLab settings (no news pop-up).
.PHONY: setup-py setup-py-test testdata testdata-check
SETUP_STEPS += setup-py
TEST_SETUP_STEPS += setup-py-test
TEST_STEPS += testdata-check
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

setup-py: $(VENV)/.stamp $(LAB_SETTINGS)
$(VENV)/.stamp: deps/requirements.txt
	@scripts/step.sh venv bash -c '/usr/bin/python3 -m venv --system-site-packages $(VENV) && \
	  $(PY) -m pip install --disable-pip-version-check -r deps/requirements.txt'
	@touch $@
$(LAB_SETTINGS): deps/jupyterlab-overrides.json $(VENV)/.stamp
	@mkdir -p $(dir $@) && cp $< $@

setup-py-test: setup-py $(VENV)/.stamp-test
$(VENV)/.stamp-test: deps/requirements-test.txt $(VENV)/.stamp
	@scripts/step.sh venv-test $(PY) -m pip install --disable-pip-version-check -r deps/requirements-test.txt
	@touch $@

# Reference vectors for the Go tests, written by an independent numpy
# implementation of the spec. `testdata-check` regenerates them into a temp dir
# and compares, so the committed files always match their script.
testdata:
	/usr/bin/python3 retnet/testdata/make_reference.py --out retnet/testdata

testdata-check:
	/usr/bin/python3 retnet/testdata/make_reference.py --check >/dev/null
	@set -e; d=$$(mktemp -d); trap 'rm -rf $$d' EXIT; \
	  /usr/bin/python3 retnet/testdata/make_reference.py --out $$d >/dev/null; \
	  for f in $$d/*; do cmp -s $$f retnet/testdata/$$(basename $$f) || { echo "testdata differs from its script: $$(basename $$f) (run make testdata)"; exit 1; }; done; \
	  echo "testdata matches make_reference.py"
