package exec

import (
	"go/scanner"
	"go/token"
)

// itemKind is what a top-level piece of a cell is.
type itemKind int

const (
	itemImport itemKind = iota // import declaration
	itemDecl                   // func, method, type or const: package level
	itemStmt                   // any statement, var included: runs in order in Run
)

// item is one top-level piece of a cell: [start, end) in the cell's text.
type item struct {
	start, end int
	kind       itemKind
}

type tok struct {
	off, end int
	tok      token.Token
}

// splitItems cuts a cell into its top-level items at the semicolons (written
// or inserted at line ends) outside brackets, and classifies each.
func splitItems(src string) ([]item, *scanner.ErrorList) {
	fset := token.NewFileSet()
	f := fset.AddFile("cell", -1, len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(f, []byte(src), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)
	var toks []tok
	for {
		pos, t, lit := s.Scan()
		if t == token.EOF {
			break
		}
		off := f.Offset(pos)
		n := len(lit)
		if lit == "" || t == token.SEMICOLON {
			n = len(t.String())
			if t == token.SEMICOLON {
				n = 0
				if lit == ";" {
					n = 1
				}
			}
		}
		toks = append(toks, tok{off, off + n, t})
	}
	if len(errs) > 0 {
		return nil, &errs
	}
	var items []item
	depth := 0
	first := -1
	flush := func(last int) {
		if first < 0 || last < first {
			first = -1
			return
		}
		items = append(items, item{start: toks[first].off, end: toks[last].end, kind: classify(toks[first : last+1])})
		first = -1
	}
	for i, t := range toks {
		switch t.tok {
		case token.LPAREN, token.LBRACE, token.LBRACK:
			depth++
		case token.RPAREN, token.RBRACE, token.RBRACK:
			depth--
		case token.SEMICOLON:
			if depth == 0 {
				flush(i - 1)
				continue
			}
		}
		if first < 0 {
			first = i
		}
	}
	flush(len(toks) - 1)
	return items, nil
}

func classify(ts []tok) itemKind {
	switch ts[0].tok {
	case token.IMPORT:
		return itemImport
	case token.TYPE, token.CONST:
		return itemDecl
	case token.FUNC:
		if len(ts) > 1 && ts[1].tok == token.IDENT {
			return itemDecl
		}
		if len(ts) > 1 && ts[1].tok == token.LPAREN {
			// func (r T) name(...) is a method; func(...) {...}() is a call.
			depth := 0
			for i := 1; i < len(ts); i++ {
				switch ts[i].tok {
				case token.LPAREN:
					depth++
				case token.RPAREN:
					depth--
					if depth == 0 {
						if i+1 < len(ts) && ts[i+1].tok == token.IDENT {
							return itemDecl
						}
						return itemStmt
					}
				}
			}
		}
	}
	return itemStmt
}
