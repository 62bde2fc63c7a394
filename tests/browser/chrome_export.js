'use strict';
/*
 * chrome_export.js - browser.chrome_export: `ctrace export --format chrome`
 * (docs/EXPORT.md) opened in the viewers a person would open it in, in
 * headless Chromium:
 *   1. the trace viewer `go tool trace` serves (catapult's
 *      trace_viewer_full.html): its own /trace page, whose script fetches
 *      /jsontrace and imports it (tr.importer.Import); the test answers
 *      that request with the export, so the JSON goes through the very
 *      import path go tool trace's own JSON does;
 *   2. speedscope (npm package speedscope, its built files served from
 *      node_modules on 127.0.0.1), opened with #profileURL= pointing at the
 *      export.
 *
 *   node chrome_export.js WORKDIR CTRACE_TOOL EXAMPLES_DIR
 *   env: GO123 (tests/go_toolchain.sh)
 *
 * Invariants:
 *   - The export is of two traces at once (annotations and threadpool, so
 *     two processes on one timeline): both viewers must load it without an
 *     uncaught exception, console error, failed request or import warning.
 *   - What the programs did is what the viewers show: the trace viewer's
 *     model has both processes, the named threads (ctrace_thread_name), the
 *     regions as slices on them, the tasks as async slices and the thread
 *     states; its track view draws the named threads.  speedscope lists one
 *     profile per thread, the named threads among them, and the regions as
 *     frames of their thread's profile (its sandwich view's table).
 *   - Screenshots: WORKDIR/screenshots/.
 */
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const [workDir, ctraceTool, examplesDir] = process.argv.slice(2);
if (!workDir || !ctraceTool || !examplesDir) {
  console.error('usage: node chrome_export.js WORKDIR CTRACE_TOOL EXAMPLES_DIR');
  process.exit(2);
}
const shots = path.join(workDir, 'screenshots');

// What the two examples do (examples/annotations.c, examples/threadpool.c).
const PROCESSES = ['annotations.trace', 'threadpool.trace'];
const THREADS = ['main-loop', 'db-worker', 'main', 'worker-1', 'worker-2', 'worker-3', 'worker-4'];
// The threads with regions, and their regions.
const REGIONS = { 'db-worker': ['query'], 'main-loop': ['handle', 'parse', 'respond'],
  'worker-1': ['compute', 'publish'], 'worker-4': ['compute', 'publish'] };
