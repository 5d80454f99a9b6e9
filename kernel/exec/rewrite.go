package exec

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"sort"
	"strconv"
	"strings"
)

// Names the rewriting makes up start with Ω and a digit. A cell's own
// unexported names become Ω+name (goName), and no identifier starts with a
// digit, so none of these can clash with a name a cell writes (a cell
// variable rt, run or c1 is Ωrt, Ωrun, Ωc1). rtName is the name cells
// import package cellrt under.
const (
	rtName    = "Ω1rt"
	rtPath    = "github.com/retlab/retlab/kernel/exec/cellrt"
	cellsMod  = "retlabcells"
	omega     = "Ω"
	runName   = "Run"
	checkName = "Ω1run"
	// flagName is the local that holds the interrupt flag's address in a
	// function with loops (cellrt.F). Ω and a digit: no cell name becomes it.
	flagName = "Ω0"
	// runPrologue is how many statements the cell's function (Run,
	// Ωrun) has before the cell's own: Ω0 := Ωrt.F; _ = Ω0.
	runPrologue = 2
)

// entryCheck is the interrupt check at the top of a function body: in a
// function with loops of its own it also takes the flag's address into a
// local for the loops' checks (cellrt.F).
func entryCheck(body *ast.BlockStmt) string {
	loops := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit:
			return false // its loops are its own
		case *ast.ForStmt, *ast.RangeStmt:
			loops = true
		}
		return !loops
	})
	if loops {
		return flagName + " := " + rtName + ".F;" + flagName + ".C();"
	}
	return rtName + ".C();"
}

// goName is the name a cell's top-level name, field or method gets in the
// compiled package: exported as written, else prefixed with Ω so that
// later cells (other packages) can use it.
func goName(name string) string {
	if name == "_" || token.IsExported(name) {
		return name
	}
	return omega + name
}

func cellPath(n int) string  { return cellsMod + "/c" + strconv.Itoa(n) }
func cellAlias(n int) string { return omega + "1c" + strconv.Itoa(n) }

// edit replaces [start, end) of the cell's text (an insertion when start
// == end). final edits apply only to the package that is built, not to the
// form type-checked first to learn the types of top-level variables.
type edit struct {
	start, end int
	text       string
	final      bool
	seq        int
}

// seg maps a run of the parse file P to the cell's text.
type seg struct{ p, c, n int }

// imp is an import of the cell.
type imp struct {
	name, path string
	dot, blank bool
	used       bool
	pos        int // offset in the cell
}

// hoisted is a top-level variable of the cell: declared by := or var in
// the cell's statements, it becomes a package-level variable of the cell.
type hoisted struct {
	name  string
	stmt  int // index among the cell's statements
	lhs   int // index on the left side (or among a var spec's names, flattened)
	typ   string
	local bool // its type cannot be named in Go source: stays local to Run
}

// rewrite turns one cell into the Go package that is compiled and loaded.
type rewrite struct {
	s     *session
	n     int // the cell's package number
	label int // the number errors and stacks show: cell[label]
	src   string
	lines []int // offsets of line starts
	items []item

	pfset *token.FileSet
	pfile *ast.File
	segs  []seg
	stmts []ast.Stmt // the cell's statements in P, in order

	edits     []edit
	imports   []*imp
	cellsUsed map[int]bool
	carried   map[string]string // name -> path of earlier cells' imports this cell uses
	hoist     []*hoisted
	hoistSet  map[string]bool
	topObjs   map[*ast.Object]bool
	extraImp  map[string]string // path -> alias, for the types of hoisted variables
	timeName  string            // the name "time" is imported under, if any
	declNames []declName
	finalPkg  *types.Package
	run       func()
}

// cacheKey identifies what the cell compiles to: its text and how its
// names resolved (the edits name the earlier cells they refer to).
func (r *rewrite) cacheKey() string {
	var b strings.Builder
	b.WriteString(r.src)
	for _, e := range r.edits {
		fmt.Fprintf(&b, "\x00%d:%d:%s", e.start, e.end, e.text)
	}
	var names []string
	for n, p := range r.carried {
		names = append(names, n+"="+p)
	}
	sort.Strings(names)
	b.WriteString("\x00" + strings.Join(names, ","))
	return b.String()
}

type declName struct{ name, kind string }

