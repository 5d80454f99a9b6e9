package cpu

import (
	"sync"
	"unsafe"
)

// Register tile of the microkernel: mr rows x nr columns of C stay in
// registers for a whole kc-deep panel. SetISA chooses it: 6 x 16 (12 YMM
// registers: 6 rows x 2 vectors of 8 floats) for AVX2 and pure Go, 12 x 32
// (24 ZMM registers: 12 rows x 2 vectors of 16) for AVX-512.
var mr, nr = 6, 16

// maxMR x maxNR is the largest register tile of any ISA (workspace scratch).
const maxMR, maxNR = 12, 32

// Cache blocking, in elements (GotoBLAS/BLIS naming). A kc x nr micro-panel of
// packed B (16 KiB at kc=256) stays in L1 while the microkernel sweeps the
// mc x kc block of packed A (L2); the kc x nc block of packed B sits in L3.
// mcBlock is a multiple of every mr, ncBlock of every nr. They are variables only so the
// tests can shrink them to hit every edge with small matrices.
var (
	kcBlock = 256
	mcBlock = 144
	ncBlock = 3072
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major float32
// matrices, where op(X) is X or X^T. op(A) is (m,k), op(B) is (k,n), C is
// (m,n); lda, ldb and ldc are the row strides of A, B and C as stored, so A is
// stored (m,lda) or, with transA, (k,lda). It replaces SgemmNaive:
//
//	for i, j: C[i][j] = alpha * sum_p opA[i][p]*opB[p][j] + beta*C[i][j]
//
// With beta == 0, C is only written (NaN or Inf already there disappear); with
// alpha == 0 or k == 0, A and B are not read. Elements of C outside the m x n
// window (ldc > n) are never touched. Rounding differs from SgemmNaive: sums
// are float32, in blocks of kcBlock.
//
// Large products are blocked and packed (GotoBLAS style) and split into tiles
// of C run on Threads() goroutines; see the package documentation.
//
// It panics if a dimension is negative, a stride is smaller than its row, or
// a slice is too short for its dimensions and stride.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(Threads(), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the calling goroutine only (same results, bit for
// bit). Callers that already spread independent products over the cores,
// such as the retention kernels (one head or row tile per goroutine), use it
// to avoid oversubscribing them.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemm(1, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemm(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	g := gemm{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc}
	if kind := g.gemvKind(); kind != notGemv {
		g.parallelGemv(kind, threads)
		return
	}
	if m <= smallDim && n <= smallDim && k <= smallDim && m*n*k <= smallProduct {
		g.small()
		return
	}
	g.parallel(threads)
}

// smallProduct is the m*n*k (with no dimension over smallDim) up to which
// packing costs more than it saves and Sgemm runs a plain loop.
const (
	smallProduct = 8 * 8 * 8
	smallDim     = 64
)

// gemm holds one Sgemm call's arguments.
type gemm struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a              []float32 // (m,lda) or with transA (k,lda)
	b              []float32 // (k,ldb) or with transB (n,ldb)
	c              []float32 // (m,ldc)
	lda, ldb, ldc  int
	wb             []BF16 // SgemmBF16W: B^T in bfloat16 (n,ldb), in place of b
	xb             []BF16 // LinearBF16's packed path: A in bfloat16 (m,lda), in place of a; with wb
	nc             int    // columns per packed B block (0: ncBlock)
}

// scaleMatrix sets C = beta*C over the m x n window (beta == 0 clears it).
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			Scale(beta, row)
		}
	}
}

// workspace is one goroutine's packing memory, allocated once at the largest
// block sizes and reused by every call (see getWorkspace).
type workspace struct {
	a    []float32 // (mcBlock/mr, kcBlock, mr) packed A block, 64-byte aligned
	b    []float32 // (ncBlock/nr, kcBlock, nr) packed B block, 64-byte aligned
	tile []float32 // (maxMR, maxNR) scratch for the partial tiles at the edges of C
	wide []float32 // (maxNR, kcBlock) SgemmBF16W's widened weight rows, allocated on first use
}

