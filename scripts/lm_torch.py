"""The PyTorch models the benchmarks time against Go, written from docs/retnet-spec.md (torchscale
semantics): the RetNet decoder LM and the repo's Transformer baseline (retnet/transformer.go: the same LM
with multi-scale retention replaced by causal softmax attention on rotated q and k). Parameter names are
those of the Go checkpoints (torchscale's state_dict), so read_safetensors + load_state_dict runs a Go
model here.

Two ways to run them:
* forward(tokens, positions): a whole sequence (RetNet: parallel or chunkwise retention, as RelPos says;
  Transformer: torch's fused scaled_dot_product_attention) -- scripts/train_step_torch.py trains with it;
* a decoder (RetNetDecoder: the recurrent form, a state S per layer and head; KVCacheDecoder: a key/value
  cache and one attention row per token) stepping one token for B sequences at a time --
  scripts/decode_step_torch.py times it against `retlab bench inference`.

Import it after the thread environment is set (benchanchor.threads) and torch's threads are chosen.
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def rms_norm(x, weight, eps=1e-6):
    y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return y if weight is None else y * weight


def rotate_every_two(x):
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def angles(D, H):
    """theta of each rotated pair, 1/10000^linspace(0, 1, dk/2), each repeated twice: (dk,) (retnet/rotation.go)."""
    angle = 1.0 / (10000 ** torch.linspace(0, 1, (D // H) // 2))
    return angle.unsqueeze(-1).repeat(1, 2).flatten()


def decays(H):
    """log gamma_h = log(1 - 2^(-5-h)) of each head (torchscale's RetNetRelPos.decay): (H,)."""
    return torch.log(1 - 2 ** (-5 - torch.arange(H, dtype=torch.float)))


class RelPos:
    """Decays, angles and masks of RetNetRelPos (torchscale schedule)."""

    def __init__(self, D, H, T, chunk):
        angle = angles(D, H)
        self.decay = decays(H)
        idx = torch.arange(T).to(self.decay)
        self.sin = torch.sin(idx[:, None] * angle[None, :])
        self.cos = torch.cos(idx[:, None] * angle[None, :])
        self.chunked = T > chunk
        if not self.chunked:
            mask = torch.tril(torch.ones(T, T)).bool()
            m = torch.masked_fill(idx[:, None] - idx[None, :], ~mask, float("inf"))
            m = torch.nan_to_num(torch.exp(m * self.decay[:, None, None]))
            self.mask = m / m.sum(-1, keepdim=True).sqrt()
        else:
            bi = torch.arange(chunk).to(self.decay)
            mask = torch.tril(torch.ones(chunk, chunk)).bool()
            m = torch.masked_fill(bi[:, None] - bi[None, :], ~mask, float("inf"))
            m = torch.nan_to_num(torch.exp(m * self.decay[:, None, None]))
            value_inner_decay = (m[:, -1] / m[:, -1].sum(-1, keepdim=True)).unsqueeze(-1)
            scale = m.sum(-1, keepdim=True).sqrt()
            self.inner_mask = m / scale
            self.cross_decay = torch.exp(self.decay * chunk)[:, None, None]
            qid = torch.exp(self.decay[:, None] * (bi + 1))
            self.query_inner_decay = qid[:, :, None] / (scale / m[:, -1].sum(-1)[:, None, None])
            self.value_inner_decay = value_inner_decay
            self.chunk = chunk


class MSR(nn.Module):
    def __init__(self, D, DV, H):
        super().__init__()
        self.D, self.DV, self.H = D, DV, H
        self.dk, self.dv = D // H, DV // H
        self.q_proj = nn.Linear(D, D, bias=False)
        self.k_proj = nn.Linear(D, D, bias=False)
        self.v_proj = nn.Linear(D, DV, bias=False)
        self.g_proj = nn.Linear(D, DV, bias=False)
        self.out_proj = nn.Linear(DV, D, bias=False)

    def parallel(self, q, k, v, rel):
        qk = (q @ k.transpose(-1, -2)) * rel.mask
        qk = qk / qk.detach().abs().sum(-1, keepdim=True).clamp(min=1, max=5e4)
        return qk @ v  # (B,H,T,dv)

    def chunkwise(self, q, k, v, rel):
        B, H, T, dk = q.shape
        C = rel.chunk
        n = T // C
        q = q.view(B, H, n, C, dk).transpose(1, 2)  # (B,n,H,C,dk)
        k = k.view(B, H, n, C, dk).transpose(1, 2)
        v = v.view(B, H, n, C, self.dv).transpose(1, 2)
        kt = k.transpose(-1, -2)
        qk = (q @ kt) * rel.inner_mask
        inner_scale = qk.detach().abs().sum(-1, keepdim=True).clamp(min=1)
        inner = (qk / inner_scale) @ v
        kv = kt @ (v * rel.value_inner_decay)  # (B,n,H,dk,dv)
        states, scales = [], []
        state = torch.zeros(B, H, dk, self.dv)
        sc = torch.ones(B, H, 1, 1)
        for i in range(n):
            states.append(state / sc)
            scales.append(sc)
            state = state * rel.cross_decay + kv[:, i]
            sc = state.detach().abs().sum(-2, keepdim=True).max(-1, keepdim=True)[0].clamp(min=1)
        states, scales = torch.stack(states, 1), torch.stack(scales, 1)
        all_scale = torch.maximum(inner_scale, scales)
        cross = (q * rel.query_inner_decay) @ states
        out = inner / (all_scale / inner_scale) + cross / (all_scale / scales)
        return out.transpose(1, 2).reshape(B, H, T, self.dv)

    def forward(self, x, rel):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        k = (self.k_proj(x) * self.dk ** -0.5).view(B, T, self.H, self.dk).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.H, self.dv).transpose(1, 2)
        g = self.g_proj(x)
        q = q * rel.cos + rotate_every_two(q) * rel.sin
        k = k * rel.cos + rotate_every_two(k) * rel.sin
        o = self.chunkwise(q, k, v, rel) if rel.chunked else self.parallel(q, k, v, rel)
        o = rms_norm(o, None)  # group norm: per head, no affine
        o = o.transpose(1, 2).reshape(B, T, self.DV)
        return self.out_proj(F.silu(g) * o)

    def joint_weight(self):
        """q, k, v and g projections stacked into one (2D+2DV, D) weight: one product per decode step, as
        the Go step does (linearJoint)."""
        return torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight, self.g_proj.weight])

    def step(self, x, st, sin, cos, gamma, joint):
        """The recurrent form for one token of B sequences (torchscale's recurrent_forward), x (B,D) at
        position st.pos (its rotation sin, cos: (dk,)); gamma (H,) the decays; joint = joint_weight().
        Updates st in place and returns the layer output (B,D). Per head, with c_n = gamma c_{n-1} + 1:

            S_n = gamma sqrt(c_{n-1}/c_n) S_{n-1} + v_n^T k_n / sqrt(c_n)     (dv, dk)
            o_n = S_n q_n
        """
        B, H, dk, dv = x.shape[0], self.H, self.dk, self.dv
        q, k, v, g = F.linear(x, joint).split([self.D, self.D, self.DV, self.DV], -1)
        q = q.view(B, H, dk)
        k = k.view(B, H, dk) * dk ** -0.5
        q = q * cos + rotate_every_two(q) * sin
        k = k * cos + rotate_every_two(k) * sin
        prev = st.scale
        c = prev * gamma + 1
        a = prev.sqrt() * gamma / c.sqrt()
        S = st.S.view(B * H, dv, dk)
        S.mul_(a.repeat(B).view(B * H, 1, 1))
        vb = (v.view(B, H, dv) / c.sqrt().view(1, H, 1)).reshape(B * H, dv, 1)
        S.baddbmm_(vb, k.reshape(B * H, 1, dk))
        o = torch.bmm(S, q.reshape(B * H, dk, 1)).view(B, H, dv)
        st.scale = c
        o = rms_norm(o, None).reshape(B, self.DV)  # group norm: per head, no affine
        return self.out_proj(F.silu(g) * o)


