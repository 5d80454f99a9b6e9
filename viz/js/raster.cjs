// Rasterise (PNG) and print (PDF) SVG figures in headless Chromium, for
// package viz (RetLab). One browser serves the whole batch.
// Usage: node raster.cjs NODE_MODULES CHROMIUM JOBS.json
// JOBS.json: [{"svg": path, "png": path or "", "pdf": path or "",
//              "width": W, "height": H, "scale": S}]
// playwright-core only drives the given executable; it never downloads a browser.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(path.join(process.argv[2], 'playwright-core'));

const executablePath = process.argv[3];
const jobs = JSON.parse(fs.readFileSync(process.argv[4], 'utf8'));

function page(svg, w, h) {
  return '<!DOCTYPE html><html><head><meta charset="utf-8"><style>' +
    `@page { size: ${w}px ${h}px; margin: 0; } ` +
    'html, body { margin: 0; padding: 0; background: #fff; overflow: hidden; } svg { display: block; }' +
    '</style></head><body>' + svg + '</body></html>';
}

(async () => {
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars'],
  });
  try {
    const contexts = new Map();
    for (const j of jobs) {
      const scale = j.scale || 1;
      if (!contexts.has(scale)) {
        contexts.set(scale, await browser.newContext({ deviceScaleFactor: scale, offline: true, viewport: { width: j.width, height: j.height } }));
      }
      const p = await contexts.get(scale).newPage();
      await p.setViewportSize({ width: j.width, height: j.height });
      await p.setContent(page(fs.readFileSync(j.svg, 'utf8'), j.width, j.height), { waitUntil: 'load' });
      if (j.png) await p.screenshot({ path: j.png, clip: { x: 0, y: 0, width: j.width, height: j.height } });
      if (j.pdf) {
        await p.pdf({ path: j.pdf, width: `${j.width}px`, height: `${j.height}px`, printBackground: true, pageRanges: '1' });
      }
      await p.close();
    }
  } finally {
    await browser.close();
  }
})().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
