# Training, evaluation and the cost benchmarks (retnet/train, retnet/bench,
# retnet/sizes.go; `retlab train|eval|generate|sizes|bench`).
# Runs (checkpoints) go to runs/ (gitignored); results files go to $(RESULTS)
# in the layout `retlab figures --from $(RESULTS)` reads:
#   perplexity.json, inference.json, bench-train.json, train/RUN/log.jsonl
RUNS ?= runs
RESULTS ?= $(RUNS)/results
LADDER_DIR ?= $(RUNS)/ladder
LADDER_MODELS ?= retnet transformer
LADDER_SIZES ?= xs s m l

.PHONY: ladder ladder-eval bench-inference bench-train

# The perplexity-against-size experiment: train every rung of `retlab sizes`
# for both architectures (resuming any run a previous call left unfinished),
# then score each on the validation split. Wall time per run goes to
# $(LADDER_DIR)/timings.tsv.
ladder: build
	@mkdir -p $(LADDER_DIR)
	@for m in $(LADDER_MODELS); do for s in $(LADDER_SIZES); do \
	  d=$(LADDER_DIR)/$$m-$$s; r=""; [ -f $$d/checkpoint.safetensors ] && r=--resume; \
	  start=$$(date +%s); \
	  $(BIN)/retlab train --model $$m --size $$s --out $$d $$r --progress-every 30s || exit 1; \
	  printf '%s\t%s\t%s\n' $$m $$s $$(( $$(date +%s) - start )) >> $(LADDER_DIR)/timings.tsv; \
	done; done
	$(MAKE) --no-print-directory ladder-eval

# Scores every ladder checkpoint and copies the training logs next to it.
ladder-eval: build
	@mkdir -p $(RESULTS)/train
	@ck=""; for m in $(LADDER_MODELS); do for s in $(LADDER_SIZES); do \
	  ck="$$ck,$(LADDER_DIR)/$$m-$$s/checkpoint.safetensors"; \
	  mkdir -p $(RESULTS)/train/$$m-$$s; cp $(LADDER_DIR)/$$m-$$s/log.jsonl $(RESULTS)/train/$$m-$$s/; done; done; \
	$(BIN)/retlab eval --json --checkpoint $${ck#,} > $(RESULTS)/perplexity.json
	@echo "wrote $(RESULTS)/perplexity.json and $(RESULTS)/train/*/log.jsonl"

# Decoding latency/throughput/memory against context and batch (Figures 1, 6).
bench-inference: build
	@mkdir -p $(RESULTS)
	$(BIN)/retlab bench inference --json > $(RESULTS)/inference.json
	@echo "wrote $(RESULTS)/inference.json"

# Training-step throughput and memory against sequence length (Table 4),
# with the same-run PyTorch reference (current PyTorch from PyPI, .venv-bench).
bench-train: bench-deps build
	@mkdir -p $(RESULTS)
	env -u OPENBLAS_CORETYPE $(BIN)/retlab bench train --python $(BENCH_PY) --json > $(RESULTS)/bench-train.json
	@echo "wrote $(RESULTS)/bench-train.json"
