// Browser checks for package viz, driven from Go tests (viz/browser_test.go).
// Opens pages in Debian's headless Chromium through playwright-core (which
// never downloads a browser) with every request outside the allowed origin
// refused, waits until each chart reports it is drawn, and saves a
// screenshot of it for the Go side to check pixels.
//
// Usage: node check.cjs JOB.json
// JOB.json: {"nodeModules": dir, "chromium": path, "out": dir,
//   "pages": [{"name": n, "url": "file:///...", "charts": k}],            // standalone pages
//   "notebooks": [{"name": n, "ui": "lab"|"classic", "url": u, "origin": o}]}
// Writes out/result.json: {"pages": {name: {...}}, "notebooks": {name: {...}}}.
'use strict';
const fs = require('fs');
const path = require('path');

const job = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { chromium } = require(path.join(job.nodeModules, 'playwright-core'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// guard refuses every request that is not a file: URL or on origin, and
// records what it refused.
async function guard(context, origin, refused) {
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file:') || u.startsWith('data:') || u.startsWith('blob:') || (origin && u.startsWith(origin))) {
      return route.continue();
    }
    refused.push(u);
    return route.abort();
  });
}

// drawn lists the charts on the page: element id, whether an ECharts
// instance draws it, its update count and size.
async function drawn(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('.retlab-chart')).map((el) => {
    const inst = window.echarts && window.echarts.getInstanceByDom(el);
    const r = el.getBoundingClientRect();
    // Text that sticks out of the chart's box is clipped in exports.
    const clipped = Array.from(el.querySelectorAll('svg text')).filter((t) => {
      const b = t.getBoundingClientRect();
      return b.width > 0 && (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1);
    }).map((t) => t.textContent);
    return { id: el.id, drawn: el.getAttribute('data-retlab-drawn'), instance: !!inst, clipped,
      svg: el.querySelectorAll('svg path, svg text, svg rect').length, canvas: el.querySelectorAll('canvas').length,
      width: Math.round(r.width), height: Math.round(r.height) };
  }));
}

async function waitCharts(page, want, timeoutMs) {
  const t0 = Date.now();
  let d = [];
  while (Date.now() - t0 < timeoutMs) {
    d = await drawn(page);
    if (d.filter((c) => c.drawn !== null && c.instance).length >= want) return d;
    await sleep(200);
  }
  return d;
}

async function shootCharts(page, out, prefix) {
  const els = await page.$$('.retlab-chart');
  const shots = [];
  for (let i = 0; i < els.length; i++) {
    await els[i].scrollIntoViewIfNeeded();
    const p = path.join(out, `${prefix}-${i}.png`);
    await els[i].screenshot({ path: p });
    shots.push(p);
  }
  return shots;
}

async function checkPage(browser, pg) {
  const refused = [];
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
  await guard(context, '', refused);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(pg.url);
  const charts = await waitCharts(page, pg.charts || 1, 20000);
  let live = null;
  if (pg.live) {
    // Replace the output the way a notebook front end does on
    // update_display_data: remove the old HTML, insert the new, run its scripts.
    live = await page.evaluate(async (html) => {
      const box = document.getElementById('output');
      const before = window.__retlabCharts && Object.values(window.__retlabCharts).flat()[0];
      box.innerHTML = '';
      const tmp = document.createElement('div');
      tmp.innerHTML = html;
      for (const s of Array.from(tmp.querySelectorAll('script'))) {
        const n = document.createElement('script');
        n.text = s.text;
        s.replaceWith(n);
      }
      box.appendChild(tmp);
      await new Promise((r) => setTimeout(r, 1500));
      const el = box.querySelector('.retlab-chart');
      const after = window.echarts.getInstanceByDom(el);
      return { sameInstance: before === after, updates: after ? after.__retlabUpdates : -1,
        series: after ? after.getOption().series[0].data.length : -1 };
    }, fs.readFileSync(pg.live, 'utf8'));
  }
  const shots = await shootCharts(page, job.out, pg.name);
  await context.close();
  return { charts, refused, errors, shots, live };
}

async function checkNotebook(browser, nb) {
  const refused = [];
  const errors = [];
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await guard(context, nb.origin, refused);
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(nb.url);
  const res = { refused, errors };
  if (nb.ui === 'classic') {
    await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
      Jupyter.notebook.kernel.is_connected(), null, { timeout: 60000 });
    res.stored = await waitCharts(page, nb.stored, 20000);
    for (let run = 0; run < 2; run++) { // run all, then re-run all
      await page.evaluate(() => Jupyter.notebook.execute_all_cells());
      await page.waitForFunction(() => Jupyter.notebook.get_cells().every((c) => c.cell_type !== 'code' ||
        (c.input_prompt_number !== '*' && c.input_prompt_number !== null && c.input_prompt_number !== undefined)), null, { timeout: 60000 });
      await sleep(2500);
    }
  } else {
    await page.waitForSelector('.jp-Notebook', { timeout: 60000 });
    await page.waitForFunction(() => {
      const s = document.querySelector('.jp-Notebook-ExecutionIndicator, .jp-Toolbar-kernelStatus');
      return !s || !/busy|connecting|starting|unknown/i.test(s.getAttribute('data-status') || s.textContent || '');
    }, null, { timeout: 60000 });
    await sleep(3000);
    res.stored = await waitCharts(page, nb.stored, 20000);
    for (let run = 0; run < 2; run++) {
      await page.click('.jp-Notebook');
      await page.getByRole('menuitem', { name: 'Run', exact: true }).click();
      await page.getByRole('menuitem', { name: /^Run All Cells/ }).click();
      await page.waitForFunction(() => {
        const ps = Array.from(document.querySelectorAll('.jp-InputArea-prompt'));
        return ps.length > 0 && ps.every((p) => !p.textContent.includes('*'));
      }, null, { timeout: 60000 });
      await sleep(2500);
    }
  }
  res.executed = await waitCharts(page, nb.executed, 20000);
  res.shots = await shootCharts(page, job.out, nb.name);
  await context.close();
  return res;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: job.chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const result = { pages: {}, notebooks: {} };
  try {
    for (const pg of job.pages || []) result.pages[pg.name] = await checkPage(browser, pg);
    for (const nb of job.notebooks || []) {
      try {
        result.notebooks[nb.name] = await checkNotebook(browser, nb);
      } catch (e) {
        result.notebooks[nb.name] = { failed: String((e && e.stack) || e) };
      }
    }
  } finally {
    await browser.close();
  }
  fs.writeFileSync(path.join(job.out, 'result.json'), JSON.stringify(result, null, 1));
})().catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
