#!/usr/bin/env python3
"""Golden data for RetLab's Hugging Face loader (package retnet/hf), made by the
real model code: flash-linear-attention's RetNetForCausalLM (model_type retnet)
and TransformerForCausalLM (transformer), and transformers' LlamaForCausalLM
(llama), versions pinned in deps/requirements-hfref.txt.

    python retnet/testdata/hf/make_hf_reference.py --out retnet/testdata/hf

fla's layers call fused Triton kernels (retention, rotary, RMSNorm, the gated
RMSNorm, SwiGLU) and flash-attn, which need a GPU. On this CPU-only machine the
script runs fla's own model classes (their wiring, names, caches, residuals)
with exactly those kernels replaced by fla's reference implementations of the
same ops where fla ships one (fla.ops.retention.naive.naive_retention,
fla.modules.rotary.ops.rotary_embedding_ref, the kernels' RMSNorm formula,
fla.modules.activations' swiglu formula), and by plain PyTorch otherwise
(causal softmax attention for flash_attn_func, the recurrent retention with a
state, which is checked here against naive_retention). LLaMA runs unpatched.

Each model directory holds config.json, model.safetensors (or shards with
model.safetensors.index.json) as save_pretrained writes them, and a
tokenizer.json (tokenizer/testdata/llama.tokenizer.json, the LLaMA layout).
Each expected.safetensors holds:
  input_ids (B,T) I64, logits (B,T,V) F32   a full forward (fla: every retention mode gives these)
  prefill_ids (B,P), step_ids (B,S) I64,
  prefill_logits (B,V), step_logits (S,B,V) F32  prefill then one-token steps with the cache
  state.L (B,H,dk,dv) F32                  retnet: each layer's recurrent state after input_ids
  retention.L (B,H,T,T) F32                retnet: each layer's parallel-form score matrices in the
                                           full forward, gamma^(n-m) (q_n . k_m) dk^-1/2 below the
                                           diagonal: naive_retention itself, run with v = identity
BF16 directories also hold logits_f32 (the same model computed in float32 from
the bf16-rounded weights: what a float32-accumulating port must match tightly)
and logits (computed by PyTorch in bfloat16, the model's own precision).
"""
import argparse
import json
import math
import os
import shutil

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

import fla  # noqa: F401  (registers the model types)
import fla.layers.attn as fla_attn
import fla.layers.multiscale_retention as fla_msr
import fla.modules.mlp as fla_mlp
from fla.models import RetNetConfig, RetNetForCausalLM, TransformerConfig, TransformerForCausalLM
from fla.modules import FusedRMSNormGated, RMSNorm
from fla.modules.rotary import ops as rotary_ops
from fla.ops.retention.naive import naive_retention
from transformers import LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "..", "..", "tokenizer", "testdata", "llama.tokenizer.json")

# ---- CPU stand-ins for fla's GPU kernels -------------------------------------------------


def rms_norm_forward(self, x, residual=None, prenorm=False, residual_in_fp32=False):
    """fla's layer_norm_fwd_kernel with IS_RMS_NORM: float32 inside, outputs in x's dtype."""
    dtype = x.dtype
    xf = x.float()
    if residual is not None:
        xf = xf + residual.float()
    res_out = xf.to(torch.float32 if residual_in_fp32 else dtype)
    y = xf * torch.rsqrt(xf.square().mean(-1, keepdim=True) + self.eps)
    if self.weight is not None:
        y = y * self.weight.float()
    y = y.to(dtype)
    return (y, res_out) if prenorm else y


def rms_norm_gated_forward(self, x, g, residual=None, prenorm=False, residual_in_fp32=False):
    """fla's layer_norm_gated_fwd_kernel (RMS, swish): rmsnorm(x) * w * g * sigmoid(g) in float32."""
    assert residual is None and self.activation in ("swish", "silu")
    xf, gf = x.float(), g.float()
    y = xf * torch.rsqrt(xf.square().mean(-1, keepdim=True) + self.eps) * self.weight.float()
    return (y * gf * torch.sigmoid(gf)).to(x.dtype)


def rotary_embedding(x, cos, sin, interleaved=False, inplace=False, seqlen_offsets=0, cu_seqlens=None, **kw):
    """fla's rotary_embedding (Triton) via its rotary_embedding_ref; x (B,T,H,D), float32 math."""
    assert cu_seqlens is None and isinstance(seqlen_offsets, int)
    T = x.shape[1]
    c, s = cos[seqlen_offsets:seqlen_offsets + T], sin[seqlen_offsets:seqlen_offsets + T]
    return rotary_ops.rotary_embedding_ref(x.float(), c.float(), s.float(), interleaved).to(x.dtype)


def gamma_log2(H, device):
    """naive_retention's per-head decay, log2(1 - 2^(-5-h))."""
    return (1 - torch.tensor(2., device=device).pow(-5. - torch.arange(H, dtype=torch.float, device=device))).log2()


