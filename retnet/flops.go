package retnet

// FLOP formulas: the nominal floating-point work of the layers and of a
// training step, shared by the benchmarks, the trainer's GFLOP/s and the
// PyTorch reference scripts.

// RetentionFLOPs is the nominal floating-point work of one MSR layer forward,
// the formula shared with the PyTorch reference script so GFLOP/s compare
// like for like: projections 2BTD(2D+2DV) + output 2BT*DV*D, plus the core:
//
//	parallel:  2BH T^2 (dk+dv)                  (the full T x T products)
//	chunkwise: per chunk of C tokens and head, 2C^2(dk+dv) + 4C dk dv
//	recurrent: 4 dk dv per token and head
func RetentionFLOPs(form Form, B, T, D, DV, H, chunk int) float64 {
	b, t, d, dv := float64(B), float64(T), float64(D), float64(DV)
	h := float64(H)
	dkh, dvh := d/h, dv/h
	f := 2*b*t*d*(2*d+2*dv) + 2*b*t*dv*d
	switch form {
	case Parallel:
		f += 2 * b * h * t * t * (dkh + dvh)
	case Chunkwise:
		c := float64(min(chunk, T))
		nc := float64((T + min(chunk, T) - 1) / min(chunk, T))
		f += b * h * nc * (2*c*c*(dkh+dvh) + 4*c*dkh*dvh)
	case Recurrent:
		f += b * h * t * 4 * dkh * dvh
	}
	return f
}

// RetentionFLOPsExecuted is the work the Go forms execute, which is what
// their GFLOP/s and MFU are computed from: RetentionFLOPs, except that the
// parallel form computes only the causal part of q k^T and S V: row tiles of
// ParallelTile queries against the keys up to the tile's last row
// (sum over tiles of 2 B H rows r1 (dk+dv), about half of T^2 for T >>
// ParallelTile). The chunkwise and recurrent forms execute their nominal work.
func RetentionFLOPsExecuted(form Form, B, T, D, DV, H, chunk int) float64 {
	if form != Parallel {
		return RetentionFLOPs(form, B, T, D, DV, H, chunk)
	}
	full := RetentionFLOPs(form, B, T, D, DV, H, chunk)
	b, h := float64(B), float64(H)
	dkh, dvh := float64(D)/h, float64(DV)/h
	core := 0.0
	for r0 := 0; r0 < T; r0 += ParallelTile {
		r1 := min(T, r0+ParallelTile)
		core += 2 * b * h * float64(r1-r0) * float64(r1) * (dkh + dvh)
	}
	return full - 2*b*h*float64(T)*float64(T)*(dkh+dvh) + core
}

// TrainStepFLOPs is the nominal work of one training step of a model with
// n non-embedding plus embedding parameters on B*T tokens: 6 n per token
// (forward 2, backward 4), the usual estimate (mixer terms excluded).
func TrainStepFLOPs(params int64, B, T int) float64 {
	return 6 * float64(params) * float64(B*T)
}
