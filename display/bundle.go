package display

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MIME types the notebook front ends render.
const (
	MIMEText       = "text/plain"
	MIMEHTML       = "text/html"
	MIMEMarkdown   = "text/markdown"
	MIMELaTeX      = "text/latex"
	MIMESVG        = "image/svg+xml"
	MIMEPNG        = "image/png"
	MIMEJPEG       = "image/jpeg"
	MIMEGIF        = "image/gif"
	MIMEJSON       = "application/json"
	MIMEJavaScript = "application/javascript"
	MIMEPDF        = "application/pdf"
)

// Bundle maps MIME types to the data of one output, e.g.
// {"text/html": "<b>hi</b>", "text/plain": "hi"}. Text types hold a string,
// binary types ([]byte) are base64-encoded on the wire, application/json and
// +json types hold any JSON-encodable value. Bundles returned by this package
// always carry text/plain.
type Bundle map[string]any

// MIMEBundle returns b itself, so a Bundle is a Renderer.
func (b Bundle) MIMEBundle() Bundle { return b }

// Text returns the text/plain entry of b ("" when absent or not a string).
func (b Bundle) Text() string {
	s, _ := b[MIMEText].(string)
	return s
}

// String is Text, so printing a bundle outside a notebook prints its text.
func (b Bundle) String() string { return b.Text() }

