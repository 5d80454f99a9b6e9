//go:build amd64 && !purego

package cpu

// widenBF16AVX2 replaces the loop
//
//	for i := 0; i < n; i++ { dst[i] = math.Float32frombits(uint32(src[i]) << 16) }
//
// for n a multiple of 16. The caller guarantees the extents and AVX2.
//
//go:noescape
func widenBF16AVX2(dst *float32, src *BF16, n int)
