// Command gen writes the gomacro bindings of RetLab's public packages into
// kernel/bindings (run through `go generate ./kernel/...`). Each package gets
// one file x_<path>.go that registers, in gomacro's imports.Packages, its
// exported functions, variables, constants and types, a proxy type per
// interface (so interpreted types can implement it), the promoted methods of
// embedded fields, and the doc comments the kernel shows on inspect.
//
// The interpreter has no generics: generic functions and types are bound
// instantiated at float32 (retnet's default precision) when their
// constraints allow it, e.g. retnet.ParallelRetention is
// ParallelRetention[float32] in a notebook; others are skipped (offer
// non-generic wrappers next to them).
//
//	go run ./kernel/bindings/gen [-out DIR]   # default: the directory of this package's parent
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/constant"
	"go/doc"
	"go/format"
	"go/printer"
	"go/types"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cosmos72/gomacro/base/untyped"
	"golang.org/x/tools/go/packages"
)

const module = "github.com/retlab/retlab"

func main() {
	log.SetFlags(0)
	log.SetPrefix("bindings gen: ")
	out := flag.String("out", "", "output directory (default: kernel/bindings of the module)")
	flag.Parse()
	root, err := moduleRoot()
	if err != nil {
		log.Fatal(err)
	}
	if *out == "" {
		*out = filepath.Join(root, "kernel", "bindings")
	}
	pkgs, err := load(root)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(*out, "x_*.go"))
	keep := map[string]bool{}
	for _, p := range pkgs {
		src, skipped, err := generate(p)
		if err != nil {
			log.Fatalf("%s: %v", p.PkgPath, err)
		}
		for _, s := range skipped {
			fmt.Fprintf(os.Stderr, "bindings gen: %s: skipped %s (generic; add a non-generic wrapper to use it from the notebook)\n", p.PkgPath, s)
		}
		name := filepath.Join(*out, fileName(p.PkgPath))
		keep[name] = true
		if err := os.WriteFile(name, src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	for _, f := range old {
		if !keep[f] {
			os.Remove(f)
		}
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(data, []byte("module "+module+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of %s above %s", module, dir)
		}
	}
}

// public reports whether the package at import path p is one notebooks
// import: not a command, not the kernel itself, not internal, not a test
// helper.
func public(p *packages.Package) bool {
	rel := strings.TrimPrefix(strings.TrimPrefix(p.PkgPath, module), "/")
	switch {
	case len(p.GoFiles) == 0, // test-only directories (notebooks, docker lint tests)
		p.Name == "main", rel == "", strings.HasPrefix(rel, "kernel"), strings.HasPrefix(rel, "cmd/"),
		strings.Contains("/"+rel+"/", "/internal/"), strings.Contains("/"+rel+"/", "/testdata/"),
		strings.HasSuffix(p.Name, "test"):
		return false
	}
	return true
}

func load(root string) ([]*packages.Package, error) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles, Dir: root}
	list, err := packages.Load(cfg, module+"/...")
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range list {
		if public(p) {
			paths = append(paths, p.PkgPath)
		}
	}
	sort.Strings(paths)
	cfg.Mode = packages.NeedName | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo | packages.NeedFiles
	pkgs, err := packages.Load(cfg, paths...)
	if err != nil {
		return nil, err
	}
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			return nil, fmt.Errorf("%s: %v", p.PkgPath, p.Errors[0])
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].PkgPath < pkgs[j].PkgPath })
	return pkgs, nil
}

func rel(path string) string {
	r := strings.TrimPrefix(strings.TrimPrefix(path, module), "/")
	if r == "" {
		r = "root"
	}
	return r
}

func fileName(path string) string { return "x_" + sanitize(rel(path)) + ".go" }

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// gen accumulates one package's file.
type gen struct {
	pkg     *types.Package
	alias   string            // how the file names pkg
	imports map[string]string // path -> alias
	buf     bytes.Buffer
	proxies bytes.Buffer
}

func (g *gen) qualifier(p *types.Package) string {
	if a, ok := g.imports[p.Path()]; ok {
		return a
	}
	a := p.Name()
	if p.Path() != g.pkg.Path() {
		a = "_" + sanitize(strings.TrimPrefix(strings.TrimPrefix(p.Path(), module), "/"))
	}
	g.imports[p.Path()] = a
	return a
}

