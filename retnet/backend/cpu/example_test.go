package cpu_test

import (
	"fmt"

	"github.com/retlab/retlab/retnet/backend/cpu"
)

// y = x W^T, the most common call: x is (2,3) tokens by features, W is (2,3)
// stored [out, in], so op(B) = W^T is (3,2).
func ExampleSgemm() {
	x := []float32{
		1, 2, 3,
		4, 5, 6,
	} // (2,3)
	w := []float32{
		1, 0, -1,
		0.5, 0.5, 0.5,
	} // (2,3) [out, in]
	y := make([]float32, 2*2) // (2,2)
	cpu.Sgemm(false, true, 2, 2, 3, 1, x, 3, w, 3, 0, y, 2)
	fmt.Println(y)
	// Output: [-2 3 -2 7.5]
}

func ExampleDot() {
	fmt.Println(cpu.Dot([]float32{1, 2, 3}, []float32{4, 5, 6}))
	// Output: 32
}

func ExampleAxpy() {
	y := []float32{1, 1, 1}
	cpu.Axpy(2, []float32{1, 2, 3}, y)
	fmt.Println(y)
	// Output: [3 5 7]
}

func ExampleScale() {
	x := []float32{1, -2, 4}
	cpu.Scale(0.5, x)
	fmt.Println(x)
	// Output: [0.5 -1 2]
}

// Run a block of work single-threaded and restore the previous setting.
func ExampleSetThreads() {
	defer cpu.SetThreads(cpu.SetThreads(1))
	fmt.Println(cpu.Threads())
	// Output: 1
}

// A linear layer with bfloat16 weights (as a BF16 checkpoint stores them):
// y = x W^T, W (2,3) [out, in]. The inputs here are exact in bfloat16, so
// the result is exact too.
func ExampleLinearBF16() {
	w := make([]cpu.BF16, 6)
	cpu.ToBF16(w, []float32{
		1, 0, -1,
		0.5, 0.5, 0.5,
	})
	x := []float32{1, 2, 3} // one token (1,3)
	y := make([]float32, 2)
	cpu.LinearBF16(1, 2, 3, x, 3, w, 3, y, 2)
	fmt.Println(y)
	// Output: [-2 3]
}
