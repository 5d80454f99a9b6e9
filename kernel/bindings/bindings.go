// Package bindings links RetLab's public packages (display, retnet,
// retnet/backend, viz, ...) into the kernel's gomacro interpreter, so that
// `import "github.com/retlab/retlab/retnet"` in a notebook takes well under
// a millisecond and calls run compiled code: no plugins, no compiler at run
// time.
//
// The x_*.go files are generated: run `go generate ./kernel/...` after
// changing a public package's API (CI regenerates them and fails on any
// difference). The interpreter has no generics: generic functions and
// types are bound instantiated at float32 (retnet's default precision)
// when their constraints allow it; others need non-generic wrappers.
package bindings

//go:generate go run ./gen

import (
	"sort"

	"github.com/cosmos72/gomacro/imports"
)

var docs = map[string]map[string]string{}

// register adds a generated package to gomacro's registry and its doc
// comments to ours.
func register(path string, p imports.Package, d map[string]string) {
	imports.Packages[path] = p
	docs[path] = d
}

// Paths lists the import paths of the bound RetLab packages, sorted.
func Paths() []string {
	out := make([]string, 0, len(docs))
	for p := range docs {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Doc returns the declaration and doc comment of name in the bound package
// path: name is "" (the package), Name, or Type.Method.
func Doc(path, name string) (string, bool) {
	d, ok := docs[path][name]
	return d, ok
}
