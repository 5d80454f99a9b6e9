# Benchmarks with their same-run references (never part of make test).
.PHONY: setup-bench bench-retention
setup-bench:
	@scripts/apt-install.sh deps/apt-bench.txt

bench-retention: setup-bench build
	$(BIN)/retlab bench retention
