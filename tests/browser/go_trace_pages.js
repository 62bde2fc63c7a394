'use strict';
/*
 * go_trace_pages.js - browser.go_trace_pages: every page `go tool trace`
 * shows for traces ctrace wrote, opened in headless Chromium as a person
 * would open them.
 *
 *   node go_trace_pages.js WORKDIR CTRACE_TOOL EXAMPLES_DIR
 *   env: GO122, GO123 (tests/go_toolchain.sh), CTRACE_BROWSER_KNOWN_FAILING
 *
 * Traces: the examples threadpool, condqueue, annotations, cpuburn (libctrace
 * linked in) and pigz compressing 4 MB under `ctrace run` (preloaded).  For
 * each trace and each of Go 1.22 and 1.23, `go tool trace -http` serves it;
 * the test loads the index, every page it links to, and the pages those
 * link to, and theirs (MAX_DEPTH levels below the index; below the index's
 * own links at most PER_KIND pages of one kind -- path and parameter names
 * -- e.g. 4 of the goroutine groups, 1 of their /trace?goid=N timelines;
 * the links not followed are counted and printed, not silently dropped).
 *
 * Invariants (what a page must show; see README.md):
 *   - HTTP 200, no panic on the server's stderr or in the page's text, no
 *     uncaught exception, console error or failed request of the page.
 *     The only outside resources are the MMU page's chart scripts (Google
 *     Charts, jQuery from the internet); the machine has none, so they are
 *     aborted and reported, and the MMU page's data -- what the chart would
 *     draw, the `?mode=plot` and `?mode=details` requests its script makes
 *     -- is fetched and checked by the test instead.
 *   - Content where the program did that kind of work: the trace viewer's
 *     model holds the program's threads and draws their tracks; the
 *     goroutine analysis lists their start functions; the tasks and regions
 *     pages list the annotations; a profile page draws an SVG graph.
 *   - A page whose path, or path and query, is in CTRACE_BROWSER_KNOWN_FAILING
 *     (space-separated, e.g. "/mmu /trace?focustask=0", set by
 *     tests/browser/CMakeLists.txt) and fails is reported KNOWN; if it
 *     passes, the test fails, so that the list is emptied when the fix lands.
 *   - Screenshots of every HTML page: WORKDIR/screenshots/PROGRAM-go1.NN/.
 */
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const [workDir, ctraceTool, examplesDir] = process.argv.slice(2);
if (!workDir || !ctraceTool || !examplesDir) {
  console.error('usage: node go_trace_pages.js WORKDIR CTRACE_TOOL EXAMPLES_DIR');
  process.exit(2);
}
const GOS = [['1.22', process.env.GO122], ['1.23', process.env.GO123]];
// How far from the index, and how many pages of one kind below the index's
// own links (the kinds are few; their instances -- goroutines, tasks,
// latency buckets -- are as many as the program made).
const MAX_DEPTH = 3;
const PER_KIND = { 2: 4, 3: 1 }; // pages of one kind at depth 2, at depth 3

// What each program does, so what its pages must show.
//   groups:   start functions the goroutine analysis lists
//   minThreads: threads (goroutines) it lists at least
//   threads:  thread names (ctrace_thread_name) in the timeline's slices
//   tasks, regions: annotation names on /usertasks and /userregions
//   profiles: profile pages that must draw a graph (the program did that work)
const PROGRAMS = [
  { name: 'threadpool', groups: ['worker'], minThreads: 5, threads: ['worker-1', 'worker-2', 'worker-3', 'worker-4'],
    tasks: ['job'], regions: ['compute', 'publish'], profiles: ['/block', '/sched'] },
  { name: 'condqueue', groups: ['producer', 'consumer'], minThreads: 5, threads: ['producer', 'consumer'],
    tasks: [], regions: ['consume'], profiles: ['/block', '/sched'] },
  { name: 'annotations', groups: ['db_worker', 'flusher'], minThreads: 5, threads: ['db-worker', 'main-loop'],
    tasks: ['request', 'db-query'], regions: ['handle', 'parse', 'respond', 'query'], profiles: ['/sched'] },
  { name: 'cpuburn', groups: ['burn'], minThreads: 3, threads: ['burner'], tasks: [], regions: ['burn'], profiles: ['/sched'] },
  // pigz -p 4: its main thread, compression threads and a writer thread.
  { name: 'pigz', run: true, groups: [], minThreads: 3, threads: [], tasks: [], regions: [], profiles: ['/sched'] },
];

