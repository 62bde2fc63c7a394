'use strict';
/*
 * lib.js - what the browser tests share: Debian's Chromium driven by
 * playwright-core, `go tool trace` as a server, a static file server, and
 * the bookkeeping of checks.
 *
 * Invariants:
 *   - The browser is /usr/bin/chromium (CTRACE_CHROMIUM overrides it), never
 *     one that a tool downloads; it starts with a fresh profile directory and
 *     without background networking, and every request that leaves the
 *     loopback is aborted here and reported (the machine has no network, and
 *     a test must not depend on one): `offline` lists them per page.
 *   - A page is judged by what a person would see go wrong: its HTTP status,
 *     uncaught exceptions (pageerror), console errors, failed subresources,
 *     and the word "panic" in its text.  Errors that are only the
 *     consequence of an aborted outside resource are told apart by
 *     `offlineOnly` (the caller lists the script globals that resource would
 *     have defined), printed, and not counted as failures.
 *   - Every check is counted, every failed one printed (FAIL, or KNOWN for
 *     a failure the test's caller listed as known); `finish` exits 1 if any
 *     check failed.  Nothing is skipped in silence.
 *   - Every server started here (go tool trace, in a process group of its
 *     own) is ended by its pid when the test ends, also on failure or on a
 *     signal (ctest's timeout); the traced programs run to their end.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn, spawnSync } = require('child_process');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CTRACE_CHROMIUM || '/usr/bin/chromium';
// Generous: the machine is small and shared; these are limits, not speeds.
const PAGE_TIMEOUT_MS = 180000;

/* ---- checks ---------------------------------------------------------- */

const tally = { ok: 0, failed: 0, known: 0 };
const children = new Set();
const profiles = new Set(); // browser profile directories to remove at the end

// check(cond, what): prints a failed check and counts every one.
function check(cond, what) {
  if (cond) tally.ok++;
  else { tally.failed++; console.log(`FAIL   ${what}`); }
  return cond;
}

// known(what): a failure on the known-failing list: printed and counted,
// not a failure of the test.
function known(what) { tally.known++; console.log(`KNOWN  ${what}`); }

// The known-failing list: CTRACE_BROWSER_KNOWN_FAILING, space-separated
// keys (a page's path, a viewer's name), set by tests/browser/CMakeLists.txt.
const KNOWN_FAILING = (process.env.CTRACE_BROWSER_KNOWN_FAILING || '').split(/\s+/).filter(Boolean);

// isKnownFailing(keys): the first of keys (a string or an array: e.g. a
// page's path, and its path with its query) on the known-failing list.
function isKnownFailing(keys) {
  return [].concat(keys).find((k) => KNOWN_FAILING.includes(k));
}

// judge(keys, label, problems): one check of a whole page or viewer.  If
// one of its keys is on the known-failing list, its problems are KNOWN and
// its passing is a failure ("take it off the list"), so the list cannot go
// stale.
function judge(keys, label, problems) {
  const key = isKnownFailing(keys);
  if (key) {
    if (problems.length) known(`${label}: ${problems.join('; ')}`);
    else check(false, `${label}: passes now, but ${key} is in CTRACE_BROWSER_KNOWN_FAILING (tests/browser/CMakeLists.txt): take it off the list`);
  } else if (check(problems.length === 0, `${label}: ${problems.join('; ')}`)) {
    note(`ok ${label}`);
  }
}

function note(msg) { console.log(`       ${msg}`); }

// cleanup(): ends the servers, removes the browser profiles.
function cleanup() {
  for (const c of children) killChild(c);
  for (const p of profiles) fs.rmSync(p, { recursive: true, force: true });
}

function finish() {
  cleanup();
  console.log(`browser: ${tally.ok} passed, ${tally.failed} failed, ${tally.known} known failing`);
  process.exit(tally.failed ? 1 : 0);
}

// ctest's timeout (or ^C) ends the test: the servers go with it (they run
// in process groups of their own, see startGoTrace).
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    console.log(`FAIL   ended by ${sig}`);
    process.exit(1);
  });
}

