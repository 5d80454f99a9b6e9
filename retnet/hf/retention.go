package hf

import (
	"math"

	"github.com/retlab/retlab/internal/parallel"
	"github.com/retlab/retlab/retnet"
	"github.com/retlab/retlab/retnet/backend/cpu"
)

// fla's multi-scale retention (fla.layers.MultiScaleRetention; the
// definition with its differences from torchscale's is docs/fla-retnet.md):
//
//	q = x Wq^T (H heads of dk), k = x Wk^T, v = x Wv^T (KVH heads; head h
//	uses kv head h / (H/KVH)), g = x Wg^T; rotate-half rotary on q and k
//	o_h[n] = sum_{m<=n} gamma_h^(n-m) (q_n . k_m) dk^-1/2 v_m      no normalisation
//	y_h = RMSNorm_w(o_h) (.) silu(g_h)   (per head, weight w shared, eps norm_eps)
//	MSR(x) = concat_h(y_h) Wo^T
//
// with gamma_h = 1 - 2^(-5-h). The three forms compute the same o:
// parallel (the T x T decayed score matrix), recurrent (state
// S = gamma S + k^T v, o = dk^-1/2 q S) and chunkwise (within a chunk as
// parallel, across chunks through the state).

// retention computes out (B*T, D) = MSR(x) for B sequences of T tokens at
// positions pos.., continuing and updating S ((B,H,dk,dv); nil: none).
func (m *Model) retention(out, x []float32, l int, B, T, pos int, form retnet.Form, chunk int, S []float32) {
	c := m.Config
	L := &m.layers[l]
	N, H, KVH := B*T, c.Heads, c.KVHeads
	dk, dv := c.KeyHeadDim(), c.ValueHeadDim()
	q := make([]float32, N*H*dk)
	k := make([]float32, N*KVH*dk)
	v := make([]float32, N*KVH*dv)
	g := make([]float32, N*H*dv)
	L.q.linear(q, x, N)
	L.k.linear(k, x, N)
	L.v.linear(v, x, N)
	L.g.linear(g, x, N)
	m.rotate(q, B, T, pos, H)
	m.rotate(k, B, T, pos, KVH)
	o := make([]float32, N*H*dv)
	groups := H / KVH
	parallel.For(B*H, func(_, bh int) {
		b, h := bh/H, bh%H
		kv := h / groups
		hd := retHead{
			q: q[b*T*H*dk+h*dk:], ldq: H * dk,
			k: k[b*T*KVH*dk+kv*dk:], ldk: KVH * dk,
			v: v[b*T*KVH*dv+kv*dv:], ldv: KVH * dv,
			o: o[b*T*H*dv+h*dv:], ldo: H * dv,
			T: T, dk: dk, dv: dv, log2g: m.log2Gamma[h], scale: float32(retnet.KeyScale(dk)),
		}
		if m.tap != nil && b == 0 {
			m.tap(l, &hd, h)
		}
		var s []float32
		if S != nil {
			s = S[bh*dk*dv : (bh+1)*dk*dv]
		}
		switch form {
		case retnet.Parallel:
			hd.parallel()
			if s != nil {
				hd.advanceState(s, 0, T)
			}
		case retnet.Chunkwise:
			if s == nil {
				s = make([]float32, dk*dv)
			}
			hd.chunkwise(s, chunk)
		default:
			if s == nil {
				s = make([]float32, dk*dv)
			}
			hd.recurrent(s)
		}
	})
	// Group norm with the shared weight, fused with the swish gate.
	for n := 0; n < N; n++ {
		for h := 0; h < H; h++ {
			oh := o[(n*H+h)*dv : (n*H+h+1)*dv]
			gh := g[(n*H+h)*dv : (n*H+h+1)*dv]
			var ss float64
			for _, v := range oh {
				ss += float64(v) * float64(v)
			}
			r := float32(1 / math.Sqrt(ss/float64(dv)+c.NormEps))
			for i, v := range oh {
				oh[i] = v * r * L.gnorm[i] * silu(gh[i])
			}
		}
	}
	L.o.linear(out, o, N)
}

// retHead is one (sequence, head) of a retention call: strided views.
type retHead struct {
	q, k, v, o         []float32
	ldq, ldk, ldv, ldo int
	T, dk, dv          int
	log2g, scale       float32
}

