package train

import (
	"context"
	"fmt"
	"math"

	"github.com/retlab/retlab/retnet"
)

// EvalResult is a validation measurement.
type EvalResult struct {
	Loss       float64 `json:"val_loss"`       // mean next-token NLL (nats per byte for byte tokens)
	Perplexity float64 `json:"ppl"`            // exp(Loss)
	BitsPerTok float64 `json:"bits_per_token"` // Loss / ln 2 (bits per byte)
	Tokens     int64   `json:"tokens"`         // predicted tokens
	SeqLen     int     `json:"seq_len"`
}

// Evaluate returns the mean next-token loss of model on the validation
// split: consecutive non-overlapping windows of T+1 bytes (each predicting
// T tokens, Dataset.ValTokens), at most maxTokens predicted tokens (<= 0:
// the whole split), scored by retnet.Perplexity in batches of B windows
// (the last padded with ignored rows, so every call has the same shape).
func Evaluate(model retnet.LanguageModel, data *Dataset, B, nT int, maxTokens int64) (EvalResult, error) {
	ids, err := data.ValTokens(nT, maxTokens)
	if err != nil {
		return EvalResult{}, err
	}
	res, err := retnet.Perplexity(context.Background(), model, ids, nT, B, nil)
	if err != nil {
		return EvalResult{}, err
	}
	if math.IsNaN(res.Loss) {
		return EvalResult{}, fmt.Errorf("train: validation loss is NaN")
	}
	return EvalResult{Loss: res.Loss, Perplexity: res.Perplexity, BitsPerTok: res.Loss / math.Ln2, Tokens: res.Tokens, SeqLen: nT}, nil
}