class RMSNorm(nn.Module):
    def __init__(self, D):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(D))

    def forward(self, x):
        return rms_norm(x, self.weight)


class GLU(nn.Module):
    def __init__(self, D, Fd):
        super().__init__()
        self.fc1 = nn.Linear(D, Fd, bias=False)
        self.gate = nn.Linear(D, Fd, bias=False)
        self.fc2 = nn.Linear(Fd, D, bias=False)

    def forward(self, z):
        return self.fc2(F.silu(self.fc1(z)) * self.gate(z))


class Block(nn.Module):
    def __init__(self, D, DV, Fd, H):
        super().__init__()
        self.retention = MSR(D, DV, H)
        self.retention_layer_norm = RMSNorm(D)
        self.final_layer_norm = RMSNorm(D)
        self.ffn = GLU(D, Fd)

    def forward(self, x, rel):
        h = x + self.retention(self.retention_layer_norm(x), rel)
        return h + self.ffn(self.final_layer_norm(h))

    def step(self, x, *state):
        """One decode step (B,D) -> (B,D); state as MSR.step takes it after x."""
        h = x + self.retention.step(self.retention_layer_norm(x), *state)
        return h + self.ffn(self.final_layer_norm(h))


class RetNetLM(nn.Module):
    """Parameter names are the checkpoint's (torchscale state_dict)."""

    def __init__(self, V, D, DV, Fd, L, H):
        super().__init__()
        self.D = D
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList([Block(D, DV, Fd, H) for _ in range(L)])
        self.layer_norm = RMSNorm(D)
        self.output_projection = nn.Linear(D, V, bias=False)

    def forward(self, tokens, rel):
        x = self.embed_tokens(tokens) * math.sqrt(self.D)
        for layer in self.layers:
            x = layer(x, rel)
        return self.output_projection(self.layer_norm(x))


