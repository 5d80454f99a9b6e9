package display_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/retlab/retlab/display"
)

type Loss float64

func (l Loss) HTML() string { return fmt.Sprintf("<b>loss %.3f</b>", float64(l)) }

func ExampleBundleOf() {
	b := display.BundleOf(Loss(2.5))
	fmt.Println(b.Types())
	fmt.Println(b[display.MIMEHTML])
	fmt.Println(b.Text())
	// Output:
	// [text/html text/plain]
	// <b>loss 2.500</b>
	// 2.5
}

func ExampleShow() {
	// Outside a notebook the default sink prints the text/plain of a bundle.
	id := display.Show(display.HTML("<b>epoch 1</b>"))
	display.Update(id, display.Markdown("**epoch 2**"))
	// Output:
	// <b>epoch 1</b>
	// **epoch 2**
}

func ExampleProgressState_Line() {
	s := display.ProgressState{Desc: "train", Unit: "step", Done: 420, Total: 1000,
		Elapsed: 12 * time.Second, Rate: 35, ETA: 16572 * time.Millisecond,
		Metrics: []display.Metric{{Name: "loss", Value: 2.3141}, {Name: "tok/s", Value: 35840}}}
	fmt.Println(s.Line())
	// Output:
	// train  42%|##########              | 420/1000 [00:12<00:17, 35 step/s] loss=2.314 tok/s=35.8k
}

func ExampleNewProgress() {
	var log strings.Builder
	prev := display.SetSink(display.NewTextSink(&log, &log)) // not a terminal: plain lines
	defer display.SetSink(prev)
	p := display.NewProgress(3, "eval")
	for i := 1; i <= 3; i++ {
		p.Set(i, display.Metric{Name: "acc", Value: 0.5})
	}
	p.Close()
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	fmt.Println(len(lines), "lines; last:", lines[len(lines)-1][:40])
	// Output:
	// 2 lines; last: eval 100%|########################| 3/3
}
