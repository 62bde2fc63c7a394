// check_csv.mjs - loads the tables `ctrace export --format csv` wrote into
// DuckDB (read_csv_auto, as a user would) and checks that the queries'
// totals equal what `ctrace stat --json` reports for the same traces.
//
//   node check_csv.mjs DIR STAT.json [DIR STAT.json ...]
//
// Each DIR is one export of one trace; STAT.json is `ctrace stat --json
// --top=100000` of that trace.  All DIRs are also read at once with a
// glob (the query of docs/EXPORT.md: which lock costs most across all
// traces), whose per-trace sums must equal the per-DIR ones.
// Prints what it compared; exits 1 on the first difference.
//
//   node check_csv.mjs --strings DIR
//
// DIR is the export of csv_strings.c's trace: its names and messages must
// read back as written (quotes, commas, a line break; 0xff as U+FFFD).
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const args = process.argv.slice(2);
if (args[0] === '--strings') {
  const db0 = await DuckDBInstance.create(':memory:');
  const c0 = await db0.connect();
  const q = async (sql) => (await c0.runAndReadAll(sql)).getRowObjectsJS();
  const dir = args[1].replaceAll("'", "''");
  const want = {
    // the thread's label: its name and " (tid N)" (docs/FORMAT.md)
    thread: /^main, "the" thread \(tid \d+\)$/,
    region: 'a,"b"',
    category: 'c"at',
    message: 'line 1\nline 2, \ufffd and \u00e9',
  };
  const got = {
    thread: (await q(`SELECT name FROM read_csv_auto('${dir}/threads.csv') WHERE name LIKE 'main%'`))[0]?.name,
    region: (await q(`SELECT region FROM read_csv_auto('${dir}/regions.csv')`))[0]?.region,
    category: (await q(`SELECT category FROM read_csv_auto('${dir}/logs.csv')`))[0]?.category,
    message: (await q(`SELECT message FROM read_csv_auto('${dir}/logs.csv')`))[0]?.message,
  };
  let bad = 0;
  for (const k of Object.keys(want))
    if (want[k] instanceof RegExp ? !want[k].test(got[k] ?? '') : got[k] !== want[k]) {
      console.error(`FAIL: ${k}: DuckDB reads ${JSON.stringify(got[k])}, want ${want[k] instanceof RegExp ? want[k] : JSON.stringify(want[k])}`);
      bad = 1;
    }
  if (!bad) console.log('ok: quoted names and messages, and invalid UTF-8, read back through DuckDB');
  process.exit(bad);
}
if (args.length < 2 || args.length % 2) {
  console.error('usage: node check_csv.mjs DIR STAT.json [DIR STAT.json ...]');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
let failures = 0;

async function rows(sql) {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJS();
}
const num = (v) => (v === null || v === undefined ? 0 : Number(v));
function expect(what, got, want) {
  if (got !== want) {
    console.error(`FAIL: ${what}: csv ${got}, ctrace stat ${want}`);
    failures++;
  }
}
const lit = (s) => `'${s.replaceAll("'", "''")}'`;
const table = (dir, name) => `read_csv_auto(${lit(dir + '/' + name + '.csv')}, header = true)`;

const perTraceBlocked = new Map(); // trace -> blocked ns, for the glob check
// libctrace's zero-length marker waits (src/format/gotrace.h): rows of the
// CSV like any wait, left out of ctrace stat's blocking table (TOOLS.md).
const MARKERS = ['ctrace: end of wait', 'ctrace: end of syscall', 'ctrace: thread start',
                 'ctrace: main thread'];
const notMarker = `coalesce(reason, '') NOT IN (${MARKERS.map((m) => `'${m}'`).join(', ')})`;
for (let i = 0; i < args.length; i += 2) {
  const dir = args[i];
  const stat = JSON.parse(readFileSync(args[i + 1], 'utf8'));
  const trace = basename(stat.file);
  const tag = `${dir} (${trace})`;

  // Time per state: running = exec, runnable = sched, syscall, blocked =
  // sync + net + other.
  const st = await rows(`SELECT state, sum(dur_ns::BIGINT) AS ns, count(*) AS n
                         FROM ${table(dir, 'states')} GROUP BY state`);
  const byState = Object.fromEntries(st.map((r) => [r.state, num(r.ns)]));
  const t = stat.totals;
  expect(`${tag} running ns`, byState.running ?? 0, t.exec_ns);
  expect(`${tag} runnable ns`, byState.runnable ?? 0, t.sched_ns);
  expect(`${tag} syscall ns`, byState.syscall ?? 0, t.syscall_ns);
  expect(`${tag} blocked ns`, byState.blocked ?? 0, t.sync_ns + t.net_ns + t.other_ns);
  perTraceBlocked.set(trace, byState.blocked ?? 0);

  // Time blocked per reason (stat: per (reason, stack); summed by reason).
  const want = new Map();
  for (const b of stat.blocking) want.set(b.reason, (want.get(b.reason) ?? 0) + b.total_ns);
  const got = await rows(`SELECT coalesce(reason, '') AS reason, sum(dur_ns::BIGINT) AS ns
                          FROM ${table(dir, 'states')} WHERE state = 'blocked' AND ${notMarker} GROUP BY 1`);
  const gotMap = new Map(got.map((r) => [r.reason, num(r.ns)]));
  for (const [reason, ns] of want) expect(`${tag} blocked on '${reason}' ns`, gotMap.get(reason) ?? 0, ns);
  for (const [reason, ns] of gotMap) if (!want.has(reason) && ns) expect(`${tag} blocked on '${reason}' ns`, ns, 0);

  // Time blocked per (reason, stack): the stack where it blocked, its
  // innermost frames as many as stat keeps (6).
  const wantStk = new Map();
  for (const b of stat.blocking) {
    const key = `${b.reason}|${b.stack.map((f) => f.func).join(';')}`;
    wantStk.set(key, (wantStk.get(key) ?? 0) + b.total_ns);
  }
  const gotStk = await rows(`
      WITH st AS (SELECT stack_id::BIGINT AS stack_id,
                         string_agg(func, ';' ORDER BY depth::BIGINT) AS funcs
                  FROM ${table(dir, 'stacks')} WHERE depth::BIGINT < 6 GROUP BY 1)
      SELECT coalesce(s.reason, '') || '|' || coalesce(st.funcs, '') AS key,
             sum(s.dur_ns::BIGINT) AS ns
      FROM ${table(dir, 'states')} s LEFT JOIN st ON st.stack_id = s.stack_id::BIGINT
      WHERE s.state = 'blocked' AND ${notMarker.replace('reason', 's.reason')} GROUP BY 1`);
  const gotStkMap = new Map(gotStk.map((r) => [r.key, num(r.ns)]));
  for (const [key, ns] of wantStk) expect(`${tag} blocked at '${key}' ns`, gotStkMap.get(key) ?? 0, ns);
  expect(`${tag} blocking (reason, stack) pairs`, gotStk.filter((r) => num(r.ns)).length,
         [...wantStk.values()].filter((v) => v).length);

  // Regions per name: one row per region begun or ended without a begin;
  // the durations of completed ones sum to stat's total.
  const reg = await rows(`SELECT region, count(*) AS n, sum(dur_ns::BIGINT) AS ns
                          FROM ${table(dir, 'regions')} GROUP BY region`);
  const regMap = new Map(reg.map((r) => [r.region, r]));
  for (const r of stat.regions) {
    const g = regMap.get(r.name);
    expect(`${tag} regions '${r.name}'`, num(g?.n), r.begun + r.unmatched_end);
    if (r.completed === r.begun && !r.unmatched_end)
      expect(`${tag} regions '${r.name}' ns`, num(g?.ns), r.total_ns);
  }
  expect(`${tag} region names`, reg.length, stat.regions.length);

  const tasks = await rows(`SELECT name, count(*) AS n, sum(dur_ns::BIGINT) AS ns FROM ${table(dir, 'tasks')} GROUP BY name`);
  const taskMap = new Map(tasks.map((r) => [r.name, r]));
  for (const r of stat.tasks) {
    if (!r.name) continue; // tasks begun before the trace: named "task N" in the csv
    const g = taskMap.get(r.name);
    expect(`${tag} tasks '${r.name}'`, num(g?.n), r.begun + r.unmatched_end);
    if (r.completed === r.begun && !r.unmatched_end)
      expect(`${tag} tasks '${r.name}' ns`, num(g?.ns), r.total_ns);
  }

  const logs = await rows(`SELECT count(*) AS n FROM ${table(dir, 'logs')}`);
  expect(`${tag} logs`, num(logs[0].n), stat.event_kinds.Log ?? 0);

  // Samples, and the stack of each one found in stacks.csv.
  const samples = await rows(`SELECT count(*) AS n, count(stack_id) AS with_stack
                              FROM ${table(dir, 'samples')}`);
  expect(`${tag} cpu samples`, num(samples[0].n), stat.cpu_samples);
  const lost = await rows(`SELECT count(*) AS n FROM ${table(dir, 'samples')} s
                           WHERE s.stack_id IS NOT NULL AND NOT EXISTS
                             (SELECT 1 FROM ${table(dir, 'stacks')} k WHERE k.stack_id::BIGINT = s.stack_id::BIGINT)`);
  expect(`${tag} samples whose stack is missing`, num(lost[0].n), 0);
  // The top function of the samples, as stat's cpu_functions "flat".
  if (stat.cpu_functions.length) {
    const top = stat.cpu_functions[0];
    const f = await rows(`SELECT count(*) AS n FROM ${table(dir, 'samples')} s
                          JOIN ${table(dir, 'stacks')} k ON k.stack_id::BIGINT = s.stack_id::BIGINT
                          WHERE k.depth::BIGINT = 0 AND k.func = ${lit(top.func)}`);
    expect(`${tag} samples in ${top.func}`, num(f[0].n), top.flat);
  }

  const threads = await rows(`SELECT count(*) AS n FROM ${table(dir, 'threads')}`);
  expect(`${tag} threads`, num(threads[0].n), stat.goroutines);
  console.log(`ok: ${tag}: ${st.map((r) => `${r.state} ${r.n}`).join(', ')}; ` +
              `${reg.length} region names, ${num(logs[0].n)} logs, ${num(samples[0].n)} samples`);
}

// Many traces at once: the glob of docs/EXPORT.md, per trace.
if (args.length > 2) {
  const dirs = [];
  for (let i = 0; i < args.length; i += 2) dirs.push(args[i]);
  const parent = dirname(dirs[0]);
  const glob = `read_csv_auto(${lit(parent + '/*/states.csv')}, header = true)`;
  const all = await rows(`SELECT trace, sum(dur_ns::BIGINT) AS ns FROM ${glob}
                          WHERE state = 'blocked' GROUP BY trace`);
  for (const r of all)
    if (perTraceBlocked.has(r.trace))
      expect(`glob: ${r.trace} blocked ns`, num(r.ns), perTraceBlocked.get(r.trace));
  expect('glob: traces', all.filter((r) => perTraceBlocked.has(r.trace)).length,
         [...perTraceBlocked.values()].filter((v) => v).length);
  // docs/EXPORT.md's "which lock costs most across all these traces"
  // (without its LIMIT): its total is what stat says of the sync waits.
  const lockQuery = `
    WITH blocked AS (
      SELECT trace, stack_id, dur_ns
      FROM read_csv_auto(${lit(parent + '/*/states.csv')})
      WHERE state = 'blocked' AND reason LIKE 'sync%'),
    stacks AS (
      SELECT trace, stack_id, string_agg(func, ' < ' ORDER BY depth) AS stack
      FROM read_csv_auto(${lit(parent + '/*/stacks.csv')})
      GROUP BY trace, stack_id)
    SELECT coalesce(stack, '(no stack)') AS stack, count(*) AS waits,
           count(DISTINCT trace) AS traces, sum(dur_ns) / 1e6 AS ms
    FROM blocked LEFT JOIN stacks USING (trace, stack_id)
    GROUP BY 1 ORDER BY ms DESC`;
  const locks = await rows(lockQuery);
  let wantSync = 0;
  for (let i = 1; i < args.length; i += 2)
    for (const b of JSON.parse(readFileSync(args[i], 'utf8')).blocking)
      if (b.reason.startsWith('sync')) wantSync += b.total_ns;
  const gotSync = Math.round(locks.reduce((a, r) => a + Number(r.ms), 0) * 1e6);
  if (Math.abs(gotSync - wantSync) > locks.length) // ms are doubles: rounding only
    expect('glob: time blocked on sync', gotSync, wantSync);
  console.log(`ok: glob over ${dirs.length} exports; the lock that costs most: ` +
              `${locks[0]?.stack} (${locks[0]?.waits} waits in ${locks[0]?.traces} traces, ${locks[0]?.ms} ms)`);
}
process.exit(failures ? 1 : 0);
