# viz: charts. ECharts (the JavaScript that draws them) and playwright-core
# (which drives Debian's Chromium for PNG/PDF export and the browser tests;
# it never downloads a browser) are pinned npm packages: package.json +
# package-lock.json, installed into node_modules (gitignored) by `npm ci`.
# Chromium and the Arial-metric font come from deps/apt.txt; JupyterLab and
# classic Notebook (nbclassic) for the notebook browser tests from
# deps/requirements.txt (.venv).
NODE_MODULES_STAMP := node_modules/.retlab-npm-stamp

.PHONY: setup-npm test-viz figures
SETUP_STEPS += setup-npm

setup-npm: $(NODE_MODULES_STAMP)
$(NODE_MODULES_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js with npm (deps/apt.txt lists nodejs)"; exit 1; }
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	@test -f node_modules/echarts/dist/echarts.min.js || { echo "npm ci did not install echarts"; exit 1; }
	touch $@

# `make test` runs viz's browser and export tests inside `go test ./...`
# (they skip only under -short). This makes a missing tool a failure there
# instead of a skip, so CI cannot pass without running them.
export RETLAB_REQUIRE_BROWSER := 1

# Only the viz tests, browser checks included (about 1-2 minutes).
test-viz: setup-npm
	$(GO) test -count=1 ./viz ./cmd/retlab

# Regenerate every figure from notebooks/results (or RESULTS=dir) into figures/ (or OUT=dir).
figures: build setup-npm
	$(BIN)/retlab figures --out $(or $(OUT),figures) $(if $(RESULTS),--from $(RESULTS))
