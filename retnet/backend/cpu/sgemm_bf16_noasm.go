//go:build !amd64 || purego

package cpu

func widenBF16AVX2(dst *float32, src *BF16, n int) {
	panic("cpu: widenBF16AVX2 called without assembly support")
}
