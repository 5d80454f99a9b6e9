// Command retlab is RetLab's one CLI: kernel install/run, train, eval,
// generate, bench, figures, and the small inspection commands (logits, decay)
// that notebooks and scripts use. Each subcommand lives in its own file
// (cmd_<name>.go) and registers itself in init; subcommands stay thin: parse
// flags, call packages, print.
//
// Subcommands (retlab help lists them with their flags):
//
//	train, eval, generate   train a model, score it, sample from it (retnet/train, retnet)
//	bench                   retention | inference | train benchmarks (retnet/bench)
//	figures                 every figure from results files (viz)
//	sizes, decay, logits    the size ladder, per-head decays, a checkpoint's logits
//	models                  pretrained models in the Hugging Face cache (retnet/hf)
//	info                    backend, device and memory
//	kernel                  the Jupyter kernel: install | uninstall | run
//
// Checks shared by several subcommands live once: parseFlags (flag
// errors), requireModel (--checkpoint or --model).
package main
