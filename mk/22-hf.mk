# Hugging Face models (retnet/hf, tokenizer/): the reference venv with the
# real flash-linear-attention, transformers and tokenizers (.venv-hfref,
# deps/requirements-hfref.txt; large, like .venv-bench, so never a SETUP_STEP),
# the golden data made with it, and the 1.3B-shaped speed record.
#   make hf-testdata        regenerate tokenizer/testdata and retnet/testdata/hf
#   make bench-pretrained   notebooks/results/pretrained-speed.json (random BF16
#                           weights shaped like fla-hub's 1.3B models, PyTorch
#                           side by side on the LLaMA-shaped one; ~15 min)
HF_VENV := $(ROOT)/.venv-hfref
HF_PY := $(HF_VENV)/bin/python

.PHONY: hf-deps hf-testdata bench-pretrained
hf-deps: $(HF_VENV)/.stamp
$(HF_VENV)/.stamp: deps/requirements-hfref.txt
	/usr/bin/python3 -m venv $(HF_VENV)
	$(HF_PY) -m pip install -q --disable-pip-version-check -r deps/requirements-hfref.txt
	touch $@

hf-testdata: hf-deps
	$(HF_PY) tokenizer/testdata/make_tokenizer_reference.py --out tokenizer/testdata
	$(HF_PY) retnet/testdata/hf/make_hf_reference.py --out retnet/testdata/hf

bench-pretrained: build hf-deps
	$(BIN)/retlab bench pretrained --random fla-retnet-1.3B,fla-transformer-1.3B,llama-1.3B \
	  --seq-len 512 --windows 1 --context 64 --steps 16 --python $(HF_PY) \
	  --note "random BF16 weights shaped like the fla-hub 1.3B models (no real weights on this machine)" \
	  --out notebooks/results/pretrained-speed.json
