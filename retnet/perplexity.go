package retnet

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Perplexity is the one scorer of a token stream, for every model RetLab
// opens: the trainer's validation (retnet/train.Evaluate), `retlab eval` on
// any checkpoint, and the Hugging Face models' Perplexity method all come
// here.

// batchLoss is a model with a planned forward-only loss: LanguageModel's
// Loss (RetLab's RetNet and Transformer).
type batchLoss interface {
	Loss(inputs, targets []int32, B, T int) float64
}

// Perplexity scores tokens in consecutive windows of seqLen+1 tokens, each
// predicting seqLen (a shorter last window is kept), up to B windows of one
// length per forward pass, and returns the mean next-token loss over every
// predicted token, tokens[1:]. A model with a training loss (a
// LanguageModel) is scored through its Loss, in the form it trains in, each
// pass padded to B rows with ignored targets, so the numbers are its
// trainer's validation numbers; any other model through Logits (RetNets in
// the chunkwise form) and NLL. progress, if not nil, is called after each
// pass with the tokens done and the total. It stops at once when ctx is
// cancelled, returning the windows scored so far (if any) and ctx's error.
// Errors name a token outside the vocabulary; seqLen and B must be >= 1
// and there must be two tokens at least.
func Perplexity(ctx context.Context, m Inference, tokens []int, seqLen, B int, progress func(done, total int64)) (PerplexityResult, error) {
	if seqLen < 1 || B < 1 {
		return PerplexityResult{}, fmt.Errorf("retnet: perplexity with seq_len %d and batch %d (want >= 1)", seqLen, B)
	}
	if len(tokens) < 2 {
		return PerplexityResult{}, fmt.Errorf("retnet: perplexity needs at least 2 tokens, got %d", len(tokens))
	}
	V := m.VocabSize()
	for i, t := range tokens {
		if t < 0 || t >= V {
			return PerplexityResult{}, fmt.Errorf("retnet: perplexity: token %d at position %d is outside the vocabulary [0,%d)", t, i, V)
		}
	}
	type window struct{ start, n int } // inputs tokens[start:start+n], targets shifted by one
	var ws []window
	for s := 0; s+1 < len(tokens); s += seqLen {
		ws = append(ws, window{s, min(seqLen, len(tokens)-1-s)})
	}
	lm, padded := m.(batchLoss)
	total := int64(len(tokens) - 1)
	var sum float64
	var done int64
	t0 := time.Now()
	var err error
	for i := 0; i < len(ws); {
		if err = ctx.Err(); err != nil {
			break
		}
		// A batch of equal-length windows.
		n := ws[i].n
		j := i
		for j < len(ws) && j-i < B && ws[j].n == n {
			j++
		}
		rows := j - i
		if padded {
			rows = B
		}
		targets := make([]int32, 0, rows*n)
		for _, w := range ws[i:j] {
			for _, t := range tokens[w.start+1 : w.start+n+1] {
				targets = append(targets, int32(t))
			}
		}
		scored := int64(len(targets))
		if padded {
			inputs := make([]int32, 0, rows*n)
			for _, w := range ws[i:j] {
				for _, t := range tokens[w.start : w.start+n] {
					inputs = append(inputs, int32(t))
				}
			}
			for len(inputs) < rows*n { // padding rows: token 0, target ignored
				inputs, targets = append(inputs, 0), append(targets, -1)
			}
			sum += lm.Loss(inputs, targets, rows, n) * float64(scored)
		} else { // Logits takes the windows as they stand in tokens
			seqs := make([][]int, j-i)
			for k, w := range ws[i:j] {
				seqs[k] = tokens[w.start : w.start+n]
			}
			var logits []float32
			if logits, err = m.Logits(seqs, Chunkwise, 0); err != nil {
				return PerplexityResult{}, err
			}
			for _, v := range NLL(logits, targets, V) {
				sum += v
			}
		}
		done += scored
		if progress != nil {
			progress(done, total)
		}
		i = j
	}
	if done == 0 {
		return PerplexityResult{}, err
	}
	dt := time.Since(t0).Seconds()
	loss := sum / float64(done)
	return PerplexityResult{Loss: loss, Perplexity: math.Exp(loss), Tokens: done, SeqLen: seqLen, Seconds: dt, TokensPerSec: float64(done) / dt}, err
}
