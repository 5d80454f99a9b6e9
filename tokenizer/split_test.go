package tokenizer

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestPunctuationTable compares isPunct with the library on every
// non-ASCII code point (testdata/punctuation.txt, probed from its
// Punctuation pre-tokenizer by make_tokenizer_reference.py).
func TestPunctuationTable(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "punctuation.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lib := map[rune]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, err := strconv.ParseUint(sc.Text(), 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		lib[rune(v)] = true
	}
	if len(lib) < 500 {
		t.Fatalf("%d punctuation code points read", len(lib))
	}
	bad := 0
	for r := rune(0x80); r < 0x110000; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if isPunct(r) != lib[r] {
			if bad++; bad <= 5 {
				t.Errorf("%U: isPunct %v, tokenizers %v", r, isPunct(r), lib[r])
			}
		}
	}
	for _, c := range "!$+<=>@[`|~" {
		if !isPunct(c) {
			t.Errorf("%q: ASCII punctuation (symbols included) not punctuation", c)
		}
	}
}

// The splitting pre-tokenizers on one string each, against the words the
// library's pre_tokenize_str returns for it (the reference cases cover them
// only through the ids they lead to).
func TestSplitPreTokenizers(t *testing.T) {
	for _, c := range []struct {
		p    preTokenizer
		in   string
		want []string
	}{
		{whitespace{}, "Hey friend!  How are_you? 42x", []string{"Hey", "friend", "!", "How", "are_you", "?", "42x"}},
		{whitespaceSplit{}, " a\tb\u3000c ", []string{"a", "b", "c"}},
		{punctuation{}, "a,,b.", []string{"a", ",", ",", "b", "."}},
		{digits{}, "a123b4", []string{"a", "123", "b", "4"}},
		{digits{individual: true}, "a12", []string{"a", "1", "2"}},
	} {
		got := c.p.split(c.in, true)
		if len(got) != len(c.want) {
			t.Errorf("%T(%q) = %q, want %q", c.p, c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%T(%q) = %q, want %q", c.p, c.in, got, c.want)
				break
			}
		}
	}
}
