# Benchmarks with their same-run references (never part of make test). The
# reference side is current PyTorch from PyPI in .venv-bench (bench-deps,
# mk/21-bench-deps.mk); OPENBLAS_CORETYPE is dropped for these commands only.
.PHONY: bench-retention
bench-retention: bench-deps build
	env -u OPENBLAS_CORETYPE $(BIN)/retlab bench retention --python $(BENCH_PY)
