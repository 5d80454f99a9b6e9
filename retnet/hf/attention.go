package hf

import (
	"math"

	"github.com/retlab/retlab/internal/parallel"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// Causal softmax attention of fla's Transformer++ (fla.layers.Attention,
// flash_attn_func) and LLaMA (LlamaAttention), which agree:
//
//	q = x Wq^T (H heads of hd), k = x Wk^T, v = x Wv^T (KVH heads; query head
//	h uses kv head h / (H/KVH)); rotate-half rotary on q and k
//	o_h[n] = softmax_{m<=n}(q_n . k_m / sqrt(hd)) v_m
//	Attn(x) = concat_h(o_h) Wo^T
//
// Keys and values of earlier calls come from the KV cache, kept rotated.

// attnBlock is the number of query rows scored per matrix product.
const attnBlock = 64

// attention computes out (B*T, D) for B sequences of T tokens at positions
// pos.., appending their keys and values to the caches when given.
func (m *Model) attention(out, x []float32, L *layer, B, T, pos int, kc, vc *[]float32) {
	c := m.Config
	N, H, KVH, hd := B*T, c.Heads, c.KVHeads, c.HeadDim
	q := make([]float32, N*H*hd)
	k := make([]float32, N*KVH*hd)
	v := make([]float32, N*KVH*hd)
	L.q.linear(q, x, N)
	L.k.linear(k, x, N)
	L.v.linear(v, x, N)
	m.rotate(q, B, T, pos, H)
	m.rotate(k, B, T, pos, KVH)
	W := KVH * hd // one token's keys
	keys, vals := k, v
	n := T // keys per sequence
	if kc != nil {
		// Cache layout (B, Pos, W): append each sequence's new rows.
		old := pos
		nk, nv := make([]float32, B*(old+T)*W), make([]float32, B*(old+T)*W)
		for b := 0; b < B; b++ {
			copy(nk[b*(old+T)*W:], (*kc)[b*old*W:(b+1)*old*W])
			copy(nk[(b*(old+T)+old)*W:], k[b*T*W:(b+1)*T*W])
			copy(nv[b*(old+T)*W:], (*vc)[b*old*W:(b+1)*old*W])
			copy(nv[(b*(old+T)+old)*W:], v[b*T*W:(b+1)*T*W])
		}
		*kc, *vc = nk, nv
		keys, vals, n = nk, nv, old+T
	}
	o := make([]float32, N*H*hd)
	groups := H / KVH
	scale := float32(retnet.KeyScale(hd))
	br := min(attnBlock, T)
	parallel.For(B*H, func(_, bh int) {
		b, h := bh/H, bh%H
		kv := h / groups
		qh := q[b*T*H*hd+h*hd:]
		kh := keys[b*n*W+kv*hd:]
		vh := vals[b*n*W+kv*hd:]
		oh := o[b*T*H*hd+h*hd:]
		s := make([]float32, br*n)
		for i0 := 0; i0 < T; i0 += br {
			r := min(br, T-i0)
			last := n - T + i0 + r // keys 0..last-1 are visible to this block
			cpu.SgemmSerial(false, true, r, last, hd, scale, qh[i0*H*hd:], H*hd, kh, W, 0, s, last)
			for i := 0; i < r; i++ {
				softmaxPrefix(s[i*last:(i+1)*last], n-T+i0+i+1)
			}
			cpu.SgemmSerial(false, false, r, hd, last, 1, s, last, vh, W, 0, oh[i0*H*hd:], H*hd)
		}
	})
	L.o.linear(out, o, N)
}

// softmaxPrefix turns row[:valid] into probabilities and zeroes the rest.
func softmaxPrefix(row []float32, valid int) {
	mx := row[0]
	for _, v := range row[1:valid] {
		mx = max(mx, v)
	}
	var sum float64
	for j, v := range row[:valid] {
		e := math.Exp(float64(v - mx))
		row[j] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for j := range row[:valid] {
		row[j] *= inv
	}
	clear(row[valid:])
}