func newRewrite(s *session, n, label int, src string) *rewrite {
	r := &rewrite{s: s, n: n, label: label, src: src, cellsUsed: map[int]bool{}, carried: map[string]string{},
		hoistSet: map[string]bool{}, topObjs: map[*ast.Object]bool{}, extraImp: map[string]string{}}
	r.lines = []int{0}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			r.lines = append(r.lines, i+1)
		}
	}
	return r
}

// lineCol is the 1-based line and byte column of a cell offset.
func (r *rewrite) lineCol(off int) (int, int) {
	i := sort.Search(len(r.lines), func(i int) bool { return r.lines[i] > off }) - 1
	return i + 1, off - r.lines[i] + 1
}

func (r *rewrite) directive(off int) string {
	l, c := r.lineCol(off)
	return fmt.Sprintf("/*line cell[%d]:%d:%d*/", r.label, l, c)
}

// cellOff maps a position in P to an offset in the cell.
func (r *rewrite) cellOff(p token.Pos) int { return r.cellOffP(r.pfset.Position(p).Offset) }

// cellOffP maps a byte offset in P to an offset in the cell.
func (r *rewrite) cellOffP(off int) int {
	i := sort.Search(len(r.segs), func(i int) bool { return r.segs[i].p > off }) - 1
	if i < 0 {
		return 0
	}
	s := r.segs[i]
	if off-s.p > s.n {
		return s.c + s.n
	}
	return s.c + off - s.p
}

// parse builds P: the cell's imports and declarations at package level and
// its statements in a function, as written, and parses it.
func (r *rewrite) parse() error {
	items, errs := splitItems(r.src)
	if errs != nil {
		return r.syntaxError(*errs, false)
	}
	r.items = items
	var b strings.Builder
	b.WriteString("package Ωp\n")
	add := func(it item) {
		r.segs = append(r.segs, seg{b.Len(), it.start, it.end - it.start})
		b.WriteString(r.src[it.start:it.end])
		b.WriteString("\n")
	}
	for _, kind := range []itemKind{itemImport, itemDecl} {
		for _, it := range items {
			if it.kind == kind {
				add(it)
			}
		}
	}
	b.WriteString("func " + checkName + "() {\n")
	for _, it := range items {
		if it.kind == itemStmt {
			add(it)
		}
	}
	b.WriteString("}\n")
	r.pfset = token.NewFileSet()
	f, err := parser.ParseFile(r.pfset, "P", b.String(), parser.AllErrors)
	if err != nil {
		if el, ok := err.(scanner.ErrorList); ok {
			return r.syntaxError(el, true)
		}
		return &Error{Name: "SyntaxError", Value: err.Error()}
	}
	r.pfile = f
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == checkName && fd.Recv == nil {
			r.stmts = fd.Body.List
		}
	}
	return nil
}

// syntaxError reports scanner errors at cell positions.
func (r *rewrite) syntaxError(el scanner.ErrorList, inP bool) *Error {
	var msgs []string
	var first []int
	for i, e := range el {
		if i == 10 {
			msgs = append(msgs, fmt.Sprintf("(%d more errors)", len(el)-10))
			break
		}
		off := e.Pos.Offset
		if inP {
			off = r.cellOffP(e.Pos.Offset)
		}
		l, c := r.lineCol(off)
		if first == nil {
			first = []int{l, c}
		}
		msgs = append(msgs, fmt.Sprintf("cell[%d]:%d:%d: %s", r.label, l, c, e.Msg))
	}
	e := &Error{Name: "SyntaxError", Value: strings.Join(msgs, "\n")}
	e.Traceback = errorTraceback(e, r.src, msgs)
	return e
}

func (r *rewrite) add(start, end int, text string, final bool) {
	r.edits = append(r.edits, edit{start, end, text, final, len(r.edits)})
}

func (r *rewrite) replace(n ast.Node, text string, final bool) {
	r.add(r.cellOff(n.Pos()), r.cellOff(n.End()), text, final)
}

func (r *rewrite) insert(p token.Pos, text string, final bool) {
	o := r.cellOff(p)
	r.add(o, o, text, final)
}

