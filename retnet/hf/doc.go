// Package hf opens Hugging Face model directories as RetLab models: fla's
// RetNet (flash-linear-attention model_type "retnet"), fla's LLaMA-style
// Transformer++ ("transformer") and transformers' LLaMA ("llama").
//
// A model is found by path or by hub name in the local Hugging Face cache
// (Resolve; nothing is downloaded: a missing model's error says which
// `huggingface-cli download` fetches it). config.json is read and every
// field that changes the computation is either implemented or rejected by
// name; the safetensors files (one, or shards named by
// model.safetensors.index.json) are memory-mapped, so weights stay in their
// file dtype (BF16, F16 or F32) and cost their file size in memory; products
// widen BF16/F16 tiles to float32 and accumulate in float32.
//
// The definitions, written from fla's and transformers' code, are in
// docs/fla-retnet.md. Model.Forward runs RetNet in any of the three
// retention forms, from and into a State (recurrent states, or the
// Transformer's KV cache); tests compare every path with logits computed by
// the real libraries (retnet/testdata/hf/make_hf_reference.py).
package hf
