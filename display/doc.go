// Package display shows rich values (HTML, SVG, images, Markdown, JSON,
// LaTeX) and progress bars, in a Jupyter notebook when running inside the
// RetLab kernel and as plain text everywhere else.
//
// It is deliberately tiny and imports nothing outside the standard library,
// so that computing packages (retnet) and drawing packages (viz) can report
// progress and show values without knowing whether a notebook is attached.
//
// # One MIME contract
//
// A value renders richly when BundleOf finds, in this order:
//
//  1. a Bundle, or a MIMEBundle() method returning a Bundle (Renderer) or a
//     map[string]any (MapRenderer): used as is;
//  2. gophernotes' SimpleRender() map[string]any;
//  3. single-type methods, all that apply are merged: HTML() string,
//     SVG() string, PNG() []byte, JPEG() []byte, Markdown() string,
//     JSON() (map[string]any or any), LaTeX() or Latex() string,
//     JavaScript() string, PDF() []byte;
//  4. an image.Image, encoded as PNG;
//  5. otherwise fmt.Sprint(v) as text/plain.
//
// Every bundle BundleOf returns has a text/plain entry, so consoles, logs and
// nbconvert to text always have something to print. The method names are
// gophernotes' conventions, so its users' types render unchanged.
//
// # Showing and updating
//
//	id := display.Show(display.HTML("<b>epoch 1</b>"))  // new output, returns its display id
//	display.Update(id, display.HTML("<b>epoch 2</b>"))  // replaces it in place
//	display.Show(img)                                    // any image.Image as PNG
//
// A value with a DisplayID() string method (viz's live charts) is shown
// under its own id, and Refresh(v) updates it:
//
//	display.Show(live)     // shown under live.DisplayID()
//	display.Refresh(live)  // after live.Add(...): redrawn in place
//
// The last expression of a notebook cell is shown automatically by the
// kernel through the same BundleOf, so Show is only needed for output in the
// middle of a cell or from library code.
//
// # Progress
//
//	p := display.NewProgress(steps, "train")
//	defer p.Close()
//	for step := 0; step < steps; step++ {
//		if display.Interrupted() { // the notebook's stop button
//			return display.ErrInterrupted
//		}
//		loss := trainStep()
//		p.Set(step+1, display.Metric{Name: "loss", Value: loss})
//	}
//
// In a notebook the bar is an HTML output updated in place; in a terminal it
// is one line on stderr redrawn with \r; in a log file it is a plain line
// every few seconds. Updates are throttled, so calling Set every step of a
// fast loop is cheap.
//
// # Sinks
//
// Where output goes is decided by the current Sink. The default TextSink
// writes text/plain to stdout and progress to stderr; the RetLab kernel
// installs its own sink at start (SetSink) that turns Show, Update, Clear and
// progress into Jupyter display_data, update_display_data and clear_output
// messages of the cell that is running.
package display