// Types lists the MIME types of b, sorted.
func (b Bundle) Types() []string {
	t := make([]string, 0, len(b))
	for k := range b {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

// Renderer is a value that knows its MIME bundle. It is the first thing
// BundleOf looks for; viz charts implement it.
type Renderer interface {
	MIMEBundle() Bundle
}

// MapRenderer is a Renderer whose method returns a plain map, for packages
// that do not import display (viz's Figure).
type MapRenderer interface {
	MIMEBundle() map[string]any
}

// The single-type method sets BundleOf recognises, named as in gophernotes.
type (
	SimpleRenderer interface{ SimpleRender() map[string]any }
	HTMLer         interface{ HTML() string }
	SVGer          interface{ SVG() string }
	PNGer          interface{ PNG() []byte }
	JPEGer         interface{ JPEG() []byte }
	Markdowner     interface{ Markdown() string }
	JSONer         interface{ JSON() map[string]any }
	JSONAnyer      interface{ JSON() any }
	LaTeXer        interface{ LaTeX() string }
	Latexer        interface{ Latex() string }
	JavaScripter   interface{ JavaScript() string }
	PDFer          interface{ PDF() []byte }
)

// Renders reports whether BundleOf(v) would give more than text/plain, i.e.
// whether v has one of the MIME methods or is an image.
func Renders(v any) bool {
	switch v.(type) {
	case Renderer, MapRenderer, SimpleRenderer, HTMLer, SVGer, PNGer, JPEGer, Markdowner, JSONer, JSONAnyer,
		LaTeXer, Latexer, JavaScripter, PDFer, image.Image:
		return true
	}
	return false
}

// BundleOf returns the MIME bundle of v following the package's single MIME
// contract (see the package comment): a bundle method first, then the
// single-type methods (all that apply are merged), then image.Image as PNG,
// else fmt.Sprint(v) as text/plain. A bundle lacking text/plain gets one:
// the value's String method, or fmt.Sprint(v) for single-type methods (when
// under 2000 bytes), else a short description like <viz.Chart: text/html>. The result always has text/plain and is
// never nil; it may be shared with v when v is a Bundle or a Renderer, so
// treat it as read-only. A method that panics gives a text/plain bundle
// describing the panic instead of crashing the caller.
func BundleOf(v any) (b Bundle) {
	defer func() {
		if r := recover(); r != nil {
			b = Bundle{MIMEText: fmt.Sprintf("display: rendering %T panicked: %v", v, r)}
		}
	}()
	switch x := v.(type) {
	case nil:
		return Bundle{MIMEText: "<nil>"}
	case Bundle:
		return withText(x, v)
	case Renderer:
		return withText(x.MIMEBundle(), v)
	case MapRenderer:
		return withText(Bundle(x.MIMEBundle()), v)
	case SimpleRenderer:
		return withText(Bundle(x.SimpleRender()), v)
	}
	return singleTypes(v)
}

// singleTypes merges the single-type MIME methods of v.
func singleTypes(v any) (b Bundle) {
	b = Bundle{}
	if x, ok := v.(HTMLer); ok {
		b[MIMEHTML] = x.HTML()
	}
	if x, ok := v.(SVGer); ok {
		b[MIMESVG] = x.SVG()
	}
	if x, ok := v.(PNGer); ok {
		b[MIMEPNG] = x.PNG()
	}
	if x, ok := v.(JPEGer); ok {
		b[MIMEJPEG] = x.JPEG()
	}
	if x, ok := v.(Markdowner); ok {
		b[MIMEMarkdown] = x.Markdown()
	}
	if x, ok := v.(JSONer); ok {
		b[MIMEJSON] = x.JSON()
	} else if x, ok := v.(JSONAnyer); ok {
		b[MIMEJSON] = x.JSON()
	}
	if x, ok := v.(LaTeXer); ok {
		b[MIMELaTeX] = x.LaTeX()
	} else if x, ok := v.(Latexer); ok {
		b[MIMELaTeX] = x.Latex()
	}
	if x, ok := v.(JavaScripter); ok {
		b[MIMEJavaScript] = x.JavaScript()
	}
	if x, ok := v.(PDFer); ok {
		b[MIMEPDF] = x.PDF()
	}
	if len(b) == 0 {
		if img, ok := v.(image.Image); ok {
			return Image(img)
		}
		return Bundle{MIMEText: fmt.Sprint(v)}
	}
	if s, ok := b[MIMEText].(string); !ok || s == "" {
		b[MIMEText] = shortText(v, b)
	}
	return b
}

// maxPlainText bounds the fmt.Sprint text of a value that renders richly;
// longer texts (a struct full of data) are replaced by a short description.
const maxPlainText = 2000

// shortText is fmt.Sprint(v) if short, else a description of v's bundle.
func shortText(v any, b Bundle) string {
	if s := fmt.Sprint(v); len(s) <= maxPlainText {
		return s
	}
	return textFallback(b, v)
}

// withText returns b with a text/plain entry, copying b only when it must be
// changed. The text is v's fmt.Sprint unless v is itself a bundle, whose
// text falls back to a list of its MIME types.
func withText(b Bundle, v any) Bundle {
	if s, ok := b[MIMEText].(string); ok && s != "" {
		return b
	}
	c := make(Bundle, len(b)+1)
	maps.Copy(c, b)
	if len(b) == 0 {
		c[MIMEText] = shortText(v, b)
	} else {
		c[MIMEText] = textFallback(b, v)
	}
	return c
}

// textFallback is the text/plain of a value that only said how it renders
// richly: its String method if it has one, else a short description.
func textFallback(b Bundle, v any) string {
	if s, ok := v.(fmt.Stringer); ok {
		if _, isBundle := v.(Bundle); !isBundle {
			return s.String()
		}
	}
	if s, ok := b[MIMEMarkdown].(string); ok {
		return s
	}
	if s, ok := b[MIMELaTeX].(string); ok {
		return s
	}
	types := make([]string, 0, len(b))
	for k := range b {
		if k != MIMEText {
			types = append(types, k)
		}
	}
	sort.Strings(types)
	if _, isBundle := v.(Bundle); isBundle {
		return "<" + strings.Join(types, ", ") + ">"
	}
	return fmt.Sprintf("<%T: %s>", v, strings.Join(types, ", "))
}

// MIME returns a bundle with data under mime and a text/plain entry: text
// when given, else data itself for textual types, else a placeholder.
func MIME(mime string, data any, text ...string) Bundle {
	b := Bundle{mime: data}
	switch {
	case len(text) > 0:
		b[MIMEText] = strings.Join(text, " ")
	case mime == MIMEText:
	default:
		if s, ok := data.(string); ok && (strings.HasPrefix(mime, "text/") || mime == MIMESVG) {
			b[MIMEText] = s
		} else {
			b[MIMEText] = "<" + mime + ">"
		}
	}
	return b
}

// Text returns a text/plain bundle.
func Text(s string) Bundle { return Bundle{MIMEText: s} }

// HTML returns an HTML bundle (text/plain: the HTML source).
func HTML(html string) Bundle { return MIME(MIMEHTML, html) }

// Markdown returns a Markdown bundle (text/plain: the Markdown source).
func Markdown(md string) Bundle { return MIME(MIMEMarkdown, md) }

// SVG returns an SVG image bundle.
func SVG(svg string) Bundle { return MIME(MIMESVG, svg, "<svg image>") }

// PNG returns a PNG image bundle from encoded PNG bytes.
func PNG(data []byte) Bundle { return MIME(MIMEPNG, data, "<png image>") }

// JPEG returns a JPEG image bundle from encoded JPEG bytes.
func JPEG(data []byte) Bundle { return MIME(MIMEJPEG, data, "<jpeg image>") }

// PDF returns a PDF bundle from the bytes of a PDF file.
func PDF(data []byte) Bundle { return MIME(MIMEPDF, data, "<pdf document>") }

// JavaScript returns a bundle of JavaScript code the front end runs (if it
// trusts the notebook).
func JavaScript(js string) Bundle { return MIME(MIMEJavaScript, js, "<javascript>") }

// JSON returns a JSON bundle: v must be JSON-encodable (maps, slices,
// structs with json tags, numbers, strings). JupyterLab shows it as a tree.
func JSON(v any) Bundle { return MIME(MIMEJSON, v, fmt.Sprint(v)) }

// LaTeX returns an inline-math bundle: "x^2" renders as $x^2$.
func LaTeX(tex string) Bundle {
	t := strings.Trim(tex, "$")
	return MIME(MIMELaTeX, "$"+t+"$", tex)
}

// Latex is LaTeX, spelled as in gophernotes.
func Latex(tex string) Bundle { return LaTeX(tex) }

// Math returns a display-math bundle: "x^2" renders as $$x^2$$.
func Math(tex string) Bundle {
	t := strings.Trim(tex, "$")
	return MIME(MIMELaTeX, "$$"+t+"$$", tex)
}

// Image returns the PNG bundle of img (text/plain: its size). It panics if
// img cannot be encoded (zero or huge bounds).
func Image(img image.Image) Bundle {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic("display: Image: " + err.Error())
	}
	r := img.Bounds()
	return MIME(MIMEPNG, buf.Bytes(), fmt.Sprintf("<image %dx%d>", r.Dx(), r.Dy()))
}

// File returns the bundle of a file, its MIME type chosen by extension
// (.html .svg .png .jpg .jpeg .gif .md .json .tex .pdf .js .txt).
func File(path string) (Bundle, error) {
	mime, ok := extMIME[strings.ToLower(filepath.Ext(path))]
	if !ok {
		return nil, fmt.Errorf("display: File %s: unknown extension (want one of .html .svg .png .jpg .gif .md .json .tex .pdf .js .txt)", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("display: File: %w", err)
	}
	switch mime {
	case MIMEPNG, MIMEJPEG, MIMEGIF, MIMEPDF:
		return MIME(mime, data, "<"+filepath.Base(path)+">"), nil
	case MIMEJSON:
		return MIME(mime, jsonRaw(data), string(data)), nil
	}
	return MIME(mime, string(data)), nil
}

var extMIME = map[string]string{
	".html": MIMEHTML, ".htm": MIMEHTML, ".svg": MIMESVG, ".png": MIMEPNG, ".jpg": MIMEJPEG,
	".jpeg": MIMEJPEG, ".gif": MIMEGIF, ".md": MIMEMarkdown, ".json": MIMEJSON, ".tex": MIMELaTeX,
	".pdf": MIMEPDF, ".js": MIMEJavaScript, ".txt": MIMEText,
}

// jsonRaw is already-encoded JSON; it marshals as itself.
type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }
