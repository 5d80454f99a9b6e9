// Package retnet implements Retentive Networks (RetNet, Sun et al. 2023,
// arXiv 2307.08621) exactly as torchscale defines them (the definition, with
// its traps and the paper's numbers, is docs/retnet-spec.md; "the spec" in
// comments and tests means that file): retention in its
// three forms, multi-scale retention, the RetNet decoder language model, and
// torchscale-compatible safetensors checkpoints. Pure Go on the CPU by
// default; see package retnet/backend for other backends.
//
// # Retention
//
// One head of retention maps rotated queries q, scaled keys k and values v of
// a sequence to outputs o = sum_{m<=n} gamma^(n-m) (q_n . k_m) v_m, times a
// positive normalising scalar per token. It can be computed three ways that
// agree after the group norm (exactly when its eps is 0):
//
//	ParallelRetention   O(T^2) per head, all tokens at once: training
//	ChunkwiseRetention  O(T) with chunk-sized matrix products: long prefill
//	RecurrentRetention  O(1) per token from a (dv,dk) state: decoding
//
// Decays: Gammas / LogGammas (torchscale's 1-2^(-5-h), or the paper's
// experiment schedule), DecayMask, HalfLife, EffectiveMemory. Rotation:
// Angles, RotationTable.
//
// # Models
//
// A Config (or a paper Preset: base, medium, xl, 3b, 7b, 13b, 65b) describes a
// model; New allocates it, InitWeights initialises it as torchscale does, Load
// reads a checkpoint. Params are named views over one flat slice.
//
//	m, _ := retnet.Load("model.safetensors", retnet.LoadOptions{})
//	logits, _ := m.Logits([][]int{{3, 1, 4, 1}}, retnet.Parallel, 0) // (B,T,V)
//
// Inference is what every model that comes from a checkpoint shares with
// the Hugging Face models of retnet/hf (fla's RetNet, Transformer++, LLaMA);
// Retentive adds decays, retention scores and form agreement for the RetNets
// of both flavours (AsRetentive). Package retnet/load opens any of them from
// a path or a hub name; Load itself returns the concrete *Model.
//
// Decoding keeps a typed recurrent State: Prefill a prompt (chunkwise), then
// Step one token at a time in constant time and memory.
//
//	st := m.NewState(1)
//	logits, _ = m.Prefill(st, [][]int{prompt}, 0)
//	next, _ := m.Step(st, []int{tok})
//
// # Where things live
//
// This package is the model maths: config, one file per layer with its
// forward and backward side by side, the RetNet and Transformer language
// models (LanguageModel, Decoder), recurrent state and KV cache, checkpoints,
// Perplexity (perplexity.go: the one scorer of a token stream, for the
// trainer's validation, `retlab eval` and the Hugging Face models alike),
// the model-size Ladder and the FLOP formulas (flops.go). Its result records
// (results.go: bench points, training log entries, retention score maps) are
// the plain JSON structs that notebooks, the CLI and package viz share.
// Training, data, the optimizer and evaluation are in package retnet/train;
// the benchmarks in retnet/bench; the kernels behind the maths in
// retnet/backend/cpu (numeric.go calls them). This package registers the
// default backend, "cpu" (cpubackend.go: its own CPU code, products by
// cpu.Sgemm); the others are in retnet/backend. It imports no display code.
//
// # Conventions
//
// Tensors are row-major []float32 with their shape in a comment, e.g.
// (B,T,D). Linear weights are stored (out, in) and applied as y = x W^T.
// Functions panic on programmer misuse (wrong slice sizes) with a "retnet:"
// message and return errors on circumstance (files, user input).
package retnet
