// Package viz draws RetLab's research charts: decay matrices and profiles,
// retention score matrices, perplexity against model size (with the paper's
// numbers), inference cost, training curves (static and live), form
// agreement, and Lines for any other measured series. Charts are built with go-echarts (github.com/go-echarts/go-echarts/v2)
// and rendered by Apache ECharts 5.4.3, offline.
//
// # Data in, figure out
//
// Every chart is one function from data (RetLab's result records from
// package retnet, or decays) and an options struct to a *Figure:
//
//	fig := viz.DecayMatrices(retnet.Gammas(retnet.ScheduleTorchscale, 4), 32,
//		viz.DecayOptions{Normalized: true, LogScale: true})
//	fig.SaveHTML("decay.html")
//
// A Figure holds the ECharts option as plain JSON data (Figure.Option), so a
// caller can adjust anything ECharts supports before rendering, and its size
// in pixels. Options common to all charts (title, subtitle, size, colours,
// animation) live in Style, embedded in each chart's options.
//
// # Rendering
//
//   - Notebooks: Figure.MIMEBundle returns text/html, text/plain and, when
//     Node.js can render it, image/svg+xml. The HTML inlines the ECharts
//     library (about 1 MB) so a saved notebook renders with no network; it
//     loads the library once per page, hides require.js's define while doing so
//     (classic Notebook), waits for the library and for its element (JupyterLab
//     renders cells lazily), and wraps everything in functions, so a cell can be
//     re-run and the same figure shown twice.
//   - Live charts: LiveTraining re-renders a bundle with the same display id;
//     the new HTML adopts the ECharts instance of the output it replaces and
//     calls setOption on it, so the chart updates in place.
//   - Files: SaveHTML writes a self-contained page. SaveSVG, SavePNG and
//     SavePDF (and Export for many at once) draw the SVG with ECharts'
//     server-side renderer in Node.js, then let headless Chromium rasterise
//     (PNG) or print (vector PDF) that same SVG, so the three formats show one
//     drawing. See Export for why.
//
// # What is used of go-echarts, and what is not
//
// go-echarts builds each option (charts.NewHeatMap, NewLine, grids, axes,
// series, visual maps); Figure takes it from the chart's JSON method as
// plain data. Its templates and RenderSnippet are not used: their script
// declares a top-level `let goecharts_<id>` (a second display of a chart
// throws "already declared"), loads ECharts from a CDN (blank offline) and
// only knows one title a chart; Validate overwrites x-axis 0's data and
// WithProgressive is broken, so neither is called. Several titles come from
// a ConfigurationVisitor; settings go-echarts has no field for (logBase,
// containLabel, visualMap's seriesIndex) are set on the option map.
//
// # The JavaScript it needs
//
// ECharts is a pinned npm dependency of the repository (package.json,
// package-lock.json), installed into node_modules by `make setup` and never
// committed. EChartsPath says where it is found at run time: $RETLAB_ECHARTS,
// the Jupyter kernelspec directory, the directory of the running program, or a
// node_modules above the working directory. Exports also need `node`,
// playwright-core (from the same node_modules, or $RETLAB_NODE_MODULES) and
// Chromium ($RETLAB_CHROMIUM or /usr/bin/chromium). A missing piece gives an
// error that says how to install it.
package viz
