package backend_test

import (
	"fmt"
	"slices"

	_ "github.com/retlab/retlab/retnet" // registers the default backend, "cpu"
	"github.com/retlab/retlab/retnet/backend"
)

// Backends register by name; Use picks one (RETLAB_BACKEND does at start),
// and Current is what the models compute with. Every backend has Sgemm.
func ExampleUse() {
	fmt.Println("cpu registered:", slices.Contains(backend.Names(), "cpu"))
	if err := backend.Use("cpu"); err != nil {
		panic(err)
	}
	b := backend.Current()
	fmt.Println("using:", b.Name(), "- retention kernels of its own:", b.Capabilities().Retention)

	// C = A B for A = [[1 2] [3 4]], B = [[5 6] [7 8]] (row-major).
	a, bm, c := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}, make([]float32, 4)
	b.Sgemm(false, false, 2, 2, 2, 1, a, 2, bm, 2, 0, c, 2)
	fmt.Println(c)

	fmt.Println("unknown name refused:", backend.Use("abacus") != nil)
	// Output:
	// cpu registered: true
	// using: cpu - retention kernels of its own: false
	// [19 22 43 50]
	// unknown name refused: true
}
