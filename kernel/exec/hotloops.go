package exec

import (
	"go/ast"
	"sort"
	"strconv"
	"strings"
)

// hotProfile returns a profile for the compiler (-pgoprofile, the text
// form `go tool preprofile` writes) that calls every function of a cell's
// package hot, so that the compiler aligns their loops.
//
// Where a tight loop falls decides its speed more than its interrupt
// check does: a loop of 1e7 additions took 2.8 ms when it stayed within
// one 64-byte line and 5.5 ms when it crossed one (2-core EPYC; a normal
// program's loop is as exposed, only shorter). Go pads a loop header to
// the next 64-byte line when fewer than 32 bytes of the line are left, but
// only in functions a PGO profile calls hot (ssagen: PCALIGNMAX for
// ssa.HotPgoInitial blocks). A function is hot when it is the callee of a
// call edge among the heaviest 99% of the profile's weight
// (inline.IsPgoHotFunc); the edges here come from a caller that does not
// exist, at no call site, so they change nothing else (inlining and
// devirtualisation look at the call sites of real edges).
//
// Names are the linker's: pkg.F, pkg.T.M, pkg.(*T).M, and closures
// pkg.F.func1, pkg.F.func1.1 in source order. Generic functions and their
// closures are left out (their names carry type arguments).
func hotProfile(f *ast.File, pkgPath string) string {
	var names []string
	var closures func(body ast.Node, name string, top bool)
	closures = func(body ast.Node, name string, top bool) {
		k := 0
		ast.Inspect(body, func(n ast.Node) bool {
			lit, ok := n.(*ast.FuncLit)
			if !ok || lit.Body == nil {
				return true
			}
			k++
			sub := name + "." + strconv.Itoa(k)
			if top {
				sub = name + ".func" + strconv.Itoa(k)
			}
			names = append(names, sub)
			closures(lit.Body, sub, false)
			return false // its closures are numbered under it
		})
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || fd.Type.TypeParams != nil {
			continue
		}
		name := pkgPath + "." + fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) == 1 {
			switch t := fd.Recv.List[0].Type.(type) {
			case *ast.Ident:
				name = pkgPath + "." + t.Name + "." + fd.Name.Name
			case *ast.StarExpr:
				id, ok := t.X.(*ast.Ident)
				if !ok {
					continue // a generic receiver
				}
				name = pkgPath + ".(*" + id.Name + ")." + fd.Name.Name
			default:
				continue
			}
		}
		if fd.Name.Name == "init" || fd.Name.Name == "_" {
			continue // init is renamed init.0 ...; _ has no symbol
		}
		names = append(names, name)
		closures(fd.Body, name, true)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("GO PREPROFILE V1\n")
	for _, n := range names {
		// caller, callee, "call site offset" "weight"
		b.WriteString(pkgPath + ".Ω1hot\n" + n + "\n0 1\n")
	}
	return b.String()
}
