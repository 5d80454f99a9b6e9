#!/usr/bin/env python3
"""PyTorch reference for `retlab bench pretrained`: the same LLaMA-shaped model directory run by
transformers' LlamaForCausalLM on the CPU in bfloat16 (what a user of these checkpoints would run
without a GPU), measured the way bench.Pretrained measures Go:

    python scripts/bench_pretrained_torch.py --model DIR [--seq-len 512] [--context 64] [--steps 16] [--threads 2]

* load_s: from_pretrained(DIR, dtype=bfloat16) (reads the whole file; safetensors mmap + copy)
* ppl_tokens_per_s: one forward of --seq-len random tokens, batch 1, under torch.inference_mode
* prefill_s, decode_ms_per_token: prefill --context tokens with a DynamicCache, then --steps greedy
  one-token steps; the median step
* rss_bytes / peak_rss_bytes: VmRSS / VmHWM of this process after the runs
Prints one JSON object on stdout (keys as Go's bench.TorchReference). Needs torch and transformers
(deps/requirements-hfref.txt).
"""
import argparse
import json
import statistics
import time

import torch
import transformers
from transformers import AutoModelForCausalLM


def status():
    out = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        f = v.split()
        if len(f) == 2 and f[1] == "kB":
            out[k] = int(f[0]) * 1024
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--context", type=int, default=64)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    m = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.bfloat16).eval()
    load = time.perf_counter() - t0
    V = m.config.vocab_size
    g = torch.Generator().manual_seed(1)
    rec = {"load_s": load, "torch": torch.__version__, "transformers": transformers.__version__,
           "threads": torch.get_num_threads(), "dtype": "bfloat16", "seq_len": a.seq_len,
           "decode_context": a.context, "decode_steps": a.steps,
           "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    with torch.inference_mode():
        ids = torch.randint(3, V, (1, a.seq_len), generator=g)
        m(input_ids=ids[:, :8])  # warm-up
        t1 = time.perf_counter()
        m(input_ids=ids)
        rec["ppl_tokens_per_s"] = a.seq_len / (time.perf_counter() - t1)
        ctx = torch.randint(3, V, (1, a.context), generator=g)
        t2 = time.perf_counter()
        out = m(input_ids=ctx, use_cache=True)
        rec["prefill_s"] = time.perf_counter() - t2
        pkv, lat = out.past_key_values, []
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        for _ in range(a.steps):
            ts = time.perf_counter()
            out = m(input_ids=nxt, past_key_values=pkv, use_cache=True)
            lat.append((time.perf_counter() - ts) * 1e3)
            pkv, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
        rec["decode_ms_per_token"] = statistics.median(lat)
    st = status()
    rec["rss_bytes"], rec["peak_rss_bytes"] = st.get("VmRSS", 0), st.get("VmHWM", 0)
    print(json.dumps(rec))


if __name__ == "__main__":
    main()