func isGeneric(t types.Type) bool {
	switch t := t.(type) {
	case *types.Named:
		if t.TypeParams() != nil && t.TypeArgs() == nil {
			return true
		}
		return isGeneric(t.Underlying())
	case *types.Alias:
		return t.TypeParams() != nil || isGeneric(types.Unalias(t))
	case *types.Signature:
		return t.RecvTypeParams() != nil || t.TypeParams() != nil
	case *types.Interface:
		return t.IsImplicit() || !t.IsMethodSet()
	case *types.TypeParam:
		return true
	}
	return false
}

// float32Instance returns the type argument list "[float32, ...]" that
// instantiates a generic function or type at float32, RetLab's default
// precision, when every type parameter's constraint allows it.
func float32Instance(tps *types.TypeParamList) (string, bool) {
	if tps == nil || tps.Len() == 0 {
		return "", false
	}
	f32 := types.Typ[types.Float32]
	args := make([]string, tps.Len())
	for i := 0; i < tps.Len(); i++ {
		c, ok := tps.At(i).Constraint().Underlying().(*types.Interface)
		if !ok || !types.Satisfies(f32, c) {
			return "", false
		}
		args[i] = "float32"
	}
	return "[" + strings.Join(args, ", ") + "]", true
}

func generate(p *packages.Package) (src []byte, skipped []string, err error) {
	g := &gen{pkg: p.Types, imports: map[string]string{}}
	g.alias = g.qualifier(p.Types)
	scope := p.Types.Scope()
	var binds, typs, proxies, untypeds, wrappers, instantiated []string
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		q := g.alias + "." + name
		switch obj := obj.(type) {
		case *types.Const:
			conv := ""
			if b, ok := obj.Type().(*types.Basic); ok && b.Info()&types.IsUntyped != 0 {
				if obj.Val().Kind() == constant.Int {
					conv = intConv(obj.Val())
				}
				if s := untyped.Marshal(untyped.GoUntypedToKind(b.Kind()), obj.Val()); s != "" {
					untypeds = append(untypeds, fmt.Sprintf("%q: %q,", name, s))
				}
			}
			if conv != "" {
				binds = append(binds, fmt.Sprintf("%q: ValueOf(%s(%s)),", name, conv, q))
			} else {
				binds = append(binds, fmt.Sprintf("%q: ValueOf(%s),", name, q))
			}
		case *types.Var:
			binds = append(binds, fmt.Sprintf("%q: ValueOf(&%s).Elem(),", name, q))
		case *types.Func:
			if isGeneric(obj.Type()) {
				inst, ok := float32Instance(obj.Type().(*types.Signature).TypeParams())
				if !ok {
					skipped = append(skipped, name)
					continue
				}
				binds = append(binds, fmt.Sprintf("%q: ValueOf(%s%s),", name, q, inst))
				instantiated = append(instantiated, name)
				continue
			}
			binds = append(binds, fmt.Sprintf("%q: ValueOf(%s),", name, q))
		case *types.TypeName:
			if isGeneric(obj.Type()) {
				n, isNamed := obj.Type().(*types.Named)
				if !isNamed || obj.IsAlias() {
					skipped = append(skipped, name)
					continue
				}
				inst, ok := float32Instance(n.TypeParams())
				if !ok {
					skipped = append(skipped, name)
					continue
				}
				typs = append(typs, fmt.Sprintf("%q: TypeOf((*%s%s)(nil)).Elem(),", name, q, inst))
				instantiated = append(instantiated, name)
				continue
			}
			typs = append(typs, fmt.Sprintf("%q: TypeOf((*%s)(nil)).Elem(),", name, q))
			if it, ok := obj.Type().Underlying().(*types.Interface); ok && proxyable(it) && !obj.IsAlias() {
				pn := "P_" + sanitize(rel(p.PkgPath)) + "_" + name
				proxies = append(proxies, fmt.Sprintf("%q: TypeOf((*%s)(nil)).Elem(),", name, pn))
				g.writeProxy(pn, it)
			}
			if n, ok := obj.Type().(*types.Named); ok && !obj.IsAlias() {
				if w := promoted(n); len(w) > 0 {
					var qs []string
					for _, m := range w {
						qs = append(qs, strconv.Quote(m))
					}
					wrappers = append(wrappers, fmt.Sprintf("%q: {%s},", name, strings.Join(qs, ", ")))
				}
			}
		}
	}
	docs := packageDocs(p)
	for _, name := range instantiated {
		if d, ok := docs[name]; ok {
			docs[name] = d + "\n(In the notebook: instantiated at float32.)\n"
		}
	}

	var body bytes.Buffer
	fmt.Fprintf(&body, "func init() {\n\tregister(%q, imports.Package{\n\t\tName: %q,\n", p.PkgPath, p.Types.Name())
	section := func(head string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&body, "\t\t%s{\n", head)
		for _, l := range lines {
			fmt.Fprintf(&body, "\t\t\t%s\n", l)
		}
		body.WriteString("\t\t},\n")
	}
	section("Binds: map[string]Value", binds)
	section("Types: map[string]Type", typs)
	section("Proxies: map[string]Type", proxies)
	section("Untypeds: map[string]string", untypeds)
	section("Wrappers: map[string][]string", wrappers)
	body.WriteString("\t}, map[string]string{\n")
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&body, "\t\t%q: %q,\n", k, docs[k])
	}
	body.WriteString("\t})\n}\n")

	var f bytes.Buffer
	fmt.Fprintf(&f, "// Code generated by go run ./kernel/bindings/gen; DO NOT EDIT.\n\n")
	fmt.Fprintf(&f, "// Bindings of %s for the kernel's interpreter.\n\npackage bindings\n\nimport (\n", p.PkgPath)
	var paths []string
	for path := range g.imports {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	fmt.Fprintf(&f, "\t. \"reflect\"\n\n\t\"github.com/cosmos72/gomacro/imports\"\n")
	for _, path := range paths {
		fmt.Fprintf(&f, "\t%s %q\n", g.imports[path], path)
	}
	f.WriteString(")\n\n")
	f.Write(body.Bytes())
	f.Write(g.proxies.Bytes())
	src, err = format.Source(f.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("formatting generated code: %v\n%s", err, f.Bytes())
	}
	return src, skipped, nil
}