function makeTrace(prog, dir) {
  const out = path.join(dir, `${prog.name}.trace`);
  fs.rmSync(out, { force: true });
  if (!prog.run) {
    lib.run(path.join(examplesDir, prog.name), [out]);
    return out;
  }
  // pigz: 4 threads compressing 4 MB of text, traced by `ctrace run`.
  const input = path.join(dir, 'pigz-input.txt');
  const lines = [];
  for (let i = 0; i < 200000; i++) lines.push(`line ${i} ${(i * 2654435761) % 1000003} of the pigz input`);
  fs.writeFileSync(input, lines.join('\n').slice(0, 4 << 20));
  lib.run(ctraceTool, ['run', '-q', '-o', out, '--', 'pigz', '-p', '4', '-f', '-k', input]);
  return out;
}

// The links of the page now shown (same server only), as absolute URLs.
// A link's #fragment is kept (the trace viewer reads its time range from
// it); links within the page itself (a table of contents) are not.
async function linksOf(page, base) {
  const hrefs = await page.evaluate(() => Array.from(document.querySelectorAll('a[href]'), (a) => a.href));
  const here = page.url().split('#')[0];
  return [...new Set(hrefs.filter((h) => h.startsWith(base) && h.split('#')[0] !== here))];
}

// The page's visible text.
const textOf = (page) => page.evaluate(() => (document.body ? document.body.innerText : ''));

// Checks the content of one page for one program: returns problems.
async function contentProblems(page, url, prog, resp, jsontrace) {
  const u = new URL(url);
  const p = u.pathname;
  const problems = [];
  const need = (cond, what) => { if (!cond) problems.push(what); };
  if (p === '/trace') {
    // The page's script fetches /jsontrace and imports it; an empty answer
    // leaves it importing forever: say so at once.
    const json = await jsontrace;
    if (json && (await json.body()).length === 0) return [`${json.url()}: HTTP ${json.status()} with an empty body`];
    const v = await lib.waitForTraceViewer(page);
    if (v.error) return [`trace viewer: ${v.error}`];
    const slices = v.threads.reduce((n, t) => n + t.slices.length, 0);
    need(v.threads.length > 0 && slices > 0, `trace viewer: empty model (${v.threads.length} threads, ${slices} slices)`);
    need(v.tracks.length > 0, 'trace viewer: no thread track drawn');
    if (u.searchParams.get('view') === 'proc' && !u.searchParams.has('start')) {
      // A slice's title is "G<id> <start function> (<label>)", the label
      // "NAME (tid N)" (docs/FORMAT.md, labels).
      const titles = v.threads.flatMap((t) => t.slices).join('\n');
      for (const t of prog.threads) need(titles.includes(`(${t} (tid `), `trace viewer: no slice of thread ${t} (label "${t} (tid N)")`);
    }
    if (u.searchParams.get('view') === 'thread') {
      need(v.threads.length >= 2, `thread view: ${v.threads.length} thread tracks, expected >= 2`);
    }
    lib.note(`${url}: ${v.threads.length} threads, ${slices} slices, ${v.tracks.length} thread tracks drawn: ${v.tracks.join(', ').slice(0, 200)}`);
    return problems;
  }
  const text = await textOf(page);
  if (p === '/goroutines') {
    for (const g of prog.groups) need(text.includes(g), `goroutines: no group ${g}`);
    // The table's rows: start location, count, total execution time.
    const counts = await page.evaluate(() => Array.from(document.querySelectorAll('tr'),
      (tr) => Number((tr.cells[1] || {}).textContent)).filter((n) => n > 0));
    const threads = counts.reduce((a, b) => a + b, 0);
    need(threads >= prog.minThreads, `goroutines: ${threads} threads listed (${counts.length} groups), expected >= ${prog.minThreads}`);
    lib.note(`${url}: ${threads} threads in ${counts.length} groups`);
  } else if (p === '/goroutine') {
    const n = (await linksOf(page, u.origin)).filter((h) => /goid=\d+/.test(h)).length;
    need(n > 0, `goroutine group ${u.searchParams.get('name')}: no goroutine listed`);
  } else if (p === '/usertasks') {
    for (const t of prog.tasks) need(text.includes(t), `usertasks: no task ${t}`);
  } else if (p === '/userregions') {
    for (const r of prog.regions) need(text.includes(r), `userregions: no region ${r}`);
  } else if (p === '/usertask' || p === '/userregion') {
    need(/\d/.test(text) && text.length > 200, `${p}: nothing listed`);
  } else if (/^\/(region)?(io|block|syscall|sched)$/.test(p) && !u.searchParams.has('raw')) {
    // A profile (of the program, a goroutine group or a region type) as an
    // SVG graph drawn by graphviz.
    const svg = await page.evaluate(() => document.querySelectorAll('svg g').length);
    if (prog.profiles.includes(p) && !u.search) {
      need(svg > 0, `${p}: no profile graph drawn (the program did that work)`);
    }
    need(/svg/.test(resp.headers()['content-type'] || '') || svg > 0 || text.length > 0, `${p}: empty page`);
  } else if (p === '/mmu') {
    problems.push(...await mmuProblems(page, url));
  }
  return problems;
}

