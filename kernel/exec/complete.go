package exec

import (
	"go/scanner"
	"go/token"
	"strings"
	"time"

	"github.com/cosmos72/gomacro/go/etoken"
	mp "github.com/cosmos72/gomacro/go/parser"
)

// Complete returns completions for the identifier before byte offset
// cursor of code: global names, imported packages and their members,
// fields and methods after a dot, keywords and builtins. start and end are
// the byte range of code the chosen match replaces. While a cell runs it
// returns no matches rather than waiting; while the kernel is still loading
// packages in the background (Warm) it waits for that, up to completeWait.
func (in *Interp) Complete(code string, cursor int) (matches []string, start, end int) {
	cursor = clamp(cursor, 0, len(code))
	if !in.lockForComplete() {
		return nil, cursor, cursor
	}
	defer in.mu.Unlock()
	lineStart := strings.LastIndexByte(code[:cursor], '\n') + 1
	lineEnd := len(code)
	if i := strings.IndexByte(code[cursor:], '\n'); i >= 0 {
		lineEnd = cursor + i
	}
	head, words, _ := in.ir.CompleteWords(code[lineStart:lineEnd], cursor-lineStart)
	start = lineStart + len(head)
	if start > cursor {
		start = cursor
	}
	return words, start, cursor
}

// completeWait is how long a completion waits for Warm: each package it
// loads holds the interpreter for 50-100 ms (seconds in all on a loaded
// machine, right when a front end asks its first completions).
const completeWait = 3 * time.Second

// lockForComplete takes in.mu unless a cell is running (or Warm keeps it
// past completeWait), without blocking behind a cell.
func (in *Interp) lockForComplete() bool {
	in.waiting.Add(1)
	defer in.waiting.Add(-1)
	deadline := time.Now().Add(completeWait)
	for !in.mu.TryLock() {
		if !in.warming.Load() || in.running.Load() || time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
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
	var p mp.Parser
	p.Configure(0, '~')
	p.Init(etoken.NewFileSet(), "cell", 0, []byte(code))
	if _, err := p.Parse(); err != nil {
		return "invalid", ""
	}
	return "complete", ""
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
