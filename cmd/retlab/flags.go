package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
)

// Size and setting flags are bounded: a value outside its range is refused
// while the flags are parsed, before anything is allocated, with flag's
// error naming the flag ("invalid value "1000000000" for flag -batch: want
// an integer in 1..4096"). Defaults are not checked (they are ours).

// maxTokensPerStep bounds batch x sequence length of one forward pass
// (train, eval): 2^20 tokens of activations already take gigabytes.
const maxTokensPerStep = 1 << 20

// intValue is a bounded integer flag value (int or int64).
type intValue[T int | int64] struct {
	p      *T
	lo, hi T
}

func (v intValue[T]) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatInt(int64(*v.p), 10)
}

func (v intValue[T]) Set(s string) error {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil || n < int64(v.lo) || n > int64(v.hi) {
		return fmt.Errorf("want an integer in %d..%d", v.lo, v.hi)
	}
	*v.p = T(n)
	return nil
}

// intFlag defines an int flag that accepts only lo..hi.
func intFlag(fs *flag.FlagSet, name string, def, lo, hi int, usage string) *int {
	return boundedInt(fs, name, def, lo, hi, usage)
}

// int64Flag defines an int64 flag that accepts only lo..hi.
func int64Flag(fs *flag.FlagSet, name string, def, lo, hi int64, usage string) *int64 {
	return boundedInt(fs, name, def, lo, hi, usage)
}

func boundedInt[T int | int64](fs *flag.FlagSet, name string, def, lo, hi T, usage string) *T {
	p := new(T)
	*p = def
	fs.Var(intValue[T]{p, lo, hi}, name, fmt.Sprintf("%s [%d..%d]", usage, lo, hi))
	return p
}

type floatValue struct {
	p      *float64
	lo, hi float64
}

func (v floatValue) String() string {
	if v.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v floatValue) Set(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < v.lo || x > v.hi {
		return fmt.Errorf("want a finite number in [%g, %g]", v.lo, v.hi)
	}
	*v.p = x
	return nil
}

// floatFlag defines a float64 flag that accepts only finite values in
// [lo, hi] (NaN and ±Inf never).
func floatFlag(fs *flag.FlagSet, name string, def, lo, hi float64, usage string) *float64 {
	p := new(float64)
	*p = def
	fs.Var(floatValue{p, lo, hi}, name, fmt.Sprintf("%s [%g, %g]", usage, lo, hi))
	return p
}

// checkTokensPerStep refuses batch x seqLen above maxTokensPerStep, naming
// both flags.
func checkTokensPerStep(batch, seqLen int) error {
	if int64(batch)*int64(seqLen) > maxTokensPerStep {
		return fmt.Errorf("--batch %d x --seq-len %d = %d tokens per step, more than %d", batch, seqLen, int64(batch)*int64(seqLen), maxTokensPerStep)
	}
	return nil
}