const TASKS = ['request', 'db-query', 'job'];
const STATES = ['running', 'runnable'];
// A thread's track is named by its label, "NAME (tid N)" (docs/FORMAT.md),
// its state track the same plus " state".
const esc = (x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const labelRe = (t, suffix = '') => new RegExp(`^${esc(t)} \\(tid \\d+\\)${esc(suffix)}$`);

function makeExport() {
  const dir = path.join(workDir, 'traces');
  fs.mkdirSync(dir, { recursive: true });
  const traces = PROCESSES.map((file) => {
    const out = path.join(dir, file);
    fs.rmSync(out, { force: true });
    lib.run(path.join(examplesDir, file.replace(/\.trace$/, '')), [out]);
    return out;
  });
  const json = path.join(dir, 'export.json');
  lib.run(ctraceTool, ['export', '--format', 'chrome', '-o', json, ...traces]);
  return { traces, json };
}

// Problems a page showed (errors, failed requests), as check messages.
function pageProblems(w) {
  return [...w.errors, ...w.failed, ...w.offline.map((u) => `outside request ${u}`)];
}

// The export in go tool trace's own trace viewer: problems, as strings.
async function inTraceViewer(context, exp) {
  const problems = [];
  const need = (cond, what) => { if (!cond) problems.push(what); return cond; };
  // go tool trace serves the viewer; which trace it was started on does not
  // matter, as its /jsontrace answer is replaced by the export.
  const server = await lib.startGoTrace(process.env.GO123, exp.traces[0]);
  const page = await context.newPage();
  const w = lib.watch(page);
  let replaced = 0;
  await page.route('**/jsontrace*', (route) => {
    replaced++;
    return route.fulfill({ status: 200, contentType: 'application/json', body: fs.readFileSync(exp.json) });
  });
  try {
    await page.goto(`${server.url}/trace?view=proc`);
    const v = await lib.waitForTraceViewer(page);
    need(replaced === 1, `the page fetched /jsontrace ${replaced} times, expected once`);
    if (!need(!v.error, v.error)) return problems;
    const warnings = await page.evaluate(() => document.getElementById('trace-viewer').model.importWarnings
      .map((x) => `${x.type}: ${x.message}`));
    need(warnings.length === 0, `import warnings: ${warnings.join('; ')}`);
    const pnames = v.processes.map((p) => p.name);
    for (const p of PROCESSES) need(pnames.includes(p), `no process ${p} (has ${pnames.join(', ')})`);
    // catapult leaves out threads without slices: the named threads are
    // those with regions; every thread has its state track.
    const find = (t, suffix) => v.threads.find((x) => labelRe(t, suffix).test(x.name));
    for (const t of THREADS) {
      const state = find(t, ' state');
      if (need(state, `no state thread "${t} (tid N) state"`)) {
        for (const s of STATES) need(state.slices.includes(s), `"${state.name}" has no ${s} slice`);
        need(v.tracks.includes(state.name), `no track drawn for "${state.name}"`);
      }
    }
    for (const [t, regions] of Object.entries(REGIONS)) {
      const th = find(t, '');
      if (!need(th, `no thread "${t} (tid N)"`)) continue;
      for (const r of regions) need(th.slices.includes(r), `thread ${th.name} has no region slice ${r}`);
      need(v.tracks.includes(th.name), `no track drawn for thread ${th.name}`);
    }
    const asyncTitles = new Set(v.threads.flatMap((t) => t.asyncSlices));
    for (const t of TASKS) need(asyncTitles.has(t), `no task (async slice) ${t}`);
    lib.note(`trace viewer: ${v.processes.length} processes, ${v.threads.length} threads, tracks drawn: ${v.tracks.join(', ').slice(0, 300)}`);
    await page.waitForLoadState('networkidle').catch(() => {});
    lib.note(`trace viewer: screenshot ${await lib.screenshot(page, shots, 'trace_viewer')}`);
    problems.push(...pageProblems(w));
  } finally {
    await page.close();
    server.stop();
  }
  return problems;
}

// The profile list speedscope shows when its title "NAME (i/N)" is
// clicked: a table of rows "i<TAB>NAME<TAB>weight".
async function openProfileList(page) {
  await page.getByText(/\(\d+\s*\/\s*\d+\)/).first().click();
  await page.waitForTimeout(500);
  const text = await page.evaluate(() => document.body.innerText);
  return [...text.matchAll(/^\d+\t(.+)\t/gm)].map((m) => m[1]);
}

// The export in speedscope: problems, as strings.
async function inSpeedscope(context, exp) {
  const problems = [];
  const need = (cond, what) => { if (!cond) problems.push(what); return cond; };
  const release = path.join(path.dirname(require.resolve('speedscope/package.json')), 'dist', 'release');
  const files = await lib.serveFiles({ '/speedscope/': release, '/export.json': exp.json });
  const page = await context.newPage();
  const w = lib.watch(page);
  // speedscope's importer says on the console what it could not make sense
  // of: an end it ignored ("Doing nothing instead"), a frame left open at
  // the end.  (An end whose args differ from its begin's -- "Ending X
  // instead" -- still ends the slice: not a problem.)
  const importer = [];
  page.on('console', (m) => {
    if (m.type() === 'warning' && /Doing nothing instead|still open at end of profile/.test(m.text())) importer.push(m.text());
  });
  try {
    const profileURL = encodeURIComponent(`${files.url}/export.json`);
    await page.goto(`${files.url}/speedscope/index.html#profileURL=${profileURL}`);
    // Loaded: the title names the profile shown, "NAME (1/N)".
    await page.waitForFunction(() => /\(\d+\s*\/\s*\d+\)/.test(document.body.innerText), null,
      { timeout: lib.PAGE_TIMEOUT_MS, polling: 500 });
    await page.waitForTimeout(1000); // a frame for the flame graph to draw (not a speed check)
    lib.note(`speedscope: screenshot ${await lib.screenshot(page, shots, 'speedscope_time_order')}`);
    need(importer.length === 0, `speedscope's importer: ${importer.length} slices it could not end, e.g. ` +
      `"${(importer[0] || '').slice(0, 200)}" (it ends a B only with an E of the same name)`);
    const names = await openProfileList(page);
    lib.note(`speedscope: ${names.length} profiles: ${names.join(', ').slice(0, 400)}`);
    lib.note(`speedscope: screenshot ${await lib.screenshot(page, shots, 'speedscope_profiles')}`);
    // speedscope names a profile "PROCESS, TRACK (tid X)".
    const profileRe = (t, suffix) => new RegExp(`, ${esc(t)} \\(tid \\d+\\)${esc(suffix)} \\(tid`);
    for (const t of THREADS) need(names.some((n) => profileRe(t, ' state').test(n)), `no profile for "${t} (tid N) state"`);
    for (const t of Object.keys(REGIONS)) need(names.some((n) => profileRe(t, '').test(n)), `no profile for thread ${t}`);
    // Regions are frames of their thread's profile: db-worker's sandwich
    // view (a table of its frames) lists its region.
    const dbWorker = names.find((n) => n.includes(', db-worker (tid'));
    if (dbWorker) {
      await page.getByText(dbWorker, { exact: true }).first().click();
      await page.getByText('Sandwich', { exact: false }).first().click();
      await page.waitForTimeout(1000);
      // (innerText breaks a row's cells as "\n\t")
      const table = (await page.evaluate(() => document.body.innerText)).replace(/\n\t/g, '\t');
      // A row: "TOTAL (PCT)<TAB>SELF (PCT)<TAB>NAME {args}"; the region
      // took time, so its total is not zero.
      for (const r of REGIONS['db-worker']) {
        const row = table.split('\n').find((l) => new RegExp(`\\t${r}( |$)`).test(l));
        if (!need(row, `db-worker's sandwich table has no frame ${r}`)) continue;
        need(!/^\s*0\.00ns|NaN/.test(row), `db-worker's frame ${r} shows no time: "${row.replace(/\t/g, ' | ')}"`);
      }
      lib.note(`speedscope: screenshot ${await lib.screenshot(page, shots, 'speedscope_sandwich_db_worker')}`);
    }
    problems.push(...pageProblems(w));
  } finally {
    await page.close();
    files.close();
  }
  return problems;
}

(async () => {
  const exp = makeExport();
  const browser = await lib.launch();
  try {
    lib.judge('trace_viewer', 'chrome export in the trace viewer', await inTraceViewer(browser.context, exp));
    lib.judge('speedscope', 'chrome export in speedscope', await inSpeedscope(browser.context, exp));
  } finally {
    await browser.close();
  }
  lib.finish();
})().catch(lib.failHard);
