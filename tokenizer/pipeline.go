package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The normalizer, pre-tokenizer, decoder and post-processor components of
// tokenizer.json that the BPE tokenizers of language models use. Each
// parse function returns an error naming a component it does not implement.

// component is the common JSON shape: a type tag plus its own fields.
type component struct {
	Type string `json:"type"`

	// Sequence
	Normalizers   []json.RawMessage `json:"normalizers"`
	PreTokenizers []json.RawMessage `json:"pretokenizers"`
	Decoders      []json.RawMessage `json:"decoders"`

	// Prepend, Strip, Replace
	Prepend string          `json:"prepend"`
	Content json.RawMessage `json:"content"`
	Start   int             `json:"start"`
	Stop    int             `json:"stop"`
	Pattern *struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`

	// Metaspace
	Replacement   string `json:"replacement"`
	PrependScheme string `json:"prepend_scheme"`
	AddPrefix     *bool  `json:"add_prefix_space"`
	Split         *bool  `json:"split"`

	// ByteLevel
	UseRegex *bool `json:"use_regex"`

	// WordPiece decoder
	Prefix  string `json:"prefix"`
	Cleanup *bool  `json:"cleanup"`

	// Punctuation, Digits
	Behavior         string `json:"behavior"`
	IndividualDigits bool   `json:"individual_digits"`

	// TemplateProcessing
	Single []json.RawMessage `json:"single"`
}

// parseAll parses the members of a Sequence component, dropping nulls.
func parseAll[T comparable](raws []json.RawMessage, parse func(json.RawMessage) (T, error)) ([]T, error) {
	var out []T
	var zero T
	for _, r := range raws {
		x, err := parse(r)
		if err != nil {
			return nil, err
		}
		if x != zero {
			out = append(out, x)
		}
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// readComponent decodes one pipeline component; nil (and no error) for an absent or null one.
func readComponent(raw json.RawMessage) (*component, error) {
	if isNull(raw) {
		return nil, nil
	}
	c := new(component)
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, err
	}
	return c, nil
}

// ---- normalizers

type normalizer interface{ normalize(string) string }

type normSeq []normalizer
type normPrepend string
type normReplace struct{ old, new string }
type normUnicode norm.Form
type normLowercase struct{}

func (s normSeq) normalize(x string) string {
	for _, n := range s {
		x = n.normalize(x)
	}
	return x
}

// Prepend adds its string to a non-empty input.
func (p normPrepend) normalize(x string) string {
	if x == "" {
		return x
	}
	return string(p) + x
}
func (r normReplace) normalize(x string) string { return strings.ReplaceAll(x, r.old, r.new) }
func (u normUnicode) normalize(x string) string { return norm.Form(u).String(x) }
func (normLowercase) normalize(x string) string { return strings.ToLower(x) }

func parseNormalizer(raw json.RawMessage) (normalizer, error) {
	c, err := readComponent(raw)
	if c == nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		s, err := parseAll(c.Normalizers, parseNormalizer)
		return normSeq(s), err
	case "Prepend":
		return normPrepend(c.Prepend), nil
	case "Replace":
		old, new, err := replaceArgs(*c)
		return normReplace{old, new}, err
	case "NFC":
		return normUnicode(norm.NFC), nil
	case "NFD":
		return normUnicode(norm.NFD), nil
	case "NFKC":
		return normUnicode(norm.NFKC), nil
	case "NFKD":
		return normUnicode(norm.NFKD), nil
	case "Lowercase":
		return normLowercase{}, nil
	}
	return nil, fmt.Errorf("type %q is not implemented", c.Type)
}

func replaceArgs(c component) (string, string, error) {
	if c.Pattern == nil || c.Pattern.String == nil {
		return "", "", fmt.Errorf("Replace with a regex pattern is not implemented (only a String pattern)")
	}
	var content string
	if err := json.Unmarshal(c.Content, &content); err != nil {
		return "", "", fmt.Errorf("Replace content: %w", err)
	}
	return *c.Pattern.String, content, nil
}

// ---- pre-tokenizers

// preTokenizer splits a normalized piece into words; first reports whether
// the piece starts the input (Metaspace's prepend_scheme "first").
type preTokenizer interface {
	split(s string, first bool) []string
}

type preSeq []preTokenizer

func (p preSeq) split(s string, first bool) []string {
	words := []string{s}
	for _, pt := range p {
		var next []string
		for i, w := range words {
			next = append(next, pt.split(w, first && i == 0)...)
		}
		words = next
	}
	return words
}

// metaspace replaces spaces by the replacement character (▁), prepends one
// (always, or only to the input's first piece), and optionally splits
// before each replacement character.
type metaspace struct {
	repl    string
	prepend string // "always", "first", "never"
	splitAt bool
}

func (m metaspace) split(s string, first bool) []string {
	s = strings.ReplaceAll(s, " ", m.repl)
	if (m.prepend == "always" || (m.prepend == "first" && first)) && !strings.HasPrefix(s, m.repl) {
		s = m.repl + s
	}
	if !m.splitAt {
		return []string{s}
	}
	var out []string
	start := 0
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], m.repl) {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i
			i += len(m.repl)
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func parsePreTokenizer(raw json.RawMessage) (preTokenizer, error) {
	c, err := readComponent(raw)
	if c == nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		s, err := parseAll(c.PreTokenizers, parsePreTokenizer)
		return preSeq(s), err
	case "Metaspace":
		m := metaspace{repl: c.Replacement, prepend: c.PrependScheme, splitAt: c.Split == nil || *c.Split}
		if m.prepend == "" { // older files: add_prefix_space
			m.prepend = "always"
			if c.AddPrefix != nil && !*c.AddPrefix {
				m.prepend = "never"
			}
		}
		if m.repl == "" || (m.prepend != "always" && m.prepend != "first" && m.prepend != "never") {
			return nil, fmt.Errorf("Metaspace replacement %q prepend_scheme %q", c.Replacement, c.PrependScheme)
		}
		return m, nil
	case "ByteLevel":
		return byteLevel{addPrefix: c.AddPrefix != nil && *c.AddPrefix, regex: c.UseRegex == nil || *c.UseRegex}, nil
	case "Whitespace":
		return whitespace{}, nil
	case "WhitespaceSplit":
		return whitespaceSplit{}, nil
	case "Punctuation":
		if c.Behavior != "" && c.Behavior != "Isolated" {
			return nil, fmt.Errorf("Punctuation behavior %q is not implemented (only Isolated)", c.Behavior)
		}
		return punctuation{}, nil
	case "Digits":
		return digits{individual: c.IndividualDigits}, nil
	case "BertPreTokenizer": // whitespace removed, punctuation isolated (bert.rs)
		return preSeq{whitespaceSplit{}, punctuation{}}, nil
	}
	return nil, fmt.Errorf("type %q is not implemented", c.Type)
}

// ---- decoders

// decoder turns the token strings into text pieces (joined with "").
type decoder interface{ decode([]string) []string }

type decSeq []decoder
type decReplace struct{ old, new string }
type decByteFallback struct{}
type decFuse struct{}
type decStrip struct {
	content     string
	start, stop int
}
type decMetaspace struct {
	repl    string
	prepend string
}

func (s decSeq) decode(t []string) []string {
	for _, d := range s {
		t = d.decode(t)
	}
	return t
}

func (r decReplace) decode(t []string) []string {
	for i := range t {
		t[i] = strings.ReplaceAll(t[i], r.old, r.new)
	}
	return t
}

// ByteFallback joins runs of <0xXX> tokens into their bytes; a run that is
// not valid UTF-8 becomes one U+FFFD per byte, as in the library.
func (decByteFallback) decode(t []string) []string {
	var out []string
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, s := range t {
		if b, ok := byteToken(s); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, s)
	}
	flush()
	return out
}

// byteToken parses "<0xXX>" (upper-case hex, as the library writes it).
func byteToken(s string) (byte, bool) {
	if len(s) != 6 || !strings.HasPrefix(s, "<0x") || s[5] != '>' {
		return 0, false
	}
	var b byte
	for _, c := range s[3:5] {
		switch {
		case c >= '0' && c <= '9':
			b = b<<4 | byte(c-'0')
		case c >= 'A' && c <= 'F':
			b = b<<4 | byte(c-'A'+10)
		default:
			return 0, false
		}
	}
	return b, true
}

func (decFuse) decode(t []string) []string { return []string{strings.Join(t, "")} }

// Strip removes up to start leading and stop trailing copies of content
// from each token.
func (d decStrip) decode(t []string) []string {
	for i, s := range t {
		for k := 0; k < d.start && strings.HasPrefix(s, d.content); k++ {
			s = s[len(d.content):]
		}
		for k := 0; k < d.stop && strings.HasSuffix(s, d.content); k++ {
			s = s[:len(s)-len(d.content)]
		}
		t[i] = s
	}
	return t
}

// Metaspace turns ▁ back into spaces and drops the space it prepended to
// the first token.
func (d decMetaspace) decode(t []string) []string {
	for i, s := range t {
		s = strings.ReplaceAll(s, d.repl, " ")
		if i == 0 && d.prepend != "never" {
			s = strings.TrimPrefix(s, " ")
		}
		t[i] = s
	}
	return t
}

func parseDecoder(raw json.RawMessage) (decoder, error) {
	c, err := readComponent(raw)
	if c == nil {
		return nil, err
	}
	switch c.Type {
	case "Sequence":
		s, err := parseAll(c.Decoders, parseDecoder)
		return decSeq(s), err
	case "Replace":
		old, new, err := replaceArgs(*c)
		return decReplace{old, new}, err
	case "ByteFallback":
		return decByteFallback{}, nil
	case "Fuse":
		return decFuse{}, nil
	case "Strip":
		var content string
		if err := json.Unmarshal(c.Content, &content); err != nil {
			return nil, fmt.Errorf("Strip content: %w", err)
		}
		return decStrip{content, c.Start, c.Stop}, nil
	case "Metaspace":
		p := c.PrependScheme
		if p == "" {
			p = "always"
			if c.AddPrefix != nil && !*c.AddPrefix {
				p = "never"
			}
		}
		return decMetaspace{c.Replacement, p}, nil
	case "ByteLevel":
		return decByteLevel{}, nil
	case "WordPiece":
		p := "##"
		if c.Prefix != "" {
			p = c.Prefix
		}
		return decWordPiece{prefix: p, cleanup: c.Cleanup == nil || *c.Cleanup}, nil
	}
	return nil, fmt.Errorf("type %q is not implemented", c.Type)
}

// ---- post-processor

// templatePiece is one item of TemplateProcessing's single template: the
// sequence itself or a special token.
type templatePiece struct {
	sequence bool
	id       int
}

func parsePostProcessor(raw json.RawMessage, t *Tokenizer) ([]templatePiece, error) {
	c, err := readComponent(raw)
	if c == nil {
		return nil, err
	}
	switch c.Type {
	case "ByteLevel":
		return nil, nil // offsets only; ids unchanged
	case "TemplateProcessing":
	default:
		return nil, fmt.Errorf("type %q is not implemented", c.Type)
	}
	var out []templatePiece
	for _, r := range c.Single {
		var item struct {
			Sequence     *struct{ ID string } `json:"Sequence"`
			SpecialToken *struct{ ID string } `json:"SpecialToken"`
		}
		if err := json.Unmarshal(r, &item); err != nil {
			return nil, err
		}
		switch {
		case item.Sequence != nil:
			out = append(out, templatePiece{sequence: true})
		case item.SpecialToken != nil:
			id, ok := t.TokenID(item.SpecialToken.ID)
			if !ok {
				return nil, fmt.Errorf("template token %q is not in the vocabulary", item.SpecialToken.ID)
			}
			out = append(out, templatePiece{id: id})
		default:
			return nil, fmt.Errorf("template item %s", r)
		}
	}
	return out, nil
}
