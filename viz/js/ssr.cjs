// ECharts server-side rendering worker for package viz (RetLab).
// Usage: node ssr.cjs /path/to/echarts.min.js
// Reads one JSON request a line, {"option": {...}, "width": W, "height": H},
// and answers each with one JSON line, {"svg": "<svg ...>"} or {"error": "..."}.
// The option is drawn exactly as in a browser, with animation off and a
// white background unless the option sets one.
'use strict';
const echarts = require(process.argv[2]);
const readline = require('readline');

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let out;
  try {
    const req = JSON.parse(line);
    const option = req.option || {};
    option.animation = false;
    if (option.backgroundColor === undefined) option.backgroundColor = '#ffffff';
    const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: req.width, height: req.height });
    chart.setOption(option);
    out = { svg: chart.renderToSVGString() };
    chart.dispose();
  } catch (e) {
    out = { error: String((e && e.stack) || e) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
rl.on('close', () => process.exit(0));