// analyse computes the edits that do not need types: names of earlier
// cells, exported names, interrupt checks, guards and blocking calls.
func (r *rewrite) analyse() error {
	f := r.pfile
	// Imports of this cell.
	cellImp := map[string]*imp{}
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		im := &imp{path: path, pos: r.cellOff(spec.Pos())}
		if spec.Name != nil {
			switch spec.Name.Name {
			case ".":
				im.dot = true
			case "_":
				im.blank = true
			default:
				im.name = spec.Name.Name
			}
		}
		if im.name == "" && !im.dot && !im.blank {
			name, err := r.s.packageName(path)
			if err != nil {
				return r.importError(im, err)
			}
			im.name = name
		} else if !im.blank {
			if _, err := r.s.packageName(path); err != nil {
				return r.importError(im, err)
			}
		}
		r.imports = append(r.imports, im)
		if im.name != "" {
			cellImp[im.name] = im
		}
		if path == "time" && im.name != "" {
			r.timeName = im.name
		}
	}
	if r.timeName == "" && r.s.imports["time"] == "time" {
		r.timeName = "time"
	}
	// Package-level names of this cell.
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name != checkName && d.Name.Obj != nil {
				r.topObjs[d.Name.Obj] = true
				r.declNames = append(r.declNames, declName{d.Name.Name, "func"})
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					if sp.Name.Obj != nil {
						r.topObjs[sp.Name.Obj] = true
					}
					r.declNames = append(r.declNames, declName{sp.Name.Name, "type"})
				case *ast.ValueSpec:
					for _, id := range sp.Names {
						if id.Obj != nil {
							r.topObjs[id.Obj] = true
						}
						r.declNames = append(r.declNames, declName{id.Name, "const"})
					}
				}
			}
		}
	}
	// Top-level variables: := and var among the statements.
	for i, st := range r.stmts {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok != token.DEFINE {
				continue
			}
			for j, e := range st.Lhs {
				id, ok := e.(*ast.Ident)
				if !ok || id.Name == "_" || id.Obj == nil {
					continue
				}
				r.topObjs[id.Obj] = true
				if id.Obj.Decl == st {
					r.addHoist(id.Name, i, j)
				}
			}
		case *ast.DeclStmt:
			gd, ok := st.Decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			k := 0
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				for _, id := range vs.Names {
					if id.Name != "_" && id.Obj != nil {
						r.topObjs[id.Obj] = true
						r.addHoist(id.Name, i, k)
					}
					k++
				}
			}
		}
	}

	// Identifiers that are not references: fields, methods, selectors,
	// labels, composite-literal keys that name fields.
	field := map[*ast.Ident]bool{}
	skip := map[*ast.Ident]bool{f.Name: true}
	comm := map[ast.Node]bool{}
	commaOK := map[ast.Expr]bool{}
	timeSleep := map[*ast.SelectorExpr]bool{}
	fieldNames := r.s.fields
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.StructType:
			for _, fl := range n.Fields.List {
				for _, id := range fl.Names {
					field[id] = true
					if !token.IsExported(id.Name) {
						fieldNames[id.Name] = true
					}
				}
			}
		case *ast.InterfaceType:
			for _, fl := range n.Methods.List {
				for _, id := range fl.Names {
					field[id] = true
					if !token.IsExported(id.Name) {
						fieldNames[id.Name] = true
					}
				}
			}
		case *ast.FuncDecl:
			if n.Recv != nil {
				field[n.Name] = true
				if !token.IsExported(n.Name.Name) {
					fieldNames[n.Name.Name] = true
				}
			}
		case *ast.SelectorExpr:
			field[n.Sel] = true
			if x, ok := n.X.(*ast.Ident); ok && x.Obj == nil && x.Name == r.timeName && n.Sel.Name == "Sleep" {
				timeSleep[n] = true
			}
		case *ast.LabeledStmt:
			skip[n.Label] = true
		case *ast.BranchStmt:
			if n.Label != nil {
				skip[n.Label] = true
			}
		case *ast.ImportSpec:
			if n.Name != nil {
				skip[n.Name] = true
			}
		case *ast.CommClause:
			switch c := n.Comm.(type) {
			case *ast.SendStmt:
				comm[c] = true
			case *ast.ExprStmt:
				comm[c.X] = true
			case *ast.AssignStmt:
				if len(c.Rhs) == 1 {
					comm[c.Rhs[0]] = true
				}
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == 2 && len(n.Rhs) == 1 {
				commaOK[n.Rhs[0]] = true
			}
		case *ast.ValueSpec:
			if len(n.Names) == 2 && len(n.Values) == 1 {
				commaOK[n.Values[0]] = true
			}
		}
		return true
	})
	// Composite-literal keys: field names of struct literals.
	ast.Inspect(f, func(n ast.Node) bool {
		cl, ok := n.(*ast.CompositeLit)
		if !ok {
			return true
		}
		switch cl.Type.(type) {
		case *ast.MapType, *ast.ArrayType:
			return true
		}
		for _, e := range cl.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok && (id.Obj == nil || fieldNames[id.Name]) {
					if fieldNames[id.Name] || token.IsExported(id.Name) || r.s.names[id.Name] == nil {
						field[id] = true
					}
				}
			}
		}
		return true
	})

	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			switch {
			case field[n]:
				if !token.IsExported(n.Name) && n.Name != "_" {
					r.replace(n, goName(n.Name), false)
				}
			case skip[n]:
			default:
				r.reference(n, cellImp)
			}
		case *ast.SelectorExpr:
			if timeSleep[n] {
				r.replace(n, rtName+".Sleep", false)
				return false
			}
		case *ast.FuncDecl:
			if n.Body != nil && n.Name.Name != checkName {
				r.insert(n.Body.Lbrace+1, entryCheck(n.Body), false)
			}
		case *ast.FuncLit:
			r.insert(n.Body.Lbrace+1, "defer "+rtName+".Guard();"+entryCheck(n.Body), false)
		case *ast.ForStmt:
			r.insert(n.Body.Lbrace+1, flagName+".C();", false)
		case *ast.RangeStmt:
			r.insert(n.Body.Lbrace+1, flagName+".C();", false)
		case *ast.GoStmt:
			if _, lit := n.Call.Fun.(*ast.FuncLit); !lit {
				r.insert(n.Go+2, " func(){defer "+rtName+".Guard();", false)
				r.insert(n.Call.End(), "}()", false)
			}
		case *ast.SelectStmt:
			hasDefault := false
			for _, c := range n.Body.List {
				if cc, ok := c.(*ast.CommClause); ok && cc.Comm == nil {
					hasDefault = true
				}
			}
			if !hasDefault {
				r.insert(n.Body.Rbrace, "case <-"+rtName+".Done(): panic("+rtName+".Stopped);", false)
			}
		case *ast.UnaryExpr:
			if n.Op == token.ARROW && !comm[n] {
				fn := ".Recv("
				if commaOK[n] {
					fn = ".Recv2("
				}
				o := r.cellOff(n.OpPos)
				r.add(o, o+2, rtName+fn, false)
				r.insert(n.X.End(), ")", false)
			}
		case *ast.SendStmt:
			if !comm[n] {
				r.insert(n.Chan.Pos(), rtName+".Send(", false)
				o := r.cellOff(n.Arrow)
				r.add(o, o+2, ",", false)
				r.insert(n.Value.End(), ")", false)
			}
		}
		return true
	})

	// Hoisting (final form only): := becomes =, var declarations become
	// assignments to the package-level variables.
	for _, st := range r.stmts {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				o := r.cellOff(st.TokPos)
				r.add(o, o+2, "=", true)
			}
		case *ast.DeclStmt:
			gd, ok := st.Decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			if !gd.Lparen.IsValid() {
				vs := gd.Specs[0].(*ast.ValueSpec)
				if len(vs.Values) == 0 {
					r.replace(gd, "", true)
					continue
				}
				o := r.cellOff(gd.TokPos)
				r.add(o, o+3, "", true)
				if vs.Type != nil {
					r.replace(vs.Type, "", true)
				}
				continue
			}
			o := r.cellOff(gd.TokPos)
			r.add(o, o+3, "", true)
			r.add(r.cellOff(gd.Lparen), r.cellOff(gd.Lparen)+1, "", true)
			r.add(r.cellOff(gd.Rparen), r.cellOff(gd.Rparen)+1, "", true)
			for _, sp := range gd.Specs {
				vs := sp.(*ast.ValueSpec)
				if len(vs.Values) == 0 {
					r.replace(vs, "", true)
				} else if vs.Type != nil {
					r.replace(vs.Type, "", true)
				}
			}
		}
	}
	return nil
}

