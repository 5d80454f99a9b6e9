package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// The splitting pre-tokenizers of word-level and BERT-style tokenizers,
// as the tokenizers library defines them (pre_tokenizers/whitespace.rs,
// punctuation.rs, digits.rs), with its Unicode classes:
//
//	Whitespace       the matches of \w+|[^\w\s]+ (whitespace dropped); \w is
//	                 regex's Unicode word class: Alphabetic, marks, Nd, Pc,
//	                 Join_Control; \s is White_Space
//	WhitespaceSplit  the runs between White_Space characters
//	Punctuation      each punctuation character (ASCII punctuation or Unicode
//	                 P*) a piece of its own ("Isolated", the default)
//	Digits           runs of numeric characters (Nd, Nl, No) split off, or with
//	                 individual_digits each numeric character alone
//
// Pieces are never empty.

type whitespace struct{}
type whitespaceSplit struct{}
type punctuation struct{}
type digits struct{ individual bool }

// isWord is regex's Unicode \w.
func isWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Nl, r) ||
		unicode.Is(unicode.Pc, r) || unicode.Is(unicode.Other_Alphabetic, r) || unicode.Is(unicode.Join_Control, r)
}

func isSpace(r rune) bool { return unicode.Is(unicode.White_Space, r) }

// isPunct is tokenizers' is_punc: ASCII punctuation (symbols such as $ + <
// included) or a Unicode punctuation category.
func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return r > ' ' && r < 0x7f && !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	}
	return unicode.IsPunct(r)
}

// runs splits s into maximal runs of runes of one class; class -1 runs
// are dropped, and a class-isolate rune is a run of its own.
func runs(s string, class func(rune) int, isolate int) []string {
	var out []string
	start, cur := 0, -2
	flush := func(end int) {
		if cur != -1 && end > start {
			out = append(out, s[start:end])
		}
	}
	for i, r := range s {
		c := class(r)
		if c != cur || c == isolate {
			flush(i)
			start, cur = i, c
		}
	}
	flush(len(s))
	return out
}

func (whitespace) split(s string, _ bool) []string {
	return runs(s, func(r rune) int {
		switch {
		case isWord(r):
			return 0
		case isSpace(r):
			return -1
		}
		return 1
	}, -2)
}

func (whitespaceSplit) split(s string, _ bool) []string {
	return runs(s, func(r rune) int {
		if isSpace(r) {
			return -1
		}
		return 0
	}, -2)
}

func (punctuation) split(s string, _ bool) []string {
	return runs(s, func(r rune) int {
		if isPunct(r) {
			return 1
		}
		return 0
	}, 1)
}

func (d digits) split(s string, _ bool) []string {
	isolate := -2
	if d.individual {
		isolate = 1
	}
	return runs(s, func(r rune) int {
		if unicode.IsNumber(r) {
			return 1
		}
		return 0
	}, isolate)
}
