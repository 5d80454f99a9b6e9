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
// included) or a Unicode punctuation category in the library's table, which
// is older than Go's (the unicode_categories crate, Unicode 9): Go's P*
// less punctNew plus punctOld.
func isPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return r > ' ' && r < 0x7f && !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	}
	if unicode.Is(punctOld, r) {
		return true
	}
	return unicode.IsPunct(r) && !unicode.Is(punctNew, r)
}

// punctNew are the characters Go's Unicode 15 tables class as punctuation
// and tokenizers 0.23.3 does not (assigned or reclassified after Unicode
// 9); punctOld the two it still treats as punctuation (U+166D, now So;
// U+111C9, now Mn). Found by probing every code point with the library's
// Punctuation pre-tokenizer ("a" + c + "b" splits in three or not) and
// comparing with unicode.IsPunct.
var (
	punctNew = rangeTable([][2]rune{{0x061D, 0x061D}, {0x09FD, 0x09FD}, {0x0A76, 0x0A76}, {0x0C77, 0x0C77}, {0x0C84, 0x0C84},
		{0x1B7D, 0x1B7E}, {0x2E43, 0x2E4F}, {0x2E52, 0x2E5D}, {0x10EAD, 0x10EAD}, {0x10F55, 0x10F59}, {0x10F86, 0x10F89},
		{0x1144B, 0x1144F}, {0x1145A, 0x1145B}, {0x1145D, 0x1145D}, {0x11660, 0x1166C}, {0x116B9, 0x116B9}, {0x1183B, 0x1183B},
		{0x11944, 0x11946}, {0x119E2, 0x119E2}, {0x11A3F, 0x11A46}, {0x11A9A, 0x11A9C}, {0x11A9E, 0x11AA2}, {0x11B00, 0x11B09},
		{0x11C41, 0x11C45}, {0x11C70, 0x11C71}, {0x11EF7, 0x11EF8}, {0x11F43, 0x11F4F}, {0x11FFF, 0x11FFF}, {0x12FF1, 0x12FF2},
		{0x16E97, 0x16E9A}, {0x16FE2, 0x16FE2}, {0x1E95E, 0x1E95F}})
	punctOld = rangeTable([][2]rune{{0x166D, 0x166D}, {0x111C9, 0x111C9}})
)

func rangeTable(rs [][2]rune) *unicode.RangeTable {
	t := &unicode.RangeTable{}
	for _, r := range rs {
		if r[1] <= 0xFFFF {
			t.R16 = append(t.R16, unicode.Range16{Lo: uint16(r[0]), Hi: uint16(r[1]), Stride: 1})
		} else {
			t.R32 = append(t.R32, unicode.Range32{Lo: uint32(r[0]), Hi: uint32(r[1]), Stride: 1})
		}
	}
	return t
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
