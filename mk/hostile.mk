# Hostile input (issue 16): the CLI and kernel attacks, each as a fresh
# process, with a table of attack, expected and observed. Under 2 minutes.
#   CLI     cmd/retlab TestHostileCLI (the test binary re-run as retlab)
#   kernel  kernel/testdata/hostile_kernel.py drives a built retlab through
#           the venv's jupyter_client (replayed messages, history, charts)
.PHONY: test-hostile
TEST_STEPS += test-hostile

test-hostile: build setup-py
	@echo "== hostile CLI"
	@set -o pipefail; $(GO) test -count=1 -timeout 2m -run '^TestHostileCLI$$' -v ./cmd/retlab | grep -v '^\(=== RUN\|--- PASS\|PASS\|ok \)'
	@echo "== hostile kernel"
	@echo "| attack | expected | observed |"; echo "|---|---|---|"
	@timeout 120 $(PY) kernel/testdata/hostile_kernel.py $(BIN)/retlab