class Rotary:
    """sin/cos of n*theta for positions 0..T-1 (RetNet's angles, interleaved pairs): retnet/rotation.go."""

    def __init__(self, D, H, T):
        angle = angles(D, H)
        idx = torch.arange(T).to(angle)
        self.sin = torch.sin(idx[:, None] * angle[None, :])
        self.cos = torch.cos(idx[:, None] * angle[None, :])


class SelfAttention(nn.Module):
    """Causal multi-head softmax attention on rotated q and k, scale dk^-1/2 (retnet/attention.go)."""

    def __init__(self, D, H):
        super().__init__()
        self.D, self.H, self.dk = D, H, D // H
        self.q_proj = nn.Linear(D, D, bias=False)
        self.k_proj = nn.Linear(D, D, bias=False)
        self.v_proj = nn.Linear(D, D, bias=False)
        self.out_proj = nn.Linear(D, D, bias=False)

    def forward(self, x, rot):
        B, T, _ = x.shape
        q = self.q_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.H, self.dk).transpose(1, 2)
        q = q * rot.cos + rotate_every_two(q) * rot.sin
        k = k * rot.cos + rotate_every_two(k) * rot.sin
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch 1.x (Debian's, which the tests may use for --verify): the same function, unfused
            s = (q @ k.transpose(-1, -2)) * self.dk ** -0.5
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
            o = torch.softmax(s, -1) @ v
        return self.out_proj(o.transpose(1, 2).reshape(B, T, self.D))

    def joint_weight(self):
        """q, k and v projections stacked into one (3D, D) weight (the Go step's linearJoint)."""
        return torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight])

    def step(self, x, cache, sin, cos, joint):
        """One token of B sequences, x (B,D) at position cache.pos (rotation sin, cos: (dk,)); joint =
        joint_weight(). Writes the token's rotated key and value into the cache at cache.pos and returns
        the layer output (B,D): one attention row over the pos+1 cached positions (no mask needed)."""
        B, H, dk, n = x.shape[0], self.H, self.dk, cache.pos + 1
        q, k, v = F.linear(x, joint).view(B, 3, H, dk).unbind(1)
        q = q * cos + rotate_every_two(q) * sin
        k = k * cos + rotate_every_two(k) * sin
        cache.K[:, :, cache.pos] = k
        cache.V[:, :, cache.pos] = v
        K, V = cache.K[:, :, :n], cache.V[:, :, :n]  # (B,H,n,dk) views of the cache
        q = q.unsqueeze(2)  # (B,H,1,dk)
        if hasattr(F, "scaled_dot_product_attention"):
            o = F.scaled_dot_product_attention(q, K, V)
        else:  # torch 1.x (the tests' Debian torch): the same function, unfused
            o = torch.softmax((q @ K.transpose(-1, -2)) * dk ** -0.5, -1) @ V
        return self.out_proj(o.reshape(B, self.D))