// intConv is the conversion an untyped integer constant needs to fit a
// reflect.Value (the default, int, may overflow).
func intConv(v constant.Value) string {
	if i, ok := constant.Int64Val(v); ok {
		switch {
		case i == int64(int32(i)):
			return ""
		case i >= 0 && i <= math.MaxUint32:
			return "uint32"
		}
		return "int64"
	}
	if _, ok := constant.Uint64Val(v); ok {
		return "uint64"
	}
	return "float64"
}

// proxyable reports whether an interface can get a proxy: it has methods,
// all exported, none generic.
func proxyable(it *types.Interface) bool {
	if it.NumMethods() == 0 || isGeneric(it) {
		return false
	}
	for i := 0; i < it.NumMethods(); i++ {
		if !it.Method(i).Exported() {
			return false
		}
	}
	return true
}

// writeProxy writes the struct through which an interpreted type implements
// interface it: one func field per method, taking the wrapped object first.
func (g *gen) writeProxy(name string, it *types.Interface) {
	w := &g.proxies
	fmt.Fprintf(w, "\n// %s lets interpreted types implement %s.%s.\ntype %s struct {\n\tObject any\n", name, g.alias, strings.TrimPrefix(name, "P_"+sanitize(rel(g.pkg.Path()))+"_"), name)
	for i := 0; i < it.NumMethods(); i++ {
		m := it.Method(i)
		sig := m.Type().(*types.Signature)
		fmt.Fprintf(w, "\t%s_ func(any%s)%s\n", m.Name(), g.params(sig, true, false), g.results(sig))
	}
	w.WriteString("}\n")
	for i := 0; i < it.NumMethods(); i++ {
		m := it.Method(i)
		sig := m.Type().(*types.Signature)
		ps := g.params(sig, false, false)
		fmt.Fprintf(w, "\nfunc (P *%s) %s(%s)%s {\n\t", name, m.Name(), strings.TrimPrefix(ps, ", "), g.results(sig))
		if sig.Results().Len() > 0 {
			w.WriteString("return ")
		}
		fmt.Fprintf(w, "P.%s_(P.Object%s)\n}\n", m.Name(), g.params(sig, false, true))
	}
}