function failHard(err) {
  console.log(`FAIL   ${err && err.stack ? err.stack : err}`);
  tally.failed++;
  finish();
}

/* ---- processes ------------------------------------------------------- */

function killChild(c) {
  if (c.exitCode === null && c.signalCode === null) {
    try { process.kill(-c.pid, 'SIGTERM'); } catch (e) { /* already gone */ }
  }
  children.delete(c);
}

// run(cmd, args, opts): runs a program to its end; throws unless it exits 0.
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600000, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status} ${r.signal || ''}\n${r.stderr || ''}`);
  }
  return r;
}

// startGoTrace(go, traceFile): `go tool trace -http=127.0.0.1:0 FILE`; resolves
// to { url, stderr(), stop() } once it listens.  BROWSER=true: go tool trace
// would otherwise start a browser of its own (xdg-open, chromium ...).
function startGoTrace(go, traceFile) {
  return new Promise((resolve, reject) => {
    const c = spawn(go, ['tool', 'trace', '-http=127.0.0.1:0', traceFile], {
      detached: true, // own process group: stop() ends go and its child `trace`
      env: { ...process.env, BROWSER: 'true', GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(c);
    let err = '';
    const timer = setTimeout(() => reject(new Error(`go tool trace did not start:\n${err}`)), PAGE_TIMEOUT_MS);
    const onData = (d) => {
      err += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m && timer) {
        clearTimeout(timer);
        resolve({ url: m[1], stderr: () => err, stop: () => killChild(c) });
      }
    };
    c.stderr.on('data', onData);
    c.stdout.on('data', onData);
    c.on('exit', (code) => { clearTimeout(timer); reject(new Error(`go tool trace exited ${code}:\n${err}`)); });
  });
}

// serveFiles(map): an HTTP server on 127.0.0.1 serving url path prefix ->
// directory or file.  Resolves to { url, close() }.
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png',
  '.woff2': 'font/woff2', '.ico': 'image/x-icon', '.txt': 'text/plain' };
function serveFiles(map) {
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    for (const [prefix, target] of Object.entries(map)) {
      if (!p.startsWith(prefix)) continue;
      let file = fs.statSync(target).isDirectory() ? path.join(target, p.slice(prefix.length)) : target;
      if (!file.startsWith(target)) break; // no escaping the directory
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (!fs.existsSync(file)) break;
      res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404); res.end('not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
    resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() })));
}

/* ---- the browser ----------------------------------------------------- */

function isLoopback(u) {
  const h = new URL(u).hostname;
  return h === '127.0.0.1' || h === 'localhost' || h === '[::1]';
}

// launch(): a persistent context on a fresh profile directory (so the
// profile is ours, not a default one), 1400x900.
async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrace-chromium-'));
  profiles.add(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    timeout: PAGE_TIMEOUT_MS,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context.setDefaultTimeout(PAGE_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(PAGE_TIMEOUT_MS);
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
    profiles.delete(profile);
  };
  return { context, close };
}

// watch(page): collects what went wrong on the page since the last reset.
//   errors:  uncaught exceptions and console errors (strings)
//   failed:  subresources that failed or answered >= 400 (strings)
//   offline: outside URLs that were aborted
function watch(page) {
  const w = { errors: [], failed: [], offline: [] };
  w.reset = () => { w.errors = []; w.failed = []; w.offline = []; };
  page.on('pageerror', (e) => w.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location() && m.location().url;
    // A failed outside resource is already in `offline`.
    if (where && !isLoopback(where) && /^https?:/.test(where)) return;
    if (/net::ERR_FAILED|ERR_BLOCKED/.test(m.text()) && w.offline.length) return;
    w.errors.push(`console.error: ${m.text()}`);
  });
  page.on('requestfailed', (r) => {
    if (!isLoopback(r.url())) return;
    const why = r.failure() ? r.failure().errorText : '?';
    if (why === 'net::ERR_ABORTED' && r.resourceType() === 'document') return; // a download
    w.failed.push(`${r.url()}: ${why}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) w.failed.push(`${r.url()}: HTTP ${r.status()}`); });
  page.route('**/*', (route) => {
    const u = route.request().url();
    if (/^(data|blob|about):/.test(u) || isLoopback(u)) return route.continue();
    w.offline.push(u);
    return route.abort('blockedbyclient');
  });
  return w;
}

