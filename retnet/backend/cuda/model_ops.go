package cuda

import (
	"fmt"
	"unsafe"
)

// The device operations of a language model forward around retention
// (kernels/model.cu), used by package retnet/backend/cuda/lm. All enqueue
// work on device buffers and panic when a buffer is too short.

// CopyFromInt32 copies int32 values (token ids) to the start of x; the
// kernels read them as int.
func (x *Buffer) CopyFromInt32(src []int32) error {
	if len(src) > x.n {
		panic(fmt.Sprintf("cuda: copying %d ints into a buffer of %d", len(src), x.n))
	}
	if len(src) == 0 {
		return nil
	}
	return x.b.do(func() error { return x.b.drv.htod(x.p, unsafe.Pointer(&src[0]), 4*int64(len(src))) })
}

// EmbedDev sets x (N,D) to scale * E[tokens[i]] (E (V,D), tokens N int32
// from CopyFromInt32). Tokens must be in range: the kernel does not check.
func (b *Backend) EmbedDev(x, E, tokens *Buffer, N, D int, scale float32) error {
	needs("EmbedDev", "x", x, N*D)
	needs("EmbedDev", "tokens", tokens, N)
	return b.do(func() error {
		return b.launch("lm_embed", elemLaunch(N*D), argB(x), argB(E), argB(tokens), argI(N), argI(D), argF(scale))
	})
}

// RMSNormDev sets out (N,C) = x / sqrt(mean(x^2) + eps) (.) w per row
// (retnet.RMSNormForward with a weight w (C)).
func (b *Backend) RMSNormDev(out, x, w *Buffer, N, C int, eps float64) error {
	needs("RMSNormDev", "out", out, N*C)
	needs("RMSNormDev", "x", x, N*C)
	needs("RMSNormDev", "w", w, C)
	return b.do(func() error {
		return b.launch("lm_rmsnorm", rowLaunch(N), argB(out), argB(x), argB(w), argI(N), argI(C), argD(eps))
	})
}

// GLUDev sets act = f(a) (.) g for n values, f = silu, or the exact gelu
// when gelu is true.
func (b *Backend) GLUDev(act, a, g *Buffer, n int, gelu bool) error {
	needs("GLUDev", "act", act, n)
	needs("GLUDev", "a", a, n)
	needs("GLUDev", "g", g, n)
	flag := 0
	if gelu {
		flag = 1
	}
	return b.do(func() error {
		return b.launch("lm_glu", elemLaunch(n), argB(act), argB(a), argB(g), argL(int64(n)), argI(flag))
	})
}

// AxpyDev does y += alpha x for n values.
func (b *Backend) AxpyDev(y, x *Buffer, alpha float32, n int) error {
	needs("AxpyDev", "y", y, n)
	needs("AxpyDev", "x", x, n)
	return b.do(func() error {
		return b.launch("lm_axpy", elemLaunch(n), argB(y), argB(x), argF(alpha), argL(int64(n)))
	})
}

// RunDev advances the state over T tokens of every sequence: q, k
// (B,T,H*Dk), v, o (B,T,H*Dv) device buffers, one step kernel per token.
func (d *Decoder) RunDev(q, k, v, o *Buffer, T int) error {
	if T < 1 {
		panic(fmt.Sprintf("cuda: Decoder.RunDev over %d tokens", T))
	}
	needs("Decoder.RunDev", "q", q, T*d.hostQK)
	needs("Decoder.RunDev", "k", k, T*d.hostQK)
	needs("Decoder.RunDev", "v", v, T*d.hostVO)
	needs("Decoder.RunDev", "o", o, T*d.hostVO)
	return d.b.do(func() error {
		ldqk, ldv := int64(T*d.H*d.Dk), int64(T*d.H*d.Dv)
		for t := 0; t < T; t++ {
			if err := d.step(q.p, k.p, v.p, o.p, t*d.H*d.Dk, t*d.H*d.Dv, ldqk, ldv); err != nil {
				return err
			}
		}
		return nil
	})
}

// Reset empties the state (S = 0, scale = 0).
func (d *Decoder) Reset() error {
	return d.b.do(func() error {
		if err := d.b.drv.zero(d.S.p, int64(d.S.n)); err != nil {
			return err
		}
		return d.b.drv.zero(d.scale[d.cur].p, int64(d.H))
	})
}