class TransformerBlock(nn.Module):
    def __init__(self, D, Fd, H):
        super().__init__()
        self.self_attn = SelfAttention(D, H)
        self.self_attn_layer_norm = RMSNorm(D)
        self.final_layer_norm = RMSNorm(D)
        self.ffn = GLU(D, Fd)

    def forward(self, x, rot):
        h = x + self.self_attn(self.self_attn_layer_norm(x), rot)
        return h + self.ffn(self.final_layer_norm(h))

    def step(self, x, *cache):
        """One decode step (B,D) -> (B,D); cache as SelfAttention.step takes it after x."""
        h = x + self.self_attn.step(self.self_attn_layer_norm(x), *cache)
        return h + self.ffn(self.final_layer_norm(h))


class TransformerLM(nn.Module):
    """retnet.Transformer: parameter names are its checkpoint's."""

    def __init__(self, V, D, Fd, L, H):
        super().__init__()
        self.D = D
        self.embed_tokens = nn.Embedding(V, D)
        self.layers = nn.ModuleList([TransformerBlock(D, Fd, H) for _ in range(L)])
        self.layer_norm = RMSNorm(D)
        self.output_projection = nn.Linear(D, V, bias=False)

    def forward(self, tokens, rot):
        x = self.embed_tokens(tokens) * math.sqrt(self.D)
        for layer in self.layers:
            x = layer(x, rot)
        return self.output_projection(self.layer_norm(x))


class RetentionState:
    """One layer's recurrent state for B sequences: S (B,H,dv,dk) (torchscale's prev_key_value) and
    scale (H,) c_n = sum_{d<n} gamma^d (torchscale's scale), the same for every sequence."""

    def __init__(self, B, H, dk, dv):
        self.S = torch.zeros(B, H, dv, dk)
        self.scale = torch.zeros(H)


