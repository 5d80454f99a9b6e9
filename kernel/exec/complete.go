package exec

import (
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// Complete returns completions for the identifier before byte offset
// cursor of code: names cells declared, imported packages and their
// members, fields and methods of variables after a dot, keywords and
// builtins. start and end are the byte range the chosen match replaces.
// While a cell runs it returns no matches rather than waiting.
func (in *Interp) Complete(code string, cursor int) (matches []string, start, end int) {
	cursor = clamp(cursor, 0, len(code))
	if !in.mu.TryLock() {
		return nil, cursor, cursor
	}
	defer in.mu.Unlock()
	s := cursor
	for s > 0 && isIdent(code[s-1]) {
		s--
	}
	prefix := code[s:cursor]
	var cands []string
	if s > 0 && code[s-1] == '.' {
		x := s - 1
		for x > 0 && isIdent(code[x-1]) {
			x--
		}
		cands = in.members(code[x : s-1])
	} else {
		cands = in.topNames()
	}
	seen := map[string]bool{}
	for _, c := range cands {
		if strings.HasPrefix(c, prefix) && !seen[c] {
			seen[c] = true
			matches = append(matches, c)
		}
	}
	sort.Strings(matches)
	return matches, s, cursor
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// topNames are the names a cell can use unqualified.
func (in *Interp) topNames() []string {
	out := append([]string{"display", "Display", "Input", "Password"}, in.globalsLocked()...)
	for name := range in.s.imports {
		out = append(out, name)
	}
	out = append(out, types.Universe.Names()...)
	for t := token.BREAK; t <= token.VAR; t++ {
		if t.IsKeyword() {
			out = append(out, t.String())
		}
	}
	return out
}

// members lists what follows x.: a package's exported names, or the
// fields and methods of a variable's type.
func (in *Interp) members(x string) []string {
	path := in.s.imports[x]
	if x == "display" && path == "" {
		path = displayPath
	}
	if path != "" {
		if in.s.ws.export(path) != nil {
			return nil
		}
		p, err := in.s.imp.Import(path)
		if err != nil {
			return nil
		}
		var out []string
		for _, n := range p.Scope().Names() {
			if token.IsExported(n) {
				out = append(out, n)
			}
		}
		return out
	}
	t := in.typeOf(x)
	if t == nil {
		return nil
	}
	var out []string
	ms := types.NewMethodSet(types.NewPointer(t))
	if _, isPtr := t.(*types.Pointer); isPtr {
		ms = types.NewMethodSet(t)
	}
	for i := 0; i < ms.Len(); i++ {
		out = append(out, strings.TrimPrefix(ms.At(i).Obj().Name(), omega))
	}
	u := t.Underlying()
	if p, ok := u.(*types.Pointer); ok {
		u = p.Elem().Underlying()
	}
	if st, ok := u.(*types.Struct); ok {
		for i := 0; i < st.NumFields(); i++ {
			out = append(out, strings.TrimPrefix(st.Field(i).Name(), omega))
		}
	}
	return out
}

// typeOf is the type of a name cells declared (var, const, func), or of
// a type name.
func (in *Interp) typeOf(name string) types.Type {
	sym := in.s.names[name]
	if sym == nil {
		return nil
	}
	p := in.s.imp.cells[cellPath(sym.cell)]
	if p == nil {
		return nil
	}
	obj := p.Scope().Lookup(goName(name))
	if obj == nil {
		return nil
	}
	return obj.Type()
}

func clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// IsComplete says whether code is ready to run, for consoles that decide
// between executing and continuing the input: "complete"; "incomplete"
// (unclosed brackets or raw strings, a trailing operator or comma), with
// the indent for the next line; or "invalid" (a syntax error no more input
// can fix). It only parses; type errors are found on execution.
func IsComplete(code string) (status, indent string) {
	if strings.TrimSpace(code) == "" {
		return "complete", ""
	}
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(code))
	var s scanner.Scanner
	var scanErr string
	s.Init(file, []byte(code), func(_ token.Position, msg string) {
		if scanErr == "" {
			scanErr = msg
		}
	}, scanner.ScanComments)
	var open []token.Token
	last := token.ILLEGAL
	for {
		_, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		switch tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			open = append(open, tok)
		case token.RPAREN, token.RBRACE, token.RBRACK:
			want := map[token.Token]token.Token{token.RPAREN: token.LPAREN, token.RBRACE: token.LBRACE, token.RBRACK: token.LBRACK}[tok]
			if len(open) == 0 || open[len(open)-1] != want {
				return "invalid", ""
			}
			open = open[:len(open)-1]
		}
		if tok == token.COMMENT || (tok == token.SEMICOLON && lit == "\n") {
			continue
		}
		last = tok
	}
	if scanErr != "" {
		if strings.Contains(scanErr, "raw string literal not terminated") || strings.Contains(scanErr, "comment not terminated") {
			return "incomplete", ""
		}
		return "invalid", ""
	}
	if len(open) > 0 {
		return "incomplete", strings.Repeat("\t", len(open))
	}
	if continues(last) {
		return "incomplete", "\t"
	}
	if !parses(code) {
		return "invalid", ""
	}
	return "complete", ""
}

// parses reports whether code parses as a cell: its items as declarations
// and statements.
func parses(code string) bool {
	items, errs := splitItems(code)
	if errs != nil {
		return false
	}
	var b strings.Builder
	b.WriteString("package p\n")
	for _, kind := range []itemKind{itemImport, itemDecl} {
		for _, it := range items {
			if it.kind == kind {
				b.WriteString(code[it.start:it.end] + "\n")
			}
		}
	}
	b.WriteString("func f() {\n")
	for _, it := range items {
		if it.kind == itemStmt {
			b.WriteString(code[it.start:it.end] + "\n")
		}
	}
	b.WriteString("}\n")
	_, err := parser.ParseFile(token.NewFileSet(), "", b.String(), parser.SkipObjectResolution)
	return err == nil
}

// continues reports whether a line ending in tok must go on: binary
// operators, assignments, commas, dots and keywords that need a body.
func continues(tok token.Token) bool {
	switch {
	case tok.IsOperator():
		switch tok {
		case token.RPAREN, token.RBRACE, token.RBRACK, token.SEMICOLON, token.INC, token.DEC, token.COLON, token.ELLIPSIS:
			return false
		}
		return true
	case tok.IsKeyword():
		switch tok {
		case token.BREAK, token.CONTINUE, token.FALLTHROUGH, token.RETURN:
			return false
		}
		return true
	}
	return false
}