# When a list, each retention call from position 0 appends its score matrices (B,H,T,T) to it.
SCORES = None


def capture_scores(q, k):
    """naive_retention returns o = s @ v: with v the identity, its score matrix s (fla has repeated
    the kv heads of GQA before the kernel call)."""
    if SCORES is not None:
        B, T, H, _ = q.shape
        SCORES.append(naive_retention(q.transpose(1, 2), k.transpose(1, 2), torch.eye(T).expand(B, H, T, T)).float())


def recurrent_retention(q, k, v, initial_state=None, output_final_state=False, cu_seqlens=None, **kw):
    """S_t = gamma S_{t-1} + k_t^T v_t; o_t = (q_t dk^-1/2) S_t; q,k,v (B,T,H,d); float32."""
    assert cu_seqlens is None
    if initial_state is None:
        capture_scores(q, k)
    B, T, H, K = q.shape
    V = v.shape[-1]
    decay = torch.exp2(gamma_log2(H, q.device)).view(1, H, 1, 1)
    S = torch.zeros(B, H, K, V) if initial_state is None else initial_state.float().clone()
    qf, kf, vf = q.float() * K ** -0.5, k.float(), v.float()
    o = torch.empty(B, T, H, V)
    for t in range(T):
        S = decay * S + kf[:, t, :, :, None] * vf[:, t, :, None, :]
        o[:, t] = torch.einsum("bhk,bhkv->bhv", qf[:, t], S)
    return o.to(q.dtype), (S if output_final_state else None)


def parallel_retention(q, k, v, initial_state=None, output_final_state=False, cu_seqlens=None, **kw):
    """fla.ops.retention.naive.naive_retention (it takes (B,H,T,d)); with a state: the recurrence."""
    if initial_state is not None or output_final_state:
        return recurrent_retention(q, k, v, initial_state, output_final_state, cu_seqlens)
    capture_scores(q, k)
    o = naive_retention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
    return o.to(q.dtype), None


