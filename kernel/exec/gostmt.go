package exec

import (
	"fmt"
	"go/ast"
	"go/token"
	"os"

	"golang.org/x/tools/go/ast/astutil"
)

// A panic in a goroutine ends a Go process: nothing can recover it from
// outside that goroutine. A cell that starts one (go f(x)) would take the
// kernel, and every variable of the session, down with it. So before a cell
// is compiled, guardGo rewrites each go statement in it, at any depth
// (function declarations included), from
//
//	go f(x, y)
//
// into
//
//	{
//		goF, goA0, goA1 := f, x, y // evaluated here, as the go statement would
//		go goRun(func() { goF(goA0, goA1) })
//	}
//
// (with reserved names). The function and its arguments are still evaluated
// by the starting goroutine, once, before the new one runs, so loops that
// start goroutines see the values of each iteration. Constant literals, nil
// and builtins stay in place (an untyped constant assigned to a variable
// would change type). The panic is reported on stderr, which reaches the
// notebook, and the goroutine ends; the kernel keeps running.
//
// Where the rewritten cell does not compile (an untyped named constant
// passed to a parameter of another type, say), Eval compiles the cell as
// written instead.

// goRunName is goRun's name in every interpreter (declared by New).
const goRunName = "__retlabGoRun"

// goRun runs f, reporting a panic on stderr instead of passing it on. It
// is compiled Go, so its recover catches what propagates out of the
// interpreted frames of f (gomacro's own recover in interpreted code loses
// panics that an interpreted deferred call re-raises).
func goRun(f func()) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "panic in a goroutine started by a cell: %v\n(the goroutine stopped; the kernel recovered it and keeps its state)\n", r)
		}
	}()
	f()
}

// goBuiltins are the builtins a go statement may call; they are not values
// and stay in place.
var goBuiltins = map[string]bool{"close": true, "copy": true, "delete": true, "panic": true, "print": true,
	"println": true, "clear": true, "recover": true}

// guardGo rewrites the go statements of nodes in place, and the deferred
// calls of builtins (see deferBuiltin), and reports whether it changed any.
func guardGo(nodes []ast.Node) bool {
	found := false
	for i, n := range nodes {
		nodes[i] = astutil.Apply(n, nil, func(c *astutil.Cursor) bool {
			switch s := c.Node().(type) {
			case *ast.GoStmt:
				c.Replace(guardGoStmt(s))
				found = true
			case *ast.DeferStmt:
				// Not recover: "defer recover()" does not stop a panic in
				// Go, and wrapped in a function it would.
				if id, ok := s.Call.Fun.(*ast.Ident); ok && goBuiltins[id.Name] && id.Name != "recover" {
					c.Replace(deferBuiltin(s))
					found = true
				}
			}
			return true
		})
	}
	return found
}

// deferBuiltin works around a gomacro defect: a deferred builtin call
// (defer close(ch)) fails at run time ("value of type func(xreflect.Value)
// cannot be converted"). It becomes
//
//	{ a0 := ch; defer func() { close(a0) }() }
//
// with the arguments still evaluated at the defer statement.
func deferBuiltin(d *ast.DeferStmt) ast.Stmt {
	pos := d.Defer
	assign, call := hoistCall(d.Call, pos)
	deferred := &ast.DeferStmt{Defer: pos, Call: &ast.CallExpr{Fun: funcLit(call, pos), Lparen: pos, Rparen: pos}}
	if assign == nil {
		return deferred
	}
	return &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{assign, deferred}, Rbrace: pos}
}

// guardGoStmt returns the guarded form of one go statement.
func guardGoStmt(g *ast.GoStmt) ast.Stmt {
	pos := g.Go
	assign, call := hoistCall(g.Call, pos)
	started := &ast.GoStmt{Go: pos, Call: &ast.CallExpr{Fun: &ast.Ident{NamePos: pos, Name: goRunName},
		Lparen: pos, Args: []ast.Expr{funcLit(call, pos)}, Rparen: pos}}
	if assign == nil {
		return started
	}
	return &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{assign, started}, Rbrace: pos}
}

// hoistCall splits call into an assignment of its function (unless a
// builtin) and arguments (unless they stay, see stays) to fresh variables,
// nil when there is nothing to assign, and the call of those variables.
// New nodes carry pos: gomacro needs real positions to resolve names
// declared earlier in the same cell.
func hoistCall(call *ast.CallExpr, pos token.Pos) (*ast.AssignStmt, *ast.CallExpr) {
	ident := func(name string) *ast.Ident { return &ast.Ident{NamePos: pos, Name: name} }
	var lhs, rhs []ast.Expr
	hoist := func(e ast.Expr, name string) ast.Expr {
		if stays(e) {
			return e
		}
		lhs = append(lhs, ident(name))
		rhs = append(rhs, e)
		return ident(name)
	}
	fun := call.Fun
	if id, ok := fun.(*ast.Ident); !ok || !goBuiltins[id.Name] {
		fun = hoist(fun, "__retlabGoF")
	}
	args := make([]ast.Expr, len(call.Args))
	for i, a := range call.Args {
		args[i] = hoist(a, fmt.Sprintf("__retlabGoA%d", i))
	}
	out := &ast.CallExpr{Fun: fun, Lparen: pos, Args: args, Ellipsis: call.Ellipsis, Rparen: pos}
	if len(lhs) == 0 {
		return nil, out
	}
	return &ast.AssignStmt{Lhs: lhs, TokPos: pos, Tok: token.DEFINE, Rhs: rhs}, out
}

// funcLit is func() { call }.
func funcLit(call *ast.CallExpr, pos token.Pos) *ast.FuncLit {
	return &ast.FuncLit{Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{Opening: pos, Closing: pos}},
		Body: &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{&ast.ExprStmt{X: call}}, Rbrace: pos}}
}

// stays reports whether an argument is left in the call: constant literals
// (and arithmetic on them), nil, true and false.
func stays(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "true" || e.Name == "false"
	case *ast.ParenExpr:
		return stays(e.X)
	case *ast.UnaryExpr:
		return stays(e.X)
	case *ast.BinaryExpr:
		return stays(e.X) && stays(e.Y)
	}
	return false
}
