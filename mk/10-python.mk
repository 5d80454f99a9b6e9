# A project-local Python venv (.venv) with pinned pip packages (deps/requirements.txt),
# built on Debian's python3 so Debian's numpy/torch stay usable (--system-site-packages).
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python

.PHONY: setup-py testdata testdata-check
SETUP_STEPS += setup-py
TEST_STEPS += testdata-check

setup-py: $(VENV)/.stamp
$(VENV)/.stamp: deps/requirements.txt
	/usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r deps/requirements.txt
	touch $@

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
