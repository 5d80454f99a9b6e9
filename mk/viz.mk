# viz: charts. ECharts (the JavaScript that draws them) and playwright-core
# (which drives Debian's Chromium for PNG/PDF export and the browser tests;
# it never downloads a browser) are pinned npm packages: package.json +
# package-lock.json, installed into node_modules (gitignored) by `npm ci`.
# Chromium and the Arial-metric font come from deps/apt.txt; JupyterLab and
# classic Notebook (nbclassic) for the notebook browser tests from
# deps/requirements.txt (.venv).
# `make run` needs ECharts only (npm ci --omit=dev); `make test` adds the
# devDependencies (playwright-core). Debian's nodejs comes without npm: then
# deps/apt-npm.txt installs Debian's npm.
NODE_MODULES_STAMP := node_modules/.retlab-npm-stamp
NODE_MODULES_RUN_STAMP := node_modules/.retlab-npm-run-stamp

.PHONY: setup-npm setup-npm-test npm-tool test-viz figures
SETUP_STEPS += setup-npm
TEST_SETUP_STEPS += setup-npm-test

npm-tool:
	@command -v npm >/dev/null || scripts/step.sh apt-npm scripts/apt-install.sh deps/apt-npm.txt

# After `make test` the full install is there and has ECharts too: nothing to do.
setup-npm: $(NODE_MODULES_RUN_STAMP)
$(NODE_MODULES_RUN_STAMP): package.json package-lock.json | npm-tool
	@if [ -f $(NODE_MODULES_STAMP) ] && [ $(NODE_MODULES_STAMP) -nt package-lock.json ]; then :; \
	 else scripts/step.sh npm npm ci --omit=dev --no-audit --no-fund; fi
	@test -f node_modules/echarts/dist/echarts.min.js || { echo "npm ci did not install echarts"; exit 1; }
	@touch $@

setup-npm-test: $(NODE_MODULES_STAMP)
$(NODE_MODULES_STAMP): package.json package-lock.json | npm-tool
	@PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 scripts/step.sh npm-test npm ci --no-audit --no-fund
	@test -f node_modules/playwright-core/package.json || { echo "npm ci did not install playwright-core"; exit 1; }
	@touch $@

# `make test` runs viz's browser and export tests inside `go test ./...`
# (they skip only under -short). This makes a missing tool a failure there
# instead of a skip, so CI cannot pass without running them.
export RETLAB_REQUIRE_BROWSER := 1

# Only the viz tests, browser checks included (about 1-2 minutes).
test-viz: setup-npm-test
	$(GO) test -count=1 ./viz ./cmd/retlab

# Regenerate every figure from notebooks/results (or RESULTS=dir) into figures/ (or OUT=dir).
figures: build setup-npm-test
	$(BIN)/retlab figures --out $(or $(OUT),figures) $(if $(RESULTS),--from $(RESULTS))
