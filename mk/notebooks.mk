# Notebooks (notebooks/NN-topic.ipynb): executed headless with nbclient and
# the RetLab kernel (notebooks/run/execute.py), each within the time budget
# its metadata states.
#
#   make notebooks          full run: outputs saved back into the notebooks,
#                           figures exported to notebooks/figures (commit both)
#   make notebooks-quick    quick mode (RETLAB_QUICK=1) into $(NB_OUT), nothing
#                           in the repository changes
#   make test-notebooks     the checks make test runs: quick mode of every
#                           notebook and the JupyterLab browser check
#   make notebooks-results  the cached results notebook 4 reads: trains the
#                           size ladder (mk/train.mk, about 21 minutes on 2 cores)
#                           and scores it into notebooks/results
#
# NOTEBOOKS=notebooks/02-forms.ipynb picks some. The kernelspec is installed
# into a Jupyter data dir of its own (bin/nb-jupyter), so no other RetLab
# kernel on the machine is used by mistake.
NOTEBOOKS ?= $(filter-out notebooks/00-%,$(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb)))
NB_JUPYTER := $(BIN)/nb-jupyter
NB_OUT ?= $(BIN)/notebooks-quick
NB_ENV := JUPYTER_DATA_DIR=$(NB_JUPYTER) JUPYTER_PREFER_ENV_PATH=0 RETLAB_KERNEL_HISTORY=off

.PHONY: notebooks notebooks-quick test-notebooks nb-kernel notebooks-results
TEST_STEPS += test-notebooks

nb-kernel: build setup-py-test setup-npm-test
	@rm -rf $(NB_JUPYTER)
	@JUPYTER_DATA_DIR=$(NB_JUPYTER) $(BIN)/retlab kernel install --user >/dev/null

notebooks: nb-kernel
	$(NB_ENV) $(PY) notebooks/run/execute.py --in-place --figures notebooks/figures \
	  --report $(BIN)/notebooks-report.json $(NOTEBOOKS)

notebooks-quick: nb-kernel
	$(NB_ENV) $(PY) notebooks/run/execute.py --quick --out $(NB_OUT) --figures $(NB_OUT)/figures \
	  --report $(NB_OUT)/report.json $(NOTEBOOKS)

# Sequential, after go test ./..., so the time budgets are measured on an
# otherwise idle machine.
test-notebooks: setup-py-test setup-npm-test
	RETLAB_NOTEBOOKS=1 $(GO) test -count=1 -v -timeout 20m -run 'TestCommittedNotebooks|TestNotebooks|TestNotebookJupyterLab' ./notebooks/nbtest

# perplexity.json, train/RUN/log.jsonl (the layout `retlab figures --from`
# reads) and ladder-timings.tsv (wall time per run) from a real run of the ladder.
notebooks-results:
	$(MAKE) --no-print-directory ladder RESULTS=$(ROOT)/notebooks/results
	cp $(LADDER_DIR)/timings.tsv notebooks/results/ladder-timings.tsv
