# The CPU backend's matrix multiply: a side-by-side benchmark against PyTorch's
# torch.mm (MKL) from the bench venv (mk/21-bench-deps.mk), and a check that
# the pure-Go fallback (build tag purego, other architectures) builds and passes.
.PHONY: bench-sgemm sgemm-fallback-check
TEST_STEPS += sgemm-fallback-check

# Interleaved rounds of Go Sgemm (each ISA in SGEMM_ISAS; empty = the best
# this CPU runs) and torch.mm, SGEMM_THREADS threads each, best of
# SGEMM_ROUNDS: squares 256..2048 (BenchmarkSgemm), then the retention shapes
# (BenchmarkSgemmRetention). Writes docs/records/sgemm.json and
# sgemm-retention.json (then `make bench-docs`). A few minutes.
SGEMM_THREADS ?= 2
SGEMM_ROUNDS ?= 3
SGEMM_ISAS ?=
BENCH_ENV := env -u OPENBLAS_CORETYPE
bench-sgemm: bench-deps
	$(BENCH_ENV) $(BENCH_PY) scripts/bench_sgemm.py --isas "$(SGEMM_ISAS)" --threads $(SGEMM_THREADS) --rounds $(SGEMM_ROUNDS)
	$(BENCH_ENV) $(BENCH_PY) scripts/bench_sgemm.py --retention --isas "$(SGEMM_ISAS)" --threads $(SGEMM_THREADS) --rounds $(SGEMM_ROUNDS)

sgemm-fallback-check:
	$(GO) vet -tags purego ./retnet/backend/cpu
	GOARCH=arm64 $(GO) vet ./retnet/backend/cpu
	$(GO) test -tags purego -short -count=1 ./retnet/backend/cpu