// lastExprPos is the cell position of the last statement when it is an
// expression (its "is not used" error in the check form is expected).
func (r *rewrite) lastExprPos() string {
	if len(r.stmts) == 0 {
		return ""
	}
	es, ok := r.stmts[len(r.stmts)-1].(*ast.ExprStmt)
	if !ok {
		return ""
	}
	l, c := r.lineCol(r.cellOff(es.X.Pos()))
	return fmt.Sprintf("cell[%d]:%d:%d", r.label, l, c)
}

func (r *rewrite) addHoist(name string, stmt, lhs int) {
	if r.hoistSet[name] {
		return
	}
	r.hoistSet[name] = true
	r.hoist = append(r.hoist, &hoisted{name: name, stmt: stmt, lhs: lhs})
}

// reference rewrites an identifier in a value or type position.
func (r *rewrite) reference(id *ast.Ident, cellImp map[string]*imp) {
	if id.Obj != nil {
		if r.topObjs[id.Obj] {
			if g := goName(id.Name); g != id.Name {
				r.replace(id, g, false)
			}
		}
		return
	}
	name := id.Name
	if im, ok := cellImp[name]; ok {
		im.used = true
		return
	}
	if r.hoistSet[name] {
		if g := goName(name); g != name {
			r.replace(id, g, false)
		}
		return
	}
	if sym := r.s.names[name]; sym != nil {
		r.cellsUsed[sym.cell] = true
		r.replace(id, cellAlias(sym.cell)+"."+goName(name), false)
		return
	}
	if path, ok := r.s.imports[name]; ok {
		r.carried[name] = path
		return
	}
	switch name {
	case "Display", "Input", "Password":
		r.replace(id, rtName+"."+name, false)
	case "display":
		r.carried[name] = displayPath
	}
}

