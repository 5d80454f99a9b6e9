package train

import (
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
// T tokens), batches of B windows (the last padded with ignored rows, so
// every call has the same shape), at most maxTokens predicted tokens (<= 0:
// the whole split).
func Evaluate(model retnet.LanguageModel, data *Dataset, B, nT int, maxTokens int64) (EvalResult, error) {
	batches, err := data.ValBatches(B, nT, maxTokens)
	if err != nil {
		return EvalResult{}, err
	}
	inputs, targets := make([]int32, B*nT), make([]int32, B*nT)
	var sum float64
	var count int64
	for _, vb := range batches {
		copy(inputs, vb.Inputs)
		copy(targets, vb.Targets)
		for i := vb.B * nT; i < B*nT; i++ {
			inputs[i], targets[i] = 0, -1
		}
		n := int64(vb.B * nT)
		sum += model.Loss(inputs, targets, B, nT) * float64(n)
		count += n
	}
	loss := sum / float64(count)
	if math.IsNaN(loss) {
		return EvalResult{}, fmt.Errorf("train: validation loss is NaN")
	}
	return EvalResult{Loss: loss, Perplexity: math.Exp(loss), BitsPerTok: loss / math.Ln2, Tokens: count, SeqLen: nT}, nil
}