// offlineOnly(w, globals): the errors that are NOT explained by an aborted
// outside script: ReferenceErrors naming one of `globals` (what the script
// would have defined) are explained when something was aborted.
function offlineOnly(w, globals) {
  if (!w.offline.length) return { real: w.errors, explained: [] };
  const re = new RegExp(`\\b(${globals.map((g) => g.replace(/\$/g, '\\$')).join('|')}) is not defined`);
  return {
    real: w.errors.filter((e) => !re.test(e)),
    explained: w.errors.filter((e) => re.test(e)),
  };
}

// screenshot(page, dir, name): PNG of the viewport into dir/name.png.
async function screenshot(page, dir, name) {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 120)}.png`);
  await page.screenshot({ path: file });
  return file;
}

// settleTrackView(page): the viewer fits its view to the trace a moment
// after the model is set; a screenshot before that shows the wrong span.
// Waits (up to PAGE_TIMEOUT_MS, polling) until the view's transform is the
// same twice in a row, half a second apart.  Not a speed check.
async function settleTrackView(page) {
  const transform = () => page.evaluate(() => {
    const v = document.getElementById('trace-viewer');
    const vp = v && v.trackView && v.trackView.viewport;
    const t = vp && vp.currentDisplayTransform;
    return t ? `${t.panX} ${t.scaleX}` : null;
  });
  const deadline = Date.now() + PAGE_TIMEOUT_MS;
  let last = await transform();
  while (Date.now() < deadline) {
    await page.waitForTimeout(500);
    const now = await transform();
    if (now === null || now === last) return;
    last = now;
  }
}

// waitForTraceViewer(page): waits until catapult's timeline view (the
// element go tool trace's /trace page creates, id trace-viewer) has a model,
// or an import error overlay shows; returns { error } or
//   { threads: [{pid, tid, name, slices, asyncSlices}], processes, tracks }
// (slices: titles; tracks: the headings of the thread tracks drawn).
async function waitForTraceViewer(page) {
  await page.waitForFunction(() => {
    const v = document.getElementById('trace-viewer');
    const overlay = document.querySelector('tr-ui-b-overlay');
    return (v && v.model) || (overlay && overlay.visible);
  }, null, { timeout: PAGE_TIMEOUT_MS, polling: 500 });
  await settleTrackView(page);
  return page.evaluate(() => {
    const overlay = document.querySelector('tr-ui-b-overlay');
    const v = document.getElementById('trace-viewer');
    if (!v || !v.model) return { error: overlay ? `${overlay.title}: ${overlay.textContent}` : 'no model' };
    const m = v.model;
    const threads = m.getAllThreads().map((t) => ({
      pid: t.parent.pid,
      tid: t.tid,
      name: t.name || '',
      slices: t.sliceGroup.slices.map((s) => s.title),
      asyncSlices: t.asyncSliceGroup.slices.map((s) => s.title),
    }));
    const processes = Object.values(m.processes).map((p) => ({ pid: p.pid, name: p.name || '' }));
    // The tracks the view drew: catapult's track view builds them as divs
    // (class thread-track) with a tr-ui-b-heading each, under its model track.
    const view = document.querySelector('tr-ui-timeline-track-view');
    const drawn = view && view.modelTrack_ ? view.modelTrack_ : document.createElement('div');
    const tracks = Array.prototype.map.call(drawn.querySelectorAll('.thread-track'),
      (t) => { const h = t.querySelector('tr-ui-b-heading'); return h ? h.textContent.replace(/[\s\u25be\u25b8]+/g, ' ').trim() : ''; });
    return { threads, processes, tracks };
  });
}

module.exports = {
  check, known, judge, isKnownFailing, note, finish, failHard, run, startGoTrace, serveFiles, launch, watch,
  offlineOnly, screenshot, waitForTraceViewer, isLoopback, PAGE_TIMEOUT_MS,
};