// aligned64 returns a slice of n float32 whose first element is 64-byte
// aligned (a cache line), so packed micro-panels never straddle lines.
func aligned64(n int) []float32 {
	buf := make([]float32, n+16)
	off := int(uintptr(unsafe.Pointer(&buf[0]))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return buf[off : off+n : off+n]
}

var workspaces struct {
	sync.Mutex
	free []*workspace
}

// getWorkspace takes a workspace from the free list, allocating one only when
// every existing one is in use (so there are at most as many as goroutines
// ever ran Sgemm at once).
func getWorkspace() *workspace {
	workspaces.Lock()
	if n := len(workspaces.free); n > 0 {
		ws := workspaces.free[n-1]
		workspaces.free = workspaces.free[:n-1]
		workspaces.Unlock()
		if len(ws.a) == mcBlock*kcBlock && len(ws.b) == kcBlock*ncBlock {
			return ws
		}
	} else {
		workspaces.Unlock()
	}
	return &workspace{
		a:    aligned64(mcBlock * kcBlock),
		b:    aligned64(kcBlock * ncBlock),
		tile: aligned64(maxMR * maxNR),
	}
}

func putWorkspace(ws *workspace) {
	workspaces.Lock()
	workspaces.free = append(workspaces.free, ws)
	workspaces.Unlock()
}

// tile computes the block C[i0:i1, j0:j1] of the product with one workspace:
// the GotoBLAS loop nest jc (nc columns) > pc (kc depth, pack B) > ic (mc rows,
// pack A) > jr > ir (microkernel).
func (g *gemm) tile(ws *workspace, i0, i1, j0, j1 int) {
	if g.xb != nil {
		g.tileBF16(ws, i0, i1, j0, j1)
		return
	}
	ncb := ncBlock
	if g.nc > 0 {
		ncb = g.nc
	}
	for jc := j0; jc < j1; jc += ncb {
		nc := min(ncb, j1-jc)
		for pc := 0; pc < g.k; pc += kcBlock {
			kc := min(kcBlock, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1 // later depth blocks accumulate onto the first
			}
			if g.wb != nil {
				packBF16W(ws, ws.b, g.wb, g.ldb, pc, kc, jc, nc)
			} else {
				packB(ws.b, g.b, g.ldb, g.transB, pc, kc, jc, nc)
			}
			for ic := i0; ic < i1; ic += mcBlock {
				mc := min(mcBlock, i1-ic)
				packA(ws.a, g.a, g.lda, g.transA, ic, mc, pc, kc)
				g.macroKernel(ws, ic, mc, jc, nc, kc, beta)
			}
		}
	}
}

// macroKernel multiplies the packed A block (mc x kc) by the packed B block
// (kc x nc) into C[ic:ic+mc, jc:jc+nc], one mr x nr register tile at a time.
// Full tiles go straight to C; edge tiles go through ws.tile. For the
// packed bfloat16 path (g.xb set) kc counts pairs.
func (g *gemm) macroKernel(ws *workspace, ic, mc, jc, nc, kc int, beta float32) {
	c, ldc, alpha := g.c, g.ldc, g.alpha
	microKernel := microKernel
	if g.xb != nil {
		microKernel = microKernelBF16
	}
	for jr := 0; jr < nc; jr += nr {
		nn := min(nr, nc-jr)
		bp := ws.b[jr*kc : jr*kc+kc*nr]
		for ir := 0; ir < mc; ir += mr {
			mm := min(mr, mc-ir)
			ap := ws.a[ir*kc : ir*kc+kc*mr]
			ci := (ic+ir)*ldc + jc + jr
			if mm == mr && nn == nr {
				microKernel(kc, ap, bp, c[ci:], ldc, alpha, beta)
				continue
			}
			t := ws.tile
			microKernel(kc, ap, bp, t, nr, alpha, 0)
			for i := 0; i < mm; i++ {
				crow := c[ci+i*ldc : ci+i*ldc+nn]
				trow := t[i*nr : i*nr+nn]
				if beta == 0 {
					copy(crow, trow)
					continue
				}
				for j, v := range trow {
					crow[j] = v + beta*crow[j]
				}
			}
		}
	}
}

// microKernel dispatches to the ISA's microkernel:
// C[0:mr, 0:nr] = alpha * (packed a)(packed b) + beta*C, c with row stride ldc.
func microKernel(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	if isa == Generic {
		kernelGo(kc, a, b, c, ldc, alpha, beta)
		return
	}
	// The assembly does no bounds checks: prove the extents here.
	_ = a[kc*mr-1]
	_ = b[kc*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	if isa == AVX512 {
		sgemmKernelAVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
		return
	}
	sgemmKernelAVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// kernelGo is the portable microkernel (and the plain loop the assembly
// replaces): a (kc, mr) packed A panel times a (kc, nr) packed B panel,
//
//	acc[i][j] = sum_p a[p*mr+i] * b[p*nr+j]
//	C[i][j] = alpha*acc[i][j] + beta*C[i][j] // beta == 0: alpha*acc[i][j]
//
// computed as twelve 2x4 blocks so each block's eight sums stay in registers
// (a whole 6x16 tile would spill to the stack every step).
func kernelGo(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	a = a[:kc*mr]
	b = b[:kc*nr]
	for i := 0; i < mr; i += 2 {
		for j := 0; j < nr; j += 4 {
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p := 0; p < kc; p++ {
				ap := a[p*mr+i : p*mr+i+2]
				bp := b[p*nr+j : p*nr+j+4]
				a0, a1 := ap[0], ap[1]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				s00 += a0 * b0
				s01 += a0 * b1
				s02 += a0 * b2
				s03 += a0 * b3
				s10 += a1 * b0
				s11 += a1 * b1
				s12 += a1 * b2
				s13 += a1 * b3
			}
			c0 := c[i*ldc+j : i*ldc+j+4]
			c1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4]
			if beta == 0 {
				c0[0], c0[1], c0[2], c0[3] = alpha*s00, alpha*s01, alpha*s02, alpha*s03
				c1[0], c1[1], c1[2], c1[3] = alpha*s10, alpha*s11, alpha*s12, alpha*s13
				continue
			}
			c0[0] = alpha*s00 + beta*c0[0]
			c0[1] = alpha*s01 + beta*c0[1]
			c0[2] = alpha*s02 + beta*c0[2]
			c0[3] = alpha*s03 + beta*c0[3]
			c1[0] = alpha*s10 + beta*c1[0]
			c1[1] = alpha*s11 + beta*c1[1]
			c1[2] = alpha*s12 + beta*c1[2]
			c1[3] = alpha*s13 + beta*c1[3]
		}
	}
}

// packRows is how many stored rows packA and packB read before moving on to
// the next micro-panel when no transpose is needed.
var packRows = 8

// packA copies opA[i0:i0+mc, p0:p0+kc] into dst as mc/mr micro-panels, each
// (kc, mr): dst[ir*kc + p*mr + i] = opA[i0+ir+i][p0+p]. Rows past mc are zero.
func packA(dst, a []float32, lda int, transA bool, i0, mc, p0, kc int) {
	if transA {
		// opA[i][p] = a[p*lda+i]: each depth step is mr contiguous floats.
		kernel := packA6TAVX2
		if mr == 12 {
			kernel = packA12TAVX2
		}
		packContiguous(dst, a, lda, p0, kc, i0, mc, mr, kernel)
		return
	}
	// opA[i][p] = a[i*lda+p]: an mr x kc -> kc x mr transpose per panel.
	for ir := 0; ir < mc; ir += mr {
		packTransposed(dst[ir*kc:ir*kc+kc*mr], a, lda, i0+ir, min(mr, mc-ir), p0, kc, mr)
	}
}

// packTransposed writes rows row..row+rows of src, columns p0..p0+kc, as
// one (kc, w) micro-panel: d[p*w + i] = src[(row+i)*ld + p0 + p], rows past
// rows as zeros. A full panel (rows == w) runs the assembly transposes on
// groups of 8 columns: 8x8 blocks at destination stride w (two overlapping
// ones cover 12 rows), and the 6-row kernel for w = 6.
func packTransposed(d, src []float32, ld, row, rows, p0, kc, w int) {
	p := 0
	if rows == w && isa != Generic && kc >= 8 {
		p = kc &^ 7
		_ = src[(row+w-1)*ld+p0+kc-1] // all w source rows are in bounds
		s := src[row*ld+p0:]
		switch w {
		case 6:
			packA6AVX2(&d[0], &s[0], ld, p/8)
		default: // 12, 16, 32: 8-row blocks; 12 = rows 0-7 and 4-11
			for i := 0; i < w; i += 8 {
				i = min(i, w-8)
				transpose8AVX2(&d[i], &s[i*ld], ld, w, p/8)
			}
		}
	} else if rows < w {
		clear(d)
	}
	for i := 0; i < rows; i++ {
		r := src[(row+i)*ld+p0:][:kc]
		for q := p; q < kc; q++ {
			d[q*w+i] = r[q]
		}
	}
}

// packContiguous packs micro-panels of width w whose depth steps lie
// contiguous in the source (a transposed A, an untransposed B): columns
// c0..c0+n of stored rows p0..p0+kc go to dst[c*kc + p*w + j] (c a multiple
// of w), columns past n as zeros. The rows are read in groups of packRows,
// all micro-panels per group: walking one panel down all kc rows at a
// power-of-two stride would thrash a few L1 sets. kernel is the assembly
// copy of one rows x w block (packA6TAVX2, packB16AVX2).
func packContiguous(dst, src []float32, ld, p0, kc, c0, n, w int, kernel func(dst, src *float32, ld, rows int)) {
	full := n / w * w
	for pb := 0; pb < kc; pb += packRows {
		rows := min(packRows, kc-pb)
		for c := 0; c < full; c += w {
			d := dst[c*kc+pb*w : c*kc+(pb+rows)*w]
			s := src[(p0+pb)*ld+c0+c:]
			_ = s[(rows-1)*ld+w-1] // the rows x w block is in bounds
			if isa != Generic {
				kernel(&d[0], &s[0], ld, rows)
				continue
			}
			for p := range rows {
				copy(d[p*w:(p+1)*w], s[p*ld:p*ld+w])
			}
		}
	}
	if full < n {
		d := dst[full*kc : full*kc+kc*w]
		clear(d)
		for p := range kc {
			copy(d[p*w:p*w+n-full], src[(p0+p)*ld+c0+full:])
		}
	}
}

// packB copies opB[p0:p0+kc, j0:j0+nc] into dst as nc/nr micro-panels, each
// (kc, nr): dst[jr*kc + p*nr + j] = opB[p0+p][j0+jr+j]. Columns past nc are zero.
func packB(dst, b []float32, ldb int, transB bool, p0, kc, j0, nc int) {
	if !transB {
		// opB[p][j] = b[p*ldb+j]: each depth step is nr contiguous floats.
		kernel := packB16AVX2
		if nr == 32 {
			kernel = packB32AVX512
		}
		packContiguous(dst, b, ldb, p0, kc, j0, nc, nr, kernel)
		return
	}
	// opB[p][j] = b[j*ldb+p]: an nr x kc -> kc x nr transpose per panel.
	for jr := 0; jr < nc; jr += nr {
		packTransposed(dst[jr*kc:jr*kc+kc*nr], b, ldb, j0+jr, min(nr, nc-jr), p0, kc, nr)
	}
}

// small runs a plain i-p-j loop for products too small to pack.
func (g *gemm) small() {
	m, n, k := g.m, g.n, g.k
	for i := 0; i < m; i++ {
		crow := g.c[i*g.ldc : i*g.ldc+n]
		var acc [8]float32 // eight columns of the row at a time
		for j0 := 0; j0 < n; j0 += len(acc) {
			nn := min(len(acc), n-j0)
			t := acc[:nn]
			clear(t)
			for p := 0; p < k; p++ {
				av := g.at(i, p)
				for j := range t {
					t[j] += av * g.bt(p, j0+j)
				}
			}
			for j, v := range t {
				if g.beta == 0 {
					crow[j0+j] = g.alpha * v
				} else {
					crow[j0+j] = g.alpha*v + g.beta*crow[j0+j]
				}
			}
		}
	}
}

// at returns opA[i][p].
func (g *gemm) at(i, p int) float32 {
	if g.transA {
		return g.a[p*g.lda+i]
	}
	return g.a[i*g.lda+p]
}

// bt returns opB[p][j].
func (g *gemm) bt(p, j int) float32 {
	if g.transB {
		return g.b[j*g.ldb+p]
	}
	return g.b[p*g.ldb+j]
}

// Kinds of single-row / single-column products that skip packing and run
// on Dot and Axpy because the operand they stream is contiguous.
const (
	notGemv     = iota
	gemvRowAxpy // m == 1, B not transposed: c = beta*c + sum_p alpha*a[p]*B[p,:]
	gemvRowDot  // m == 1, B transposed, A's row contiguous: c[j] = alpha*a.B[j,:] + beta*c[j]
	gemvColDot  // n == 1, A not transposed, b contiguous: c[i] = alpha*A[i,:].b + beta*c[i]
	fewRowsDot  // m <= fewRows, A not transposed, B transposed: c[i][j] = alpha*A[i,:].B[j,:] + beta*c[i][j]

	linearBF16Rows // LinearBF16's row kernels: c[i][j] = xb[i,:].wb[j,:] (g.bf16Rows), never chosen by gemvKind
)

// fewRows is the most rows of C the fewRowsDot path takes: up to it,
// reading each row of B once (rowsDot) costs less than packing it. Measured
// on 2 cores with BenchmarkSgemmFewRows, unpacked vs packed GFLOP/s:
// n=1024 k=512: m=4 125 vs 70, m=8 156 vs 97, m=12 146 vs 135, m=16 159 vs
// 128; n=384 k=192 (a projection of the ladder's "m" RetNet): m=8 97 vs 97,
// m=12 108 vs 122. A batch-8 decode step stays on this path.
const fewRows = 8

// gemvKind says whether (and how) the product is a matrix-vector one.
func (g *gemm) gemvKind() int {
	switch {
	case g.m == 1 && !g.transB:
		return gemvRowAxpy
	case g.m == 1 && (!g.transA || g.lda == 1):
		return gemvRowDot
	case g.n == 1 && !g.transA && (g.transB || g.ldb == 1):
		return gemvColDot
	case !g.transA && g.transB && g.m <= fewRows:
		return fewRowsDot
	}
	return notGemv
}

// rowsDot computes columns [lo, hi) of C = alpha*A B^T + beta*C for the
// fewRowsDot kind: rows of A and of B are contiguous. With
// the assembly kernels, blocks of four rows of B are dotted with two rows of
// A at a time (dotRows4AVX2: each loaded vector of B serves both rows, and
// one call replaces eight Dot calls); a ragged k and the last n%4 columns
// fall back to Dot.
func (g *gemm) rowsDot(lo, hi int) {
	m, k := g.m, g.k
	k8 := k &^ 7
	j := lo
	if isa != Generic && k8 > 0 {
		dotRows4 := dotRows4AVX2
		if isa == AVX512 {
			dotRows4 = dotRows4AVX512
		}
		var out [8]float32
		for ; j+4 <= hi; j += 4 {
			_ = g.b[(j+3)*g.ldb+k-1] // the four rows of B are in bounds
			for i := 0; i < m; i += 2 {
				rows := min(2, m-i)
				_ = g.a[(i+rows-1)*g.lda+k-1] // the rows of A are in bounds
				dotRows4(&g.a[i*g.lda], g.lda, rows, &g.b[j*g.ldb], g.ldb, k8/8, &out[0])
				for r := 0; r < rows; r++ {
					arow := g.a[(i+r)*g.lda : (i+r)*g.lda+k]
					for q := 0; q < 4; q++ {
						s := out[r*4+q]
						if k8 < k {
							s += Dot(arow[k8:], g.b[(j+q)*g.ldb+k8:(j+q)*g.ldb+k])
						}
						g.store(i+r, j+q, s)
					}
				}
			}
		}
	}
	for ; j < hi; j++ {
		w := g.b[j*g.ldb : j*g.ldb+k]
		for i := 0; i < m; i++ {
			g.store(i, j, Dot(g.a[i*g.lda:i*g.lda+k], w))
		}
	}
}

// store sets C[i][j] = alpha*s + beta*C[i][j] (beta == 0: C is not read).
func (g *gemm) store(i, j int, s float32) {
	s *= g.alpha
	if g.beta != 0 {
		s += g.beta * g.c[i*g.ldc+j]
	}
	g.c[i*g.ldc+j] = s
}

// gemvChunk is how many columns of C gemvRowAxpy updates per sweep over A, so
// that the slice of C stays in L1.
const gemvChunk = 2048

// gemvRange computes outputs [lo, hi) of a matrix-vector product: columns of
// C's single row, or rows of C's single column (gemvColDot).
func (g *gemm) gemvRange(kind, lo, hi int) {
	switch kind {
	case gemvRowAxpy:
		for j0 := lo; j0 < hi; j0 += gemvChunk {
			j1 := min(hi, j0+gemvChunk)
			crow := g.c[j0:j1]
			scaleMatrix(1, j1-j0, g.beta, crow, 0)
			for p := 0; p < g.k; p++ {
				Axpy(g.alpha*g.at(0, p), g.b[p*g.ldb+j0:p*g.ldb+j1], crow)
			}
		}
	case gemvRowDot:
		// One row of A against the rows of B, one Dot each: as fast as
		// dotRows4AVX2 here (BenchmarkDecodeStep B=1; a blocked single row
		// measured 4% slower), since the product is bound by reading B.
		arow := g.a[:g.k]
		for j := lo; j < hi; j++ {
			s := g.alpha * Dot(arow, g.b[j*g.ldb:j*g.ldb+g.k])
			if g.beta != 0 {
				s += g.beta * g.c[j]
			}
			g.c[j] = s
		}
	case fewRowsDot:
		// A few rows of A (e.g. one decoded token per sequence) against
		// the rows of B (a weight W, x W^T): each row of W is read once and
		// dotted with every row of A, which stays in L1; packing W would
		// cost as much as the product.
		g.rowsDot(lo, hi)
	case linearBF16Rows:
		g.bf16Rows(lo, hi)
	case gemvColDot:
		bcol := g.b[:g.k]
		for i := lo; i < hi; i++ {
			s := g.alpha * Dot(g.a[i*g.lda:i*g.lda+g.k], bcol)
			if g.beta != 0 {
				s += g.beta * g.c[i*g.ldc]
			}
			g.c[i*g.ldc] = s
		}
	}
}
