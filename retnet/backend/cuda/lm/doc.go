// Package lm runs a RetNet language model's inference on the GPU: the
// forward pass in any retention form and recurrent decoding, with the
// weights uploaded once and every activation and recurrent state kept in
// device memory. Only token ids go up and logits come down.
//
// It mirrors retnet.ModelOf.forward op for op (embedding, RMSNorm,
// projections, rotation, retention, group norm + gate, output projection,
// GLU feed-forward, residuals, final norm, logits) with the kernels of
// package cuda, so its logits match the CPU model's (lm_test.go checks
// them, on the emulator in every `make test`).
//
//	b, _ := cuda.Open()
//	g, _ := lm.New(b, model)              // model *retnet.Model
//	defer g.Close()
//	logits, _ := g.Logits(tokens, retnet.Chunkwise, 0)
//	dec, _ := g.NewDecoder(64)            // retnet.Decoder: Prefill, Step
//	next, _ := dec.Step(ids)
//
// Training (the backward pass) stays on the CPU.
//
// The model's formulas come from package retnet, not copies: the residual
// scale is retnet.Config.ResidualAlpha, the embedding scale
// retnet.Config.EmbedScale and the key scale retnet.KeyScale. Its device
// activations follow the CPU models' memory rule (internal/plan): sized
// for one (B,T) from one table, reused for that shape, freed and planned
// anew for another; a Decoder's one-token steps keep a plan of their own.
//
// Imports: retnet (config, weights, the Decoder interface), retnet/backend,
// retnet/backend/cuda, internal/plan.
package lm
