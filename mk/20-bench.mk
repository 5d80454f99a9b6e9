# Benchmarks with their same-run references (never part of make test). The
# reference side is current PyTorch from PyPI in .venv-bench (bench-deps,
# mk/21-bench-deps.mk); OPENBLAS_CORETYPE is dropped for these commands only.
# Each writes docs/records/KIND.json (machine, versions, date, whether the
# machine was shared); `make bench-docs` turns the records into
# docs/benchmarks.md. One command each, so a quieter machine can re-run them.
BENCH_ROUNDS ?= 2
BENCH_THREADS ?= 2
.PHONY: bench-retention bench-train-torch bench-decode bench-all bench-docs
# MSR layer forward per form, T 512/2048/8192, Go vs PyTorch point by point
# (fresh processes, interleaved; recurrent over the whole T). ~10 min idle.
bench-retention: bench-deps build
	env -u OPENBLAS_CORETYPE $(BENCH_PY) scripts/bench_points.py retention --rounds $(BENCH_ROUNDS) --threads $(BENCH_THREADS)

# RetNet and Transformer LM training steps (ladder s), T 256..2048, Go vs PyTorch.
bench-train-torch: bench-deps build
	env -u OPENBLAS_CORETYPE $(BENCH_PY) scripts/bench_points.py train --rounds $(BENCH_ROUNDS) --threads $(BENCH_THREADS)

# One decode step (one token for B = 1..8 sequences after 256..8192 tokens) of
# both LMs (ladder m), Go vs PyTorch, max/min latency over the contexts. ~5 min idle.
BENCH_DECODE_FLAGS ?=
bench-decode: bench-deps build
	env -u OPENBLAS_CORETYPE $(BENCH_PY) scripts/bench_points.py decode --rounds $(BENCH_ROUNDS) --threads $(BENCH_THREADS) $(BENCH_DECODE_FLAGS)

bench-all: bench-sgemm bench-retention bench-train-torch bench-decode bench-docs

# docs/benchmarks.md's generated tables (between the "generated" markers)
# from docs/records/*.json; nothing in them is typed by hand.
bench-docs:
	/usr/bin/python3 scripts/bench_docs.py

# make test: the generated docs match the committed records.
TEST_STEPS += bench-docs-check
.PHONY: bench-docs-check
bench-docs-check:
	/usr/bin/python3 scripts/bench_docs.py --check
