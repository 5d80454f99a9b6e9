package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Byte-level BPE (GPT-2): text is split with GPT-2's pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// and every byte of a piece is written as one printable character
// (bytesToUnicode), so the vocabulary needs no byte fallback. Go's regexp
// has no lookahead, so the pattern is a hand-written scanner below.

// byteLevel is the ByteLevel pre-tokenizer.
type byteLevel struct {
	addPrefix bool
	regex     bool
}

func (b byteLevel) split(s string, _ bool) []string {
	if b.addPrefix && !strings.HasPrefix(s, " ") {
		s = " " + s
	}
	var pieces []string
	if b.regex {
		pieces = gpt2Split(s)
	} else {
		pieces = []string{s}
	}
	for i, p := range pieces {
		var sb strings.Builder
		for k := 0; k < len(p); k++ {
			sb.WriteRune(byteRune[p[k]])
		}
		pieces[i] = sb.String()
	}
	return pieces
}

// gpt2Split splits s as the GPT-2 pattern does (alternatives tried in order
// at each position, each greedy).
func gpt2Split(s string) []string {
	var out []string
	at := func(i int) (rune, int) {
		if i >= len(s) {
			return -1, 0
		}
		return utf8.DecodeRuneInString(s[i:])
	}
	run := func(i int, class func(rune) bool) int {
		for i < len(s) {
			r, n := at(i)
			if !class(r) {
				break
			}
			i += n
		}
		return i
	}
	isOther := func(r rune) bool { return !unicode.IsSpace(r) && !unicode.IsLetter(r) && !unicode.IsNumber(r) }
	for i := 0; i < len(s); {
		end := -1
		if s[i] == '\'' {
			for _, c := range []string{"s", "t", "re", "ve", "m", "ll", "d"} {
				if strings.HasPrefix(s[i+1:], c) {
					end = i + 1 + len(c)
					break
				}
			}
		}
		if end < 0 {
			j := i
			if s[i] == ' ' {
				j++
			}
			r, _ := at(j)
			for _, class := range []func(rune) bool{unicode.IsLetter, unicode.IsNumber, isOther} {
				if r >= 0 && class(r) {
					end = run(j, class)
					break
				}
			}
		}
		if end < 0 { // whitespace: \s+(?!\S) then \s+
			j := run(i, unicode.IsSpace)
			end = j
			if j < len(s) { // followed by a non-space: leave its last space to it
				_, n := lastRune(s[i:j])
				if j-n > i {
					end = j - n
				}
			}
		}
		out = append(out, s[i:end])
		i = end
	}
	return out
}

func lastRune(s string) (rune, int) { return utf8.DecodeLastRuneInString(s) }

// byteRune maps each byte to its printable stand-in; runeByte inverts it.
var byteRune, runeByte = bytesToUnicode()

func bytesToUnicode() ([256]rune, map[rune]byte) {
	var br [256]rune
	rb := map[rune]byte{}
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			br[b] = rune(b)
		} else {
			br[b] = rune(256 + n)
			n++
		}
		rb[br[b]] = byte(b)
	}
	return br, rb
}

// decByteLevel maps the stand-in characters back to bytes and decodes them
// as UTF-8, each ill-formed part becoming U+FFFD (Rust's from_utf8_lossy).
type decByteLevel struct{}

func (decByteLevel) decode(t []string) []string {
	var b []byte
	for _, tok := range t {
		start := len(b)
		ok := true
		for _, r := range tok {
			c, in := runeByte[r]
			if !in {
				ok = false
				break
			}
			b = append(b, c)
		}
		if !ok { // a token outside the map (an added token) is kept as is
			b = append(b[:start], tok...)
		}
	}
	return []string{lossyUTF8(b)}
}

// lossyUTF8 decodes b, replacing each maximal ill-formed subpart with one
// U+FFFD as the Unicode standard recommends (and Rust does; Go's
// strings.ToValidUTF8 would merge adjacent ones).
func lossyUTF8(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			sb.WriteByte(c)
			i++
			continue
		}
		var need int
		lo, hi := byte(0x80), byte(0xBF) // range of the second byte
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		default:
			sb.WriteRune(utf8.RuneError)
			i++
			continue
		}
		j := i + 1
		for k := 0; k < need && j < len(b); k++ {
			l, h := byte(0x80), byte(0xBF)
			if k == 0 {
				l, h = lo, hi
			}
			if b[j] < l || b[j] > h {
				break
			}
			j++
		}
		if j-i == need+1 {
			sb.Write(b[i:j])
		} else {
			sb.WriteRune(utf8.RuneError)
		}
		i = j
	}
	return sb.String()
}
