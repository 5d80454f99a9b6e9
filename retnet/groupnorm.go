package retnet

// GroupNormGateForward is the tail of multi-scale retention before the output
// projection: each head's retention output is RMS-normalised without affine
// weights (torchscale's group_norm, eps GroupNormEps), then gated by swish:
//
//	y[n, h*dv:(h+1)*dv] = o / sqrt(mean(o^2) + eps)   (per row n and head h)
//	gated = silu(g) (.) y
//
// rstd (N,H) keeps 1/sqrt(mean(o^2)+eps) for the backward pass.
func GroupNormGateForward[T Float](gated, y []T /* (N,H*dv) */, rstd []T /* (N,H) */, o, g []T /* (N,H*dv) */, N, H, dv int, eps float64) {
	RMSNormForward(y, rstd, o, nil, N*H, dv, eps)
	M := N * H * dv
	siluMul(gated[:M], g[:M], y[:M])
}

// GroupNormGateBackward adds the gradients of GroupNormGateForward into
// do_ and dg given dgated; dy is scratch (N,H*dv).
func GroupNormGateBackward[T Float](do_, dg, dy []T /* (N,H*dv) */, dgated, o, g, y []T /* (N,H*dv) */, rstd []T /* (N,H) */, N, H, dv int) {
	M := N * H * dv
	forElems(M, func(lo, hi int) {
		sigmoid(dy[lo:hi], g[lo:hi])
		for i := lo; i < hi; i++ {
			gv, s := g[i], dy[i]
			dg[i] += dgated[i] * y[i] * (s * (1 + gv*(1-s)))
			dy[i] = dgated[i] * gv * s
		}
	})
	RMSNormBackward(do_, nil, dy, o, nil, rstd, N*H, dv)
}
