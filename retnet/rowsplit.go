package retnet

import "github.com/retlab/retlab/internal/parallel"

// The row-wise kernels of a training step (cross-entropy, the norms, the GLU
// activation) are cheap per element but run over every token: serial, they
// were a tenth of a ladder-s step at T 256 while the other core idled. They
// split their rows into fixed blocks of at least rowBlockElems elements and
// spread the blocks over the cores. Each row is still computed by the same
// code in the same order, so the results do not depend on the thread count.

// rowBlockElems is the least work (elements) of one block: ~10-20 us, well
// above the cost of handing a block to a goroutine.
const rowBlockElems = 16 * 1024

// forRowBlocks calls fn(lo, hi) on consecutive blocks covering rows [0, n)
// of width elements each, in parallel when there is more than one block.
func forRowBlocks(n, width int, fn func(lo, hi int)) {
	rows := max(1, rowBlockElems/max(1, width))
	blocks := (n + rows - 1) / rows
	if blocks <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	parallel.For(blocks, func(_, b int) { fn(b*rows, min(n, (b+1)*rows)) })
}

// forElems is forRowBlocks over a flat range [0, n) of elements.
func forElems(n int, fn func(lo, hi int)) { forRowBlocks(n, 1, fn) }