// pow is gamma^n, as fla's naive_retention forms it: exp2(n log2 gamma) in float32.
func (h *retHead) pow(n int) float32 { return float32(math.Exp2(float64(float32(n) * h.log2g))) }

// parallel: o = ((q k^T dk^-1/2) (.) D) v with D[n][m] = gamma^(n-m), m <= n.
func (h *retHead) parallel() {
	T := h.T
	s := make([]float32, T*T)
	h.scores(s)
	cpu.SgemmSerial(false, false, T, h.dv, T, 1, s, T, h.v, h.ldv, 0, h.o, h.ldo)
}

// scores fills s (T,T) with the decayed scores (q k^T dk^-1/2) (.) D.
func (h *retHead) scores(s []float32) {
	T := h.T
	cpu.SgemmSerial(false, true, T, T, h.dk, h.scale, h.q, h.ldq, h.k, h.ldk, 0, s, T)
	for n := 0; n < T; n++ {
		for m := 0; m < T; m++ {
			if m > n {
				s[n*T+m] = 0
			} else {
				s[n*T+m] *= h.pow(n - m)
			}
		}
	}
}

// recurrent: per token S = gamma S + k^T v, o = dk^-1/2 q S.
func (h *retHead) recurrent(S []float32) {
	gamma := h.pow(1)
	dk, dv := h.dk, h.dv
	for t := 0; t < h.T; t++ {
		q, k, v := h.q[t*h.ldq:t*h.ldq+dk], h.k[t*h.ldk:t*h.ldk+dk], h.v[t*h.ldv:t*h.ldv+dv]
		o := h.o[t*h.ldo : t*h.ldo+dv]
		clear(o)
		// One pass over the state (dk x dv, 0.5 MB a head at 1.3B): each row
		// is updated and read into o while it is in the L1 cache.
		for i := 0; i < dk; i++ {
			row := S[i*dv : (i+1)*dv]
			cpu.Scale(gamma, row)
			cpu.Axpy(k[i], v, row)
			cpu.Axpy(q[i]*h.scale, row, o)
		}
	}
}

// chunkwise: chunks of C tokens; inside a chunk the parallel form plus the
// contribution of the state before it, (q_i dk^-1/2 gamma^(i+1)) S; then
// S = gamma^len S + sum_j gamma^(len-1-j) k_j^T v_j.
func (h *retHead) chunkwise(S []float32, C int) {
	dk, dv := h.dk, h.dv
	C = min(C, h.T)
	s := make([]float32, C*C)
	qs := make([]float32, C*dk)
	for t0 := 0; t0 < h.T; t0 += C {
		n := min(C, h.T-t0)
		q, k, v, o := h.q[t0*h.ldq:], h.k[t0*h.ldk:], h.v[t0*h.ldv:], h.o[t0*h.ldo:]
		cpu.SgemmSerial(false, true, n, n, dk, h.scale, q, h.ldq, k, h.ldk, 0, s, n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				if j > i {
					s[i*n+j] = 0
				} else {
					s[i*n+j] *= h.pow(i - j)
				}
			}
		}
		cpu.SgemmSerial(false, false, n, dv, n, 1, s, n, v, h.ldv, 0, o, h.ldo)
		for i := 0; i < n; i++ {
			f := h.scale * h.pow(i+1)
			for j := 0; j < dk; j++ {
				qs[i*dk+j] = q[i*h.ldq+j] * f
			}
		}
		cpu.SgemmSerial(false, false, n, dv, dk, 1, qs, dk, S, dv, 1, o, h.ldo)
		h.advanceState(S, t0, t0+n)
	}
}

// advanceState moves S over tokens [t0, t1): S = gamma^len S + sum_j gamma^(t1-1-j) k_j^T v_j.
func (h *retHead) advanceState(S []float32, t0, t1 int) {
	n := t1 - t0
	dk := h.dk
	ks := make([]float32, n*dk)
	for j := 0; j < n; j++ {
		f := h.pow(n - 1 - j)
		for i := 0; i < dk; i++ {
			ks[j*dk+i] = h.k[(t0+j)*h.ldk+i] * f
		}
	}
	cpu.Scale(h.pow(n), S)
	cpu.SgemmSerial(true, false, dk, h.dv, n, 1, ks, dk, h.v[t0*h.ldv:], h.ldv, 1, S, h.dv)
}