// render returns the cell's text [start, end) with the edits applied and
// line directives that keep positions those of the cell.
func (r *rewrite) render(start, end int, final bool) string {
	var b strings.Builder
	b.WriteString(r.directive(start))
	cur := start
	for _, e := range r.sortedEdits() {
		if e.final && !final || e.start < cur || e.start > end || e.end > end || e.start < start {
			continue
		}
		b.WriteString(r.src[cur:e.start])
		b.WriteString(e.text)
		cur = e.end
		if cur < end {
			b.WriteString(r.directive(cur))
		}
	}
	b.WriteString(r.src[cur:end])
	return b.String()
}

func (r *rewrite) sortedEdits() []edit {
	es := append([]edit(nil), r.edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].start != es[j].start {
			return es[i].start < es[j].start
		}
		// At one point: insertions first, in the order they were made.
		ii, ij := es[i].start == es[i].end, es[j].start == es[j].end
		if ii != ij {
			return ii
		}
		// An enclosing replacement (a whole value-less spec of a var group)
		// wins over the edits inside it (the rename of its name).
		if !ii && es[i].end != es[j].end {
			return es[i].end > es[j].end
		}
		return es[i].seq < es[j].seq
	})
	return es
}

// file renders the package: the check form (statements in Ω1run, top-level
// variables local to it) or the final form (variables at package level).
func (r *rewrite) file(final bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n\nimport (\n\t%s %q\n", cellAlias(r.n), rtName, rtPath)
	var cells []int
	for k := range r.cellsUsed {
		cells = append(cells, k)
	}
	sort.Ints(cells)
	for _, k := range cells {
		fmt.Fprintf(&b, "\t%s %q\n", cellAlias(k), cellPath(k))
	}
	var names []string
	for name := range r.carried {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "\t%s %q\n", name, r.carried[name])
	}
	for _, im := range r.imports {
		b.WriteString("\t" + r.directive(im.pos))
		switch {
		case im.dot:
			fmt.Fprintf(&b, ". %q\n", im.path)
		case im.blank || !im.used:
			fmt.Fprintf(&b, "_ %q\n", im.path)
		default:
			fmt.Fprintf(&b, "%s %q\n", im.name, im.path)
		}
	}
	if final {
		var paths []string
		for p := range r.extraImp {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			fmt.Fprintf(&b, "\t%s %q\n", r.extraImp[p], p)
		}
	}
	b.WriteString(")\n\nvar _ = " + rtName + ".C\n\n")
	for _, it := range r.items {
		if it.kind == itemDecl {
			b.WriteString(r.render(it.start, it.end, final))
			b.WriteString("\n\n")
		}
	}
	fn := checkName
	if final {
		fn = runName
		var reg []string
		b.WriteString("var (\n")
		for _, h := range r.hoist {
			if h.local {
				continue
			}
			fmt.Fprintf(&b, "\t%s %s\n", goName(h.name), h.typ)
			reg = append(reg, fmt.Sprintf("%q: &%s", h.name, goName(h.name)))
		}
		b.WriteString(")\n\n")
		fmt.Fprintf(&b, "func init() { %s.Register(%q, %s, map[string]any{%s}) }\n\n", rtName, cellPath(r.n), runName, strings.Join(reg, ", "))
	}
	// The cell's own statements may loop too (entryCheck): the function
	// starts with runPrologue statements of its own.
	b.WriteString("func " + fn + "() { " + flagName + " := " + rtName + ".F; _ = " + flagName + "\n")
	for _, it := range r.items {
		if it.kind == itemStmt {
			b.WriteString(r.render(it.start, it.end, final))
			b.WriteString("\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// typed adds the edits that need the types of the check form: the cell's
// last expression becomes its result, ranges over channels stop on
// interrupt, and top-level variables get their declared types.
func (r *rewrite) typed(info *types.Info, fset *token.FileSet, check *ast.File, pkg *types.Package) {
	var body []ast.Stmt
	for _, d := range check.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == checkName && len(fd.Body.List) >= runPrologue {
			body = fd.Body.List[runPrologue:]
		}
	}
	if len(body) != len(r.stmts) {
		return
	}
	// Ranges over channels.
	chanAt := map[[2]int]bool{}
	ast.Inspect(check, func(n ast.Node) bool {
		if rs, ok := n.(*ast.RangeStmt); ok {
			if tv, ok := info.Types[rs.X]; ok && tv.Type != nil {
				if _, isChan := tv.Type.Underlying().(*types.Chan); isChan {
					p := fset.Position(rs.X.Pos())
					chanAt[[2]int{p.Line, p.Column}] = true
				}
			}
		}
		return true
	})
	ast.Inspect(r.pfile, func(n ast.Node) bool {
		if rs, ok := n.(*ast.RangeStmt); ok {
			l, c := r.lineCol(r.cellOff(rs.X.Pos()))
			if chanAt[[2]int{l, c}] {
				r.insert(rs.X.Pos(), rtName+".Range(", true)
				r.insert(rs.X.End(), ")", true)
			}
		}
		return true
	})
	// The last expression.
	if len(body) == 0 {
		return
	}
	if last, ok := body[len(body)-1].(*ast.ExprStmt); ok && !endsInPrint(last.X) {
		if tv, ok := info.Types[last.X]; ok && !tv.IsVoid() && tv.Type != nil {
			n := 1
			lastT := tv.Type
			if tup, ok := tv.Type.(*types.Tuple); ok {
				n = tup.Len()
				if n > 0 {
					lastT = tup.At(n - 1).Type()
				}
			}
			if n > 0 {
				fn := ".Result("
				if types.Identical(lastT, types.Universe.Lookup("error").Type()) {
					fn = ".ResultE("
				}
				px := r.stmts[len(r.stmts)-1].(*ast.ExprStmt).X
				r.insert(px.Pos(), rtName+fn, true)
				r.insert(px.End(), ")", true)
			}
		}
	}
	// Types of the top-level variables.
	for _, h := range r.hoist {
		var id *ast.Ident
		switch st := body[h.stmt].(type) {
		case *ast.AssignStmt:
			if h.lhs < len(st.Lhs) {
				id, _ = st.Lhs[h.lhs].(*ast.Ident)
			}
		case *ast.DeclStmt:
			k := 0
			for _, sp := range st.Decl.(*ast.GenDecl).Specs {
				for _, nm := range sp.(*ast.ValueSpec).Names {
					if k == h.lhs {
						id = nm
					}
					k++
				}
			}
		}
		if id == nil {
			h.local = true
			continue
		}
		obj := info.Defs[id]
		if obj == nil {
			h.local = true
			continue
		}
		t := obj.Type()
		if !r.nameable(t, pkg) {
			h.local = true
			continue
		}
		h.typ = types.TypeString(t, r.qualifier(pkg))
	}
	// A statement declaring a variable that stays local keeps its :=.
	local := map[int]bool{}
	for _, h := range r.hoist {
		if h.local {
			local[h.stmt] = true
		}
	}
	if len(local) > 0 {
		kept := r.edits[:0]
		for _, e := range r.edits {
			drop := false
			if e.final {
				for i := range local {
					s := r.stmts[i]
					if e.start >= r.cellOff(s.Pos()) && e.end <= r.cellOff(s.End()) {
						drop = true
					}
				}
			}
			if !drop {
				kept = append(kept, e)
			}
		}
		r.edits = kept
	}
}

// qualifier names packages in the types of hoisted variables.
func (r *rewrite) qualifier(self *types.Package) types.Qualifier {
	return func(p *types.Package) string {
		if p == self {
			return ""
		}
		if k, ok := cellNumber(p.Path()); ok {
			r.cellsUsed[k] = true
			return cellAlias(k)
		}
		for _, im := range r.imports {
			if im.path == p.Path() && im.name != "" && !im.blank {
				im.used = true
				return im.name
			}
		}
		for name, path := range r.carried {
			if path == p.Path() {
				return name
			}
		}
		if a, ok := r.extraImp[p.Path()]; ok {
			return a
		}
		a := fmt.Sprintf("%si%d", omega, len(r.extraImp))
		r.extraImp[p.Path()] = a
		return a
	}
}

// nameable reports whether t can be written in the source of another
// package: no unexported or internal types of other packages.
func (r *rewrite) nameable(t types.Type, self *types.Package) bool {
	ok := true
	seen := map[types.Type]bool{}
	var walk func(t types.Type)
	walk = func(t types.Type) {
		if !ok || t == nil || seen[t] {
			return
		}
		seen[t] = true
		switch t := t.(type) {
		case *types.Named:
			obj := t.Obj()
			if p := obj.Pkg(); p != nil && p != self {
				if _, cell := cellNumber(p.Path()); !cell && (!obj.Exported() || internalPath(p.Path()) || p.Name() == "main") {
					ok = false
					return
				}
			}
			if obj.Parent() != nil && obj.Parent() != obj.Pkg().Scope() && obj.Pkg() != nil {
				ok = false // a type declared inside a function
				return
			}
			if args := t.TypeArgs(); args != nil {
				for i := 0; i < args.Len(); i++ {
					walk(args.At(i))
				}
			}
		case *types.Alias:
			walk(types.Unalias(t))
		case *types.Pointer:
			walk(t.Elem())
		case *types.Slice:
			walk(t.Elem())
		case *types.Array:
			walk(t.Elem())
		case *types.Map:
			walk(t.Key())
			walk(t.Elem())
		case *types.Chan:
			walk(t.Elem())
		case *types.Signature:
			for _, tup := range []*types.Tuple{t.Params(), t.Results()} {
				for i := 0; i < tup.Len(); i++ {
					walk(tup.At(i).Type())
				}
			}
		case *types.Struct:
			for i := 0; i < t.NumFields(); i++ {
				if f := t.Field(i); !f.Exported() && f.Pkg() != self {
					ok = false
				}
				walk(t.Field(i).Type())
			}
		case *types.Interface:
			for i := 0; i < t.NumMethods(); i++ {
				if m := t.Method(i); !m.Exported() && m.Pkg() != self {
					ok = false
				}
				walk(t.Method(i).Type())
			}
		case *types.Tuple, *types.TypeParam:
			ok = false
		}
	}
	walk(t)
	return ok
}

func internalPath(p string) bool {
	return strings.HasPrefix(p, "internal/") || strings.Contains(p, "/internal/") || strings.HasSuffix(p, "/internal") || p == "internal"
}

func cellNumber(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, cellsMod+"/c")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// printNames are functions whose results are noise in a notebook: the
// (n, err) of print and write calls, the display id Show returns.
var printNames = map[string]bool{"Print": true, "Println": true, "Printf": true, "Fprint": true, "Fprintln": true,
	"Fprintf": true, "Write": true, "WriteString": true, "WriteByte": true, "WriteRune": true, "Encode": true,
	"Show": true, "Display": true}

// endsInPrint reports whether x is a call of a print, write or show
// function, whose results the notebook does not show.
func endsInPrint(x ast.Expr) bool {
	call, ok := x.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return printNames[f.Name]
	case *ast.SelectorExpr:
		return printNames[f.Sel.Name]
	}
	return false
}