// get(page, url): the response, or { error } when the server gave none (a
// panicking handler of go tool trace closes the connection).
async function get(page, url) {
  try {
    return await page.request.get(url);
  } catch (e) {
    return { error: `no answer (${e.message.split('\n')[0]})` };
  }
}

// The MMU page draws its chart from ?mode=plot (and on a click,
// ?mode=details); its chart library cannot load offline, so the test makes
// the same requests, with the flags the page's own mmuFlags() reads from
// its inputs (the ids of the checked ones), for both of its views: System
// (checked at first) and Per-goroutine.
async function mmuProblems(page, url) {
  // mmuFlags() itself needs jQuery: the same, by hand.
  const flags = await page.evaluate(() => Array.prototype.filter.call(
    document.querySelectorAll('#options input'), (e) => e.checked).map((e) => e.id).join('|'));
  if (!flags.includes('system')) return [`mmu: the page's checked options are "${flags}", expected the System view`];
  const problems = [];
  for (const view of ['system', 'perProc']) {
    const f = flags.replace('system', view);
    const plotUrl = new URL(`?mode=plot&flags=${f}`, url).href;
    const plot = await get(page, plotUrl);
    if (plot.error || plot.status() !== 200) {
      problems.push(`mmu: ${plotUrl}: ${plot.error || `HTTP ${plot.status()}`}`);
      continue;
    }
    let data;
    try { data = await plot.json(); } catch (e) { problems.push(`mmu: ${plotUrl}: not JSON`); continue; }
    if (!data.curve || data.curve.length === 0) { problems.push(`mmu: ${plotUrl}: empty curve`); continue; }
    const detUrl = new URL(`?mode=details&window=${data.curve[0][0]}&flags=${f}`, url).href;
    const det = await get(page, detUrl);
    if (det.error || det.status() !== 200) problems.push(`mmu: ${detUrl}: ${det.error || `HTTP ${det.status()}`}`);
    else lib.note(`${url}: MMU ${view} curve of ${data.curve.length} points`);
  }
  return problems;
}

// Visits one URL: returns its problems and the links it shows.
async function visit(page, watcher, server, url, prog, shots, index) {
  try {
    return await visitPage(page, watcher, server, url, prog, shots, index);
  } catch (e) {
    // A page that never finished (e.g. a trace viewer that never shows its
    // model) is that page's failure; the crawl goes on.
    const shot = await lib.screenshot(page, shots, `${String(index).padStart(2, '0')}-failed`).catch(() => 'none');
    return { problems: [`${e.message.split('\n')[0]} (screenshot ${shot})`], links: [] };
  }
}

