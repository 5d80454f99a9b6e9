package retnet

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
)

// logitsOnly hides a model's Loss, so Perplexity scores it the way it
// scores a Hugging Face model: through Logits (chunkwise) and NLL.
type logitsOnly struct{ Inference }

// Perplexity against the numpy reference's per-token NLL
// (lm_tiny_expected.safetensors, make_reference.py): through Loss (the
// trainer's path, padded batches) and through Logits, on each sequence as
// one window; shorter windows count every token; errors and cancellation.
func TestPerplexity(t *testing.T) {
	m, err := Load(filepath.Join("testdata", "lm_tiny.safetensors"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := refFile(t, "lm_tiny_expected.safetensors")
	tokens, ts, _ := f.Int64("tokens")
	B, T := ts[0], ts[1]
	ctx := context.Background()
	// Both paths compute the parallel form here: the model trains in it,
	// and the chunkwise form of T <= DefaultChunk tokens is one chunk.
	nll, _ := refTensor(t, f, "nll.parallel") // (B,T-1)
	for _, c := range []struct {
		name string
		m    Inference
	}{{"Loss", m}, {"Logits", logitsOnly{m}}} {
		for b := 0; b < B; b++ {
			seq := make([]int, T)
			for i := range seq {
				seq[i] = int(tokens[b*T+i])
			}
			var want float64
			for _, v := range nll[b*(T-1) : (b+1)*(T-1)] {
				want += float64(v)
			}
			want /= float64(T - 1)
			res, err := Perplexity(ctx, c.m, seq, T-1, 3, nil) // one window, padded to 3 rows on the Loss path
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(res.Loss-want) > refTol || res.Tokens != int64(T-1) || math.Abs(res.Perplexity-math.Exp(want)) > 1e-4 {
				t.Errorf("%s, sequence %d: loss %.6f over %d tokens, reference %.6f over %d", c.name, b, res.Loss, res.Tokens, want, T-1)
			}
			var calls []int64
			short, err := Perplexity(ctx, c.m, seq, 5, 2, func(done, total int64) {
				if total != int64(T-1) {
					t.Errorf("progress total %d, want %d", total, T-1)
				}
				calls = append(calls, done)
			})
			// Windows 5, 5, 2: one pass of the two full windows, one of the short one.
			if err != nil || short.Tokens != int64(T-1) || len(calls) != 2 || calls[0] != 10 || calls[1] != int64(T-1) {
				t.Errorf("%s: windows of 5: %+v, progress %v, %v", c.name, short, calls, err)
			}
		}
	}
	if _, err := Perplexity(ctx, m, []int{1, m.Config.Vocab}, 4, 1, nil); err == nil {
		t.Error("a token outside the vocabulary must be an error")
	}
	if _, err := Perplexity(ctx, m, []int{1}, 4, 1, nil); err == nil {
		t.Error("one token must be an error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if res, err := Perplexity(cancelled, m, []int{1, 2, 3}, 1, 1, nil); !errors.Is(err, context.Canceled) || res.Tokens != 0 {
		t.Errorf("cancelled: %+v, %v", res, err)
	}
}
