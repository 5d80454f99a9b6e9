package retnet

// EmbeddingForward writes out[i] = scale * E[tokens[i]]. It panics on a
// token outside [0, V) where V = len(E)/C.
func EmbeddingForward[T Float](out []T /* (N,C) */, tokens []int32 /* (N) */, E []T /* (V,C) */, C int, scale T) {
	for i, t := range tokens {
		e := E[int(t)*C : (int(t)+1)*C]
		dst := out[i*C : (i+1)*C]
		for j, v := range e {
			dst[j] = scale * v
		}
	}
}

// EmbeddingBackward adds dE[tokens[i]] += scale * dout[i].
func EmbeddingBackward[T Float](dE []T /* (V,C) */, dout []T /* (N,C) */, tokens []int32 /* (N) */, C int, scale T) {
	for i, t := range tokens {
		axpy(scale, dout[i*C:(i+1)*C], dE[int(t)*C:(int(t)+1)*C])
	}
}
