package exec_test

import (
	"fmt"

	"github.com/retlab/retlab/kernel/exec"
)

func ExampleIsComplete() {
	for _, code := range []string{"x := 1", "for i := 0; i < 3; i++ {", "x := )"} {
		status, indent := exec.IsComplete(code)
		fmt.Printf("%-28q %s %q\n", code, status, indent)
	}
	// Output:
	// "x := 1"                     complete ""
	// "for i := 0; i < 3; i++ {"   incomplete "\t"
	// "x := )"                     invalid ""
}

func ExampleInterp_Eval() {
	in, err := exec.New(nil)
	if err != nil {
		panic(err)
	}
	in.Eval("x := 20")
	r := in.Eval("x*2 + 2")
	fmt.Println(r.Bundle.Text())
	r = in.Eval("x +")
	fmt.Println(r.Err.Name)
	// Output:
	// 42
	// SyntaxError
}
