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
// JOB.json: {"nodeModules", "chromium", "out", "url", "origin", "timeoutMs"}
// Writes out/result.json.
'use strict';
const fs = require('fs');
const path = require('path');

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(path.join(job.nodeModules, 'playwright-core'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// images lists the notebook's image outputs (SVG/PNG renderers).
async function images(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('.jp-OutputArea-output img, .jp-RenderedSVG svg, .jp-RenderedSVG img')).map((el) => {
    const r = el.getBoundingClientRect();
    return { tag: el.tagName.toLowerCase(), loaded: el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0),
      width: Math.round(r.width), height: Math.round(r.height) };
  }));
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

async function shoot(page, selector, prefix) {
  const els = await page.$$(selector);
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
    await renderAll(page);
    res.stored = await images(page);
    res.storedShots = await shoot(page, '.jp-OutputArea-output img, .jp-RenderedSVG', 'stored');

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