// params renders sig's parameters after a leading comma: with types
// (declaration, names unnamedN when needed), or names only (call).
func (g *gen) params(sig *types.Signature, typesOnly, call bool) string {
	var b strings.Builder
	ps := sig.Params()
	for i := 0; i < ps.Len(); i++ {
		b.WriteString(", ")
		v := ps.At(i)
		name := fmt.Sprintf("unnamed%d", i)
		variadic := sig.Variadic() && i == ps.Len()-1
		t := v.Type()
		if variadic {
			t = t.(*types.Slice).Elem()
		}
		ts := types.TypeString(t, g.qualifier)
		switch {
		case call:
			b.WriteString(name)
			if variadic {
				b.WriteString("...")
			}
		case typesOnly:
			if variadic {
				b.WriteString("...")
			}
			b.WriteString(ts)
		default:
			b.WriteString(name + " ")
			if variadic {
				b.WriteString("...")
			}
			b.WriteString(ts)
		}
	}
	return b.String()
}

func (g *gen) results(sig *types.Signature) string {
	rs := sig.Results()
	switch rs.Len() {
	case 0:
		return ""
	case 1:
		return " " + types.TypeString(rs.At(0).Type(), g.qualifier)
	}
	var parts []string
	for i := 0; i < rs.Len(); i++ {
		parts = append(parts, types.TypeString(rs.At(i).Type(), g.qualifier))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// promoted lists the exported methods of n (value or pointer receiver)
// that come from embedded fields, as gomacro's Wrappers wants them.
func promoted(n *types.Named) []string {
	if _, ok := n.Underlying().(*types.Struct); !ok {
		return nil
	}
	var out []string
	ms := types.NewMethodSet(types.NewPointer(n))
	for i := 0; i < ms.Len(); i++ {
		sel := ms.At(i)
		if sel.Obj().Exported() && len(sel.Index()) > 1 {
			out = append(out, sel.Obj().Name())
		}
	}
	sort.Strings(out)
	return out
}

// packageDocs returns the doc shown on inspect for each exported name:
// "" for the package, Name for functions, types, constants and variables,
// Type.Method for methods. Each entry is the declaration followed by its
// doc comment.
func packageDocs(p *packages.Package) map[string]string {
	fset := p.Fset
	dp, err := doc.NewFromFiles(fset, p.Syntax, p.PkgPath)
	if err != nil {
		return map[string]string{"": "package " + p.Name}
	}
	out := map[string]string{"": "package " + p.Name + " // import \"" + p.PkgPath + "\"\n\n" + dp.Doc}
	decl := func(n ast.Node) string {
		var b bytes.Buffer
		cfg := printer.Config{Mode: printer.UseSpaces | printer.TabIndent, Tabwidth: 8}
		cfg.Fprint(&b, fset, n)
		return b.String()
	}
	fn := func(f *doc.Func) string {
		d := *f.Decl
		d.Body, d.Doc = nil, nil
		return decl(&d) + "\n\n" + f.Doc
	}
	values := func(vs []*doc.Value) {
		for _, v := range vs {
			for _, spec := range v.Decl.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				one := *vs
				one.Doc = nil
				text := v.Decl.Tok.String() + " " + decl(&one)
				if doc := strings.TrimSpace(vs.Doc.Text() + v.Doc); doc != "" {
					text += "\n\n" + doc
				}
				for _, n := range vs.Names {
					if ast.IsExported(n.Name) {
						out[n.Name] = text
					}
				}
			}
		}
	}
	values(dp.Consts)
	values(dp.Vars)
	for _, f := range dp.Funcs {
		out[f.Name] = fn(f)
	}
	for _, t := range dp.Types {
		d := *t.Decl
		d.Doc = nil
		text := decl(&d) + "\n\n" + t.Doc
		var ms []string
		for _, m := range t.Methods {
			d := *m.Decl
			d.Body, d.Doc = nil, nil
			ms = append(ms, decl(&d))
			out[t.Name+"."+m.Name] = fn(m)
		}
		for _, f := range t.Funcs {
			out[f.Name] = fn(f)
			ms = append(ms, func() string { d := *f.Decl; d.Body, d.Doc = nil, nil; return decl(&d) }())
		}
		if len(ms) > 0 {
			text += "\n" + strings.Join(ms, "\n") + "\n"
		}
		out[t.Name] = text
		values(t.Consts)
		values(t.Vars)
	}
	for k, v := range out {
		out[k] = strings.TrimRight(v, "\n") + "\n"
	}
	return out
}