async function visitPage(page, watcher, server, url, prog, shots, index) {
  const problems = [];
  const stderrBefore = server.stderr().length;
  watcher.reset();
  // Downloads (?raw=1 profiles) are fetched, not shown.
  const head = await get(page, url);
  if (head.error) return { problems: [head.error], links: [] };
  const type = head.headers()['content-type'] || '';
  if (head.status() !== 200) problems.push(`HTTP ${head.status()}: ${(await head.text()).slice(0, 300)}`);
  let links = [];
  if (!/text\/html|image\/svg/.test(type)) {
    if ((await head.body()).length === 0) problems.push(`empty ${type} download`);
  } else if (head.status() === 200) {
    await page.goto('about:blank'); // a new document each time, also for a #fragment
    const jsontrace = new URL(url).pathname !== '/trace' ? null
      : page.waitForResponse((r) => r.url().includes('/jsontrace'), { timeout: lib.PAGE_TIMEOUT_MS }).catch(() => null);
    const resp = await page.goto(url, { waitUntil: 'load' });
    if (resp.status() !== 200) problems.push(`HTTP ${resp.status()} in the browser`);
    await page.waitForLoadState('networkidle').catch(() => {});
    problems.push(...await contentProblems(page, url, prog, resp, jsontrace));
    if (/\bpanic\b/i.test(await textOf(page))) problems.push('the page shows a panic');
    const shot = await lib.screenshot(page, shots, `${String(index).padStart(2, '0')}-${new URL(url).pathname}${new URL(url).search}`);
    lib.note(`${url}: screenshot ${shot}`);
    links = await linksOf(page, server.url);
  }
  const offline = lib.offlineOnly(watcher, ['google', '\\$', 'jQuery']);
  problems.push(...offline.real, ...watcher.failed);
  if (watcher.offline.length) lib.note(`${url}: outside resources aborted (no network): ${watcher.offline.join(' ')}`);
  for (const e of offline.explained) lib.note(`${url}: ${e} (the aborted outside script defines it)`);
  const log = server.stderr().slice(stderrBefore);
  if (/panic/.test(log)) problems.push(`server panicked:\n${log.split('\n').slice(0, 8).join('\n')}`);
  return { problems, links };
}

// The keys of a page on the known-failing list: its path, its path and query.
function keysOf(url) {
  const u = new URL(url);
  return [u.pathname, u.pathname + u.search];
}

// The kind of a page: its path and parameter names (the latency buckets of
// one task type, the goroutines of one group ... are one kind each).
function kindOf(url) {
  const u = new URL(url);
  return `${u.pathname}?${[...u.searchParams.keys()].sort().join('&')}`;
}

async function crawl(context, prog, traceFile, goVersion, go) {
  const where = `${prog.name} go${goVersion}`;
  const shots = path.join(workDir, 'screenshots', `${prog.name}-go${goVersion}`);
  fs.rmSync(shots, { recursive: true, force: true });
  const server = await lib.startGoTrace(go, traceFile);
  const page = await context.newPage();
  const watcher = lib.watch(page);
  try {
    const index = `${server.url}/`;
    const seen = new Set([index]);
    const perKind = new Map();
    const skipped = [];
    let n = 0;
    let level = [index];
    for (let depth = 0; depth <= MAX_DEPTH && level.length; depth++) {
      const next = [];
      for (const url of level) {
        // A page on the known-failing list is visited (is it fixed?) without
        // taking the place of a page of its kind that works.
        if (depth >= 2 && !lib.isKnownFailing(keysOf(url))) {
          const k = kindOf(url);
          perKind.set(k, (perKind.get(k) || 0) + 1);
          if (perKind.get(k) > PER_KIND[depth]) { skipped.push(url); continue; }
        }
        const r = await visit(page, watcher, server, url, prog, shots, n++);
        lib.judge(keysOf(url), `${where} ${url.replace(/^http:\/\/[^/]+/, '')}`, r.problems);
        if (depth === 0) {
          lib.check(r.links.length >= 10, `${where}: the index links to ${r.links.length} pages, expected >= 10`);
        }
        for (const l of r.links) if (!seen.has(l)) { seen.add(l); next.push(l); }
      }
      level = next;
    }
    lib.note(`${where}: ${n} pages visited; not visited: ${skipped.length} links beyond the pages of a kind visited` +
      `${skipped.length ? ' (' + skipped.slice(0, 4).join(' ') + (skipped.length > 4 ? ' ...)' : ')') : ''}, ` +
      `${level.length} links ${MAX_DEPTH + 1} levels down`);
  } finally {
    await page.close();
    server.stop();
  }
}

(async () => {
  const traceDir = path.join(workDir, 'traces');
  fs.mkdirSync(traceDir, { recursive: true });
  const browser = await lib.launch();
  try {
    // CTRACE_BROWSER_PROGRAMS="threadpool pigz": only these (to look at one).
    const only = (process.env.CTRACE_BROWSER_PROGRAMS || '').split(/\s+/).filter(Boolean);
    for (const prog of PROGRAMS.filter((p) => !only.length || only.includes(p.name))) {
      const trace = makeTrace(prog, traceDir);
      for (const [v, go] of GOS) await crawl(browser.context, prog, trace, v, go);
    }
  } finally {
    await browser.close();
  }
  lib.finish();
})().catch(lib.failHard);
