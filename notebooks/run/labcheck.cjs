// JupyterLab check for the committed notebooks (driven by notebooks_test.go).
// Same machinery as viz's browser tests (viz/browsertest/check.cjs):
// playwright-core drives Debian's headless Chromium (it never downloads a
// browser) with every request outside the Jupyter server refused.
//
// It opens one notebook in JupyterLab and checks, in order:
//   1. stored: the committed chart outputs (SVG or PNG images) render as
//      images with pixels, before anything runs (the notebook is untrusted,
//      as any notebook from git is);
//   2. executed: after Run All Cells with the RetLab kernel, the live charts
//      (ECharts, from the kernel's text/html) are drawn.
// Screenshots of every chart go to out/ for the Go side to check pixels.
//
// Usage: node labcheck.cjs JOB.json
// JOB.json: {"nodeModules", "chromium", "out", "url", "origin", "timeoutMs",
//            "storedCharts" (how many stored chart images the notebook holds)}
// Writes out/result.json.
'use strict';
const fs = require('fs');
const path = require('path');

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(path.join(job.nodeModules, 'playwright-core'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// cellImages lists the image outputs (SVG/PNG renderers) of cell k.
async function cellImages(page, k) {
  return page.evaluate((k) => {
    const cell = document.querySelectorAll('.jp-Cell')[k];
    if (!cell) return [];
    return Array.from(cell.querySelectorAll('.jp-OutputArea-output img, .jp-RenderedSVG svg, .jp-RenderedSVG img')).map((el) => {
      const r = el.getBoundingClientRect();
      return { cell: k, tag: el.tagName.toLowerCase(), loaded: el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0),
        width: Math.round(r.width), height: Math.round(r.height) };
    });
  }, k);
}

// storedImages visits every cell in turn and records its image outputs while
// the cell is on screen. JupyterLab windows the notebook (cells far from
// the viewport skip rendering or are detached) and, on a busy machine, may
// still be attaching a large notebook's outputs after the kernel reports
// idle; an image also needs more than a moment to decode. So each cell with
// images is given up to 10 s for all of them to load, and the sweep is
// repeated (up to 90 s in all) until job.storedCharts images have loaded.
async function storedImages(page) {
  const deadline = Date.now() + 90000;
  const ok = (i) => i.loaded && i.width >= 100 && i.height >= 100;
  let stored = [];
  let shots = [];
  do {
    stored = [];
    shots = [];
    const n = await page.evaluate(() => document.querySelectorAll('.jp-Cell').length);
    for (let k = 0; k < n; k++) {
      await page.evaluate((k) => { const c = document.querySelectorAll('.jp-Cell')[k]; if (c) c.scrollIntoView(); }, k);
      let imgs = await cellImages(page, k);
      const t0 = Date.now();
      while (imgs.length > 0 && !imgs.every(ok) && Date.now() - t0 < 10000) {
        await sleep(200);
        imgs = await cellImages(page, k);
      }
      stored.push(...imgs);
      if (imgs.length > 0) {
        const cell = (await page.$$('.jp-Cell'))[k];
        shots.push(...await shoot(cell, '.jp-OutputArea-output img, .jp-RenderedSVG', `stored-${k}`));
      }
    }
    if (stored.filter(ok).length >= (job.storedCharts || 0)) break;
    await sleep(1000);
  } while (Date.now() < deadline);
  return { stored, shots };
}

// charts lists the live ECharts charts (viz's .retlab-chart elements).
async function charts(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('.retlab-chart')).map((el) => {
    const r = el.getBoundingClientRect();
    return { id: el.id, drawn: el.getAttribute('data-retlab-drawn'),
      instance: !!(window.echarts && window.echarts.getInstanceByDom(el)),
      marks: el.querySelectorAll('svg path, svg text, svg rect').length + el.querySelectorAll('canvas').length,
      width: Math.round(r.width), height: Math.round(r.height) };
  }));
}

// renderAll scrolls through the notebook: JupyterLab renders cells lazily
// (windowed notebook), so outputs far below are attached only when seen.
async function renderAll(page) {
  const n = await page.evaluate(() => document.querySelectorAll('.jp-Cell').length);
  for (let i = 0; i < n; i++) {
    await page.evaluate((k) => { const c = document.querySelectorAll('.jp-Cell')[k]; if (c) c.scrollIntoView(); }, i);
    await sleep(60);
  }
}

// shoot screenshots the elements matching selector inside root (a page or
// an element handle).
async function shoot(root, selector, prefix) {
  const els = await root.$$(selector);
  const shots = [];
  for (let i = 0; i < els.length; i++) {
    // Elements JupyterLab keeps hidden (an output replaced in place, a cell
    // outside its window) cannot be shown: skip them; the counts above say
    // what rendered.
    try {
      await els[i].scrollIntoViewIfNeeded({ timeout: 5000 });
      const box = await els[i].boundingBox();
      if (!box || box.width < 20 || box.height < 20) continue;
      const p = path.join(job.out, `${prefix}-${i}.png`);
      await els[i].screenshot({ path: p, timeout: 10000 });
      shots.push(p);
    } catch (e) {
      continue;
    }
  }
  return shots;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: job.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const res = { refused: [], errors: [] };
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    await context.route('**/*', (route) => {
      const u = route.request().url();
      if (u.startsWith(job.origin) || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
      res.refused.push(u);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => res.errors.push(String(e)));
    await page.goto(job.url);
    await page.waitForSelector('.jp-Notebook .jp-Cell', { timeout: 90000 });
    await page.waitForFunction(() => {
      const s = document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-Toolbar-kernelStatus');
      return s && /idle/i.test(s.getAttribute('data-status') || s.textContent || '');
    }, null, { timeout: 90000 });
    await sleep(1500);
    ({ stored: res.stored, shots: res.storedShots } = await storedImages(page));

    const t0 = Date.now();
    await page.click('.jp-Notebook');
    await page.getByRole('menuitem', { name: 'Run', exact: true }).click();
    await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
    await sleep(2000);
    await page.waitForFunction(() => {
      const ps = Array.from(document.querySelectorAll('.jp-InputArea-prompt'));
      const s = document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-Toolbar-kernelStatus');
      return ps.length > 0 && ps.every((p) => !p.textContent.includes('*')) &&
        (!s || /idle/i.test(s.getAttribute('data-status') || s.textContent || ''));
    }, null, { timeout: job.timeoutMs || 240000, polling: 500 });
    res.runSeconds = (Date.now() - t0) / 1000;
    await renderAll(page);
    // Charts draw once the library and their element exist: give them time.
    const t1 = Date.now();
    do {
      res.executed = await charts(page);
      if (res.executed.length > 0 && res.executed.every((c) => c.drawn !== null && c.instance)) break;
      await sleep(300);
    } while (Date.now() - t1 < 30000);
    res.errorOutputs = await page.evaluate(() => document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"] .jp-RenderedText, .jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]').length);
    res.executedShots = await shoot(page, '.retlab-chart', 'executed');
    await context.close();
  } catch (e) {
    res.failed = String((e && e.stack) || e);
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(job.out, 'result.json'), JSON.stringify(res, null, 1));
})().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
