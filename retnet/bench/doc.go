// Package bench measures RetNet against the Transformer baseline: the
// timing sweeps behind `retlab bench` and the notebooks' cost figures. Each
// returns plain records (retnet.RetentionBench, retnet.InferenceBench,
// retnet.TrainBench) that `retlab figures --from` and package viz draw.
//
//	retention.go  Retention: one multi-scale retention layer forward per form
//	              and length, GFLOP/s by retnet.RetentionFLOPs
//	inference.go  Inference: decode latency, state / KV-cache memory and
//	              peak RSS against the context length; PeakRSS, ResetPeakRSS
//	train.go      Train: training-step time and memory against the sequence
//	              length at fixed tokens per step
//
// Sweeps show a progress bar (package display) and stop at the next point
// when display.Interrupted, returning the records so far and
// display.ErrInterrupted.
//
// Imports: retnet, retnet/train (the optimizer step of a training step),
// display.
package bench
