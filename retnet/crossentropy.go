package retnet

import "math"

// CrossEntropyForward computes, per row i, the softmax of logits[i] into
// probs[i] and losses[i] = -log probs[i][targets[i]] (natural log), and
// returns the mean loss. Sums are formed in float64; the exponentials are
// the vector kernel's (cpu.ExpScaled in float32), rows spread over the cores.
// A target < 0 marks a row to ignore (loss 0, not counted in the mean).
func CrossEntropyForward[T Float](probs []T /* (N,V) */, losses []float64 /* (N) */, logits []T /* (N,V) */, targets []int32 /* (N) */, V int) float64 {
	forRowBlocks(len(targets), V, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := logits[i*V : (i+1)*V]
			lse := softmaxRow(probs[i*V:(i+1)*V], row)
			if t := targets[i]; t >= 0 {
				losses[i] = lse - float64(row[t])
			} else {
				losses[i] = 0
			}
		}
	})
	var total float64
	count := 0
	for i, t := range targets {
		if t >= 0 {
			total += losses[i]
			count++
		}
	}
	if count == 0 {
		return 0
	}
	return total / float64(count)
}

// softmaxRow sets p = softmax(row) (p may be row) and returns
// log(sum_j exp(row_j)), in three passes: the maximum, exp(row - max) with
// its sum, the scaling.
func softmaxRow[T Float](p, row []T) float64 {
	mx := maxOf(row)
	s := expShiftSum(p, row, mx)
	scale(T(1/s), p)
	return float64(mx) + math.Log(s)
}

// CrossEntropyBackward adds the gradient of the mean loss into dlogits:
// (probs - onehot(target)) / count per counted row.
func CrossEntropyBackward[T Float](dlogits []T /* (N,V) */, probs []T /* (N,V) */, targets []int32 /* (N) */, V int) {
	count := 0
	for _, t := range targets {
		if t >= 0 {
			count++
		}
	}
	if count == 0 {
		return
	}
	inv := 1 / T(count)
	forRowBlocks(len(targets), V, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := targets[i]
			if t < 0 {
				continue
			}
			d := dlogits[i*V : (i+1)*V]
			p := probs[i*V : (i+1)*V]
			for j, v := range p {
				d[j] += v * inv
			}
			d[t] -= inv
		}
	})
}

// logSumExp returns log(sum_j exp(row_j)), computed stably in float64.
func logSumExp[T Float](row []T) float64 {
	mx := float64(row[0])
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return math.Log(s) + mx
}
