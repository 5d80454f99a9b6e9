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
// Every sweep, and the GPU kernel benchmarks of package cuda, share
// internal/sweep: a progress bar over the points that stops at the next
// point when display.Interrupted (returning the records so far and
// display.ErrInterrupted), and one timing policy, sweep.Repeat: one untimed
// warm-up, then n timed runs, sorted. Retention and the GPU kernels report
// the best run, the training step the median (as its PyTorch twin does);
// inference interleaves the contexts within each round (a drift in machine
// load hits every context alike) and keeps the best of Passes medians.
//
// Imports: retnet, retnet/train (the optimizer step of a training step),
// display, internal/sweep.
package bench