class RetNetDecoder:
    """Recurrent decoding of B sequences with a RetNetLM: O(1) work and memory per token in the context
    (retnet.ModelOf.NewDecoder)."""

    def __init__(self, model, B):
        m0 = model.layers[0].retention
        self.model, self.B, self.pos = model, B, 0
        self.states = [RetentionState(B, m0.H, m0.dk, m0.dv) for _ in model.layers]
        self.joint = [blk.retention.joint_weight() for blk in model.layers]
        self.angle, self.gamma = angles(m0.D, m0.H), decays(m0.H).exp()

    def fill_context(self, n, seed):
        """Put the decoder at position n with random (seeded) states and the c_n that n steps leave: a
        step costs the same whatever S holds (the Go decoder's FillContext)."""
        g = torch.Generator().manual_seed(seed)
        c = torch.zeros_like(self.gamma)
        for _ in range(n):
            c = c * self.gamma + 1
        for st in self.states:
            st.S.normal_(generator=g)
            st.scale = c.clone()
        self.pos = n

    def state_bytes(self):
        return sum(4 * (st.S.numel() + st.scale.numel()) for st in self.states)

    def step(self, tokens):
        """Consume one token per sequence (B,) and return the next-token logits (B,V)."""
        m = self.model
        x = m.embed_tokens(tokens) * math.sqrt(m.D)
        sin, cos = torch.sin(self.pos * self.angle), torch.cos(self.pos * self.angle)
        for blk, st, joint in zip(m.layers, self.states, self.joint):
            x = blk.step(x, st, sin, cos, self.gamma, joint)
        self.pos += 1
        return m.output_projection(m.layer_norm(x))


class KVCache:
    """One layer's rotated keys and values for B sequences, (B,H,capacity,dk) each; positions [0,pos)
    hold the tokens consumed."""

    def __init__(self, B, H, dk, capacity):
        self.K, self.V, self.pos = torch.zeros(B, H, capacity, dk), torch.zeros(B, H, capacity, dk), 0

    def reserve(self, n):
        """Room for n positions (doubling, the old positions copied) -- the Go KVCache's grow."""
        cap = self.K.shape[2]
        if n <= cap:
            return
        cap = max(n, 2 * cap, 64)
        for name in ("K", "V"):
            old = getattr(self, name)
            new = torch.zeros(old.shape[0], old.shape[1], cap, old.shape[3])
            new[:, :, :self.pos] = old[:, :, :self.pos]
            setattr(self, name, new)


class KVCacheDecoder:
    """KV-cache decoding of B sequences with a TransformerLM: each token costs one attention row over the
    context, O(context) work and memory (retnet.KVCache)."""

    def __init__(self, model, B):
        a0 = model.layers[0].self_attn
        self.model, self.B = model, B
        self.caches = [KVCache(B, a0.H, a0.dk, 0) for _ in model.layers]
        self.joint = [blk.self_attn.joint_weight() for blk in model.layers]
        self.angle = angles(a0.D, a0.H)

    @property
    def pos(self):
        return self.caches[0].pos

    def fill_context(self, n, seed):
        """Put the cache at position n holding random (seeded) keys and values, room for n+1 (the Go
        KVCache's FillContext): a step's cost depends on n, not on what the cache holds."""
        g = torch.Generator().manual_seed(seed)
        for c in self.caches:
            c.pos = 0
            c.reserve(n + 1)
            c.K.normal_(generator=g)
            c.V.normal_(generator=g)
            c.pos = n

    def state_bytes(self):
        """2 L B pos D float32s: the keys and values of the tokens consumed (as the Go StateBytes)."""
        return sum(2 * 4 * c.K.shape[0] * c.K.shape[1] * c.pos * c.K.shape[3] for c in self.caches)

    def step(self, tokens):
        """Consume one token per sequence (B,) and return the next-token logits (B,V)."""
        m, pos = self.model, self.pos
        x = m.embed_tokens(tokens) * math.sqrt(m.D)
        sin, cos = torch.sin(pos * self.angle), torch.cos(pos * self.angle)
        for blk, c, joint in zip(m.layers, self.caches, self.joint):
            c.reserve(pos + 1)
            x = blk.step(x, c, sin, cos, joint)
            c.pos += 1
        return m.output_projection(m.layer_norm(x))


def read_safetensors(path):
    """Float32 tensors of a safetensors file (retnet_rel_pos.* and optim.* skipped)."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or name.startswith(("retnet_rel_pos.", "optim.")):
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"lm_torch: {path}: tensor {name} is {t['dtype']}, want F32")
        lo, hi = t["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[base + lo:base + hi]), dtype=torch.float32).reshape(t["shape"])
    return out


