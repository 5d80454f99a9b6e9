package cuda

import "math"

// chunkTables computes, for chunk size C and every head, the coefficients
// the chunkwise kernels take from the host, rounded as retnet's DecayTable
// rounds them (powers gamma^d = float32(exp(d log gamma)), sums in float64):
//
//	inv[h*C+i]     = 1/sqrt(sum_{d<=i} gamma^d), i < C     (DecayTable.InvSqrtCum)
//	pow[h*65+d]    = gamma^d, d <= 64                       (DecayTable.Pow)
//	invSC[h]       = float32(1 / S_C), S_C = sum_{d<C} gamma^d
//
// laid out as one (H*(C+66)) slice: inv, pow, invSC.
func chunkTables(logGamma []float32, H, C int) []float32 {
	out := make([]float32, H*(C+powLen+1))
	inv, pw, invSC := out[:H*C], out[H*C:H*(C+powLen)], out[H*(C+powLen):]
	for h := 0; h < H; h++ {
		lg := float64(logGamma[h])
		p := func(d int) float32 { return float32(math.Exp(float64(d) * lg)) }
		var cum float64
		for i := 0; i < C; i++ {
			cum += float64(p(i))
			inv[h*C+i] = float32(1 / math.Sqrt(cum))
		}
		invSC[h] = float32(1 / cum)
		for d := 0; d < powLen; d++ {
			pw[h*powLen+d] = p(d)
		}
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