def flash_attn_func(q, k, v, causal=True, window_size=(-1, -1), softmax_scale=None, **kw):
    """flash_attn_func semantics: (B,T,H,d), GQA by head groups, causal aligned bottom-right."""
    assert causal and tuple(window_size) == (-1, -1)
    B, Tq, H, D = q.shape
    Tk, Hk = k.shape[1], k.shape[2]
    k = k.repeat_interleave(H // Hk, dim=2)
    v = v.repeat_interleave(H // Hk, dim=2)
    s = torch.einsum("bqhd,bkhd->bhqk", q.float(), k.float()) * (softmax_scale or D ** -0.5)
    mask = torch.arange(Tk)[None, :] <= torch.arange(Tq)[:, None] + (Tk - Tq)
    s = s.masked_fill(~mask, float("-inf"))
    return torch.einsum("bhqk,bkhd->bqhd", s.softmax(-1), v.float()).to(q.dtype)


def gated_mlp_forward(self, x, **kw):
    """GatedMLP with swish: down(swiglu(gate(x), up(x))), swiglu = silu(gate) * up in float32."""
    g, y = self.gate_proj(x), self.up_proj(x)
    return self.down_proj((F.silu(g.float()) * y.float()).to(x.dtype))


def patch_fla():
    RMSNorm.forward = rms_norm_forward
    FusedRMSNormGated.forward = rms_norm_gated_forward
    rotary_ops.rotary_embedding = rotary_embedding
    for name in ("chunk_retention", "fused_chunk_retention", "fused_recurrent_retention"):
        setattr(fla_msr, name, recurrent_retention)
    fla_msr.parallel_retention = parallel_retention
    fla_attn.flash_attn_func = flash_attn_func
    fla_mlp.GatedMLP.forward = gated_mlp_forward


def self_check():
    """The recurrent stand-in equals fla's naive_retention."""
    g = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(2, 9, 3, d, generator=g) for d in (8, 8, 6))
    o1, _ = recurrent_retention(q, k, v)
    o2 = naive_retention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
    err = (o1 - o2).abs().max().item()
    assert err < 1e-5, err
    print(f"self-check: recurrent retention vs fla naive_retention max |diff| {err:.2e}")


# ---- models -------------------------------------------------------------------------------


def randomize(model, seed):
    """Weights large enough that every op matters: normal(0, 0.3 / sqrt(fan_in)) for matrices,
    1 + 0.2 N(0,1) for norm weights (fla's init, std 0.02 and ones, would hide mistakes)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 1:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                std = 1.0 if "embed" in name else 1.5 / math.sqrt(p.shape[1])
                p.copy_(std * torch.randn(p.shape, generator=g))


def run_cache(model, ids, P):
    """Prefill ids[:, :P] with the model's cache, then one-token steps; logits (B,V) and (S,B,V)."""
    out = model(input_ids=ids[:, :P], use_cache=True)
    pkv = out.past_key_values
    pre = out.logits[:, -1].float()
    steps = []
    for t in range(P, ids.shape[1]):
        out = model(input_ids=ids[:, t:t + 1], past_key_values=pkv, use_cache=True)
        pkv = out.past_key_values
        steps.append(out.logits[:, -1].float())
    return pre, torch.stack(steps), pkv


def retnet_states(model, ids):
    """Each layer's recurrent state after ids (the cache's recurrent_state)."""
    out = model(input_ids=ids, use_cache=True)
    return [out.past_key_values[l]["recurrent_state"].float() for l in range(model.config.num_hidden_layers)]


def save_dir(model, out, name, shard=None, dtype=None, extra=None):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    m = model if dtype is None else model.to(dtype)
    kw = {"max_shard_size": shard} if shard else {}
    m.save_pretrained(d, safe_serialization=True, **kw)
    shutil.copy(TOKENIZER, os.path.join(d, "tokenizer.json"))
    return d


def expected(model, ids, P, retnet):
    with torch.no_grad():
        t = {"input_ids": ids, "prefill_ids": ids[:, :P].contiguous(), "step_ids": ids[:, P:].contiguous()}
        t["logits"] = model(input_ids=ids).logits.float()
        pre, steps, _ = run_cache(model, ids, P)
        t["prefill_logits"], t["step_logits"] = pre, steps
        if retnet:
            for l, s in enumerate(retnet_states(model, ids)):
                t[f"state.{l}"] = s
            global SCORES
            SCORES = []
            model(input_ids=ids)
            for l, s in enumerate(SCORES):
                t[f"retention.{l}"] = s
            SCORES = None
    return {k: v.contiguous() for k, v in t.items()}


def write_expected(d, tensors, meta):
    save_file(tensors, os.path.join(d, "expected.safetensors"), metadata={k: str(v) for k, v in meta.items()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()
    torch.set_num_threads(2)
    patch_fla()
    self_check()
    vocab = json.load(open(TOKENIZER))["model"]["vocab"]
    V = max(vocab.values()) + 1
    g = torch.Generator().manual_seed(7)
    B, T, P = 2, 11, 6
    ids = torch.randint(0, V, (B, T), generator=g)
    meta = {"generator": "make_hf_reference.py", "B": B, "T": T, "P": P,
            "torch": torch.__version__, "fla": fla.__version__, "transformers": __import__("transformers").__version__}

    models = []
    # fla RetNet: GQA (4 heads, 2 kv heads), expand_k 1, expand_v 2, intermediate from hidden_ratio 2.
    rc = RetNetConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_heads=4, num_kv_heads=2,
                      expand_k=1, expand_v=2, hidden_ratio=2, norm_eps=1e-6, tie_word_embeddings=False)
    models.append(("fla-retnet-tiny", RetNetForCausalLM(rc), True, 11))
    # fla RetNet without GQA, tied embeddings, explicit intermediate_size, expand_k 2 (dk 16).
    rc2 = RetNetConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_heads=2, expand_k=1, expand_v=1.5,
                       intermediate_size=48, norm_eps=1e-5, tie_word_embeddings=True)
    models.append(("fla-retnet-tied", RetNetForCausalLM(rc2), True, 12))
    tc = TransformerConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_heads=4, num_kv_heads=2,
                           intermediate_size=64, norm_eps=1e-6, rope_theta=10000., tie_word_embeddings=False)
    models.append(("fla-transformer-tiny", TransformerForCausalLM(tc), False, 13))
    lc = LlamaConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                     intermediate_size=64, rms_norm_eps=1e-5, rope_theta=500., tie_word_embeddings=True,
                     max_position_embeddings=64, bos_token_id=1, eos_token_id=2)
    models.append(("llama-tiny", LlamaForCausalLM(lc), False, 14))

    for name, model, retnet, seed in models:
        model.eval()
        randomize(model, seed)
        d = save_dir(model, args.out, name)
        write_expected(d, expected(model, ids, P, retnet), meta)
        print(name, sum(p.numel() for p in model.parameters()), "params ->", d)

    # Sharded and BF16 copies of the first RetNet and of LLaMA.
    name, model, retnet, _ = models[0]
    d = save_dir(model, args.out, name + "-sharded", shard="40KB")
    write_expected(d, expected(model, ids, P, retnet), meta)
    for name, model, retnet, _ in (models[0], models[3]):
        d = save_dir(model, args.out, name + "-bf16", dtype=torch.bfloat16)
        # Read back as a user would (from_pretrained), in bfloat16 and in float32.
        cls = type(model)
        m16 = cls.from_pretrained(d, dtype=torch.bfloat16).eval()
        m32 = cls.from_pretrained(d, dtype=torch.float32).eval()
        e = expected(m16, ids, P, retnet)  # bfloat16 compute
        with torch.no_grad():
            e["logits_f32"] = m32(input_ids=ids).logits.float().contiguous()
        write_expected(d, e, meta)
        print(name, "bf16 ->", d)

if __name__ == "__main__":
    main()
