# The CPU backend's matrix multiply: a side-by-side benchmark against numpy on
# OpenBLAS (libopenblas0-pthread, deps/apt.txt), and a check that the
# pure-Go fallback (build tag purego, other architectures) builds and passes.
.PHONY: bench-sgemm sgemm-fallback-check
TEST_STEPS += sgemm-fallback-check

# Interleaved rounds of go test -bench and numpy matmul, 2 threads each, best
# of SGEMM_ROUNDS: squares 256..2048 (BenchmarkSgemm), then the retention
# shapes (BenchmarkSgemmRetention); prints both GFLOP/s and the ratio.
# About 2 minutes.
SGEMM_THREADS ?= 2
SGEMM_ROUNDS ?= 3
bench-sgemm:
	/usr/bin/python3 scripts/bench_sgemm.py --go --threads $(SGEMM_THREADS) --rounds $(SGEMM_ROUNDS)
	/usr/bin/python3 scripts/bench_sgemm.py --go --retention --threads $(SGEMM_THREADS) --rounds $(SGEMM_ROUNDS)

sgemm-fallback-check:
	$(GO) vet -tags purego ./retnet/backend/cpu
	GOARCH=arm64 $(GO) vet ./retnet/backend/cpu
	$(GO) test -tags purego -short -count=1 ./retnet/backend/cpu
