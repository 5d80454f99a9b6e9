# Training, evaluation and the cost benchmarks (retnet/train.go, sizes.go,
# benchinfer.go, benchtrain.go; `retlab train|eval|generate|sizes|bench`).
# Outputs go to runs/ (gitignored).
RUNS ?= runs
LADDER_DIR ?= $(RUNS)/ladder
LADDER_MODELS ?= retnet transformer
LADDER_SIZES ?= xs s m l

.PHONY: ladder ladder-eval bench-inference bench-train

# The perplexity-against-size experiment: train every rung of `retlab sizes`
# for both architectures (resuming any run a previous call left unfinished),
# then score each on the validation split. Wall time per run goes to
# $(LADDER_DIR)/timings.tsv, the perplexities to $(LADDER_DIR)/perplexity.json.
ladder: build
	@mkdir -p $(LADDER_DIR)
	@for m in $(LADDER_MODELS); do for s in $(LADDER_SIZES); do \
	  d=$(LADDER_DIR)/$$m-$$s; r=""; [ -f $$d/checkpoint.safetensors ] && r=--resume; \
	  start=$$(date +%s); \
	  $(BIN)/retlab train --model $$m --size $$s --out $$d $$r --progress-every 30s || exit 1; \
	  printf '%s\t%s\t%s\n' $$m $$s $$(( $$(date +%s) - start )) >> $(LADDER_DIR)/timings.tsv; \
	done; done
	$(MAKE) --no-print-directory ladder-eval

ladder-eval: build
	@ck=""; for m in $(LADDER_MODELS); do for s in $(LADDER_SIZES); do \
	  ck="$$ck,$(LADDER_DIR)/$$m-$$s/checkpoint.safetensors"; done; done; \
	$(BIN)/retlab eval --json --checkpoint $${ck#,} > $(LADDER_DIR)/perplexity.json
	@echo "wrote $(LADDER_DIR)/perplexity.json"

# Decoding latency/throughput/memory against context and batch (Figures 1, 6).
bench-inference: build
	@mkdir -p $(RUNS)
	$(BIN)/retlab bench inference --json > $(RUNS)/bench_inference.json
	@echo "wrote $(RUNS)/bench_inference.json"

# Training-step throughput and memory against sequence length (Table 4),
# with the same-run PyTorch reference (Debian python3-torch).
bench-train: build
	@mkdir -p $(RUNS)
	$(BIN)/retlab bench train --json > $(RUNS)/bench_train.json
	@echo "wrote $(RUNS)/bench_train.json"
