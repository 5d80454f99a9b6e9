package cuda

import "math"

// chunkTables computes, for chunk size C and every head, the coefficients
// the chunkwise kernels take from the host, rounded exactly as
// retnet.ChunkwiseRetention rounds them (from retnet.NewDecayTable: powers
// gamma^d = float32(exp(d log gamma)), sums in float64):
//
//	inv[h*C+i] = 1/sqrt(sum_{d<=i} gamma^d)            (InvSqrtCum)
//	qd[h*C+i]  = float32(gamma^(i+1) * S_C * inv[i])    S_C = sum_{d<C} gamma^d
//	wv[h*C+j]  = float32(gamma^(C-1-j) / S_C)
//	gC[h]      = gamma^C
//
// laid out as one (H*(3C+1)) slice: inv, qd, wv, gC.
func chunkTables(logGamma []float32, H, C int) []float32 {
	out := make([]float32, H*(3*C+1))
	inv, qd, wv, gC := out[:H*C], out[H*C:2*H*C], out[2*H*C:3*H*C], out[3*H*C:]
	pow := make([]float32, C+1)
	for h := 0; h < H; h++ {
		lg := float64(logGamma[h])
		var cum float64
		for d := 0; d <= C; d++ {
			pow[d] = float32(math.Exp(float64(d) * lg))
		}
		for i := 0; i < C; i++ {
			cum += float64(pow[i])
			inv[h*C+i] = float32(1 / math.Sqrt(cum))
		}
		SC := cum
		for i := 0; i < C; i++ {
			qd[h*C+i] = float32(float64(pow[i+1]) * SC * float64(inv[h*C+i]))
			wv[h*C+i] = float32(float64(pow[C-1-i]) / SC)
		}
		gC[h] = pow[C]
	}
	return out
}

// gammas returns float32(exp(logGamma[h])) per head, the decay the
// recurrent step uses (as retnet.RecurrentRetention rounds it).
func gammas(logGamma []float32) []float32 {
	g := make([]float32, len(logGamma))
	for h, lg := range logGamma {
		g[h] = float32(math.Exp(float64(lg)))
	}
	return g
}
