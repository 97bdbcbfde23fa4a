// The profile API under load, server and load generator each in their own process on this machine:
//   0. a synthetic Gold snapshot of 1M customers (scale 1) in a local lake, every served dataset with its declared
//      columns (profile, identity map, scores, segments, 5 recommendations each, products, registry), written by DuckDB
//      SQL and cached under bench/.cache/ (keyed by size and the datasets' columns), so a rerun starts at step 1;
//   1. `c360 serve --source lake` loads it: seconds to the first snapshot, the server's RSS and its body file;
//   2. floor: GET /health at 500 requests/s (HTTP, routing and the server's event loop, no data); 2 and 3 run twice:
//      as any process on the shared machine, then with the server's and generator's main threads at nice -10;
//   3. lookups: GET /customer/profile/c360:<random person> (the whole profile: fields, identifiers, recommendations,
//      models) at 500 requests/s for 20 s, open loop from bench/load-generator.ts in a process of its own, latency
//      from each request's due time (target p99 < 20 ms), and the server's CPU per request; then by e-mail for 10 s;
//   4. swap: a new as-of date lands in the lake during the same load; the server builds the new snapshot beside the
//      current one and swaps: failed requests (target 0), requests slower than 20 ms, p99, and the new date served.
// --scale multiplies the customers (scale 1: 1,000,000), not the durations.
import { fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import type { Bench } from '../src/cli/commands/bench.ts';
import { duckType } from '../src/catalogue/dataset.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { Engine, ident, lit } from '../src/engine/duckdb.ts';
import type { LogicalType } from '../src/warehouse/types.ts';
import { autogroupNice, cpuOf, rssMb, startCli, stopChild } from './cli-process.ts';
import type { LoadResult, LoadSpec } from './load-generator.ts';

const KEY = 'bench-agent-key-0123456789';
const AS_OF = '2026-06-30';
const NEXT = '2026-07-01';
const RATE = 500;
/** C360_SERVE_BENCH_SWAPS=N: that many swaps one after another (default 1), each a new as-of date. */
const SWAPS = Math.max(1, Number(process.env.C360_SERVE_BENCH_SWAPS) || 1);
/** C360_SERVE_BENCH_ONLY=swap: the swaps alone (no floor and lookup phases), to measure swaps in a short window. */
const ONLY_SWAP = process.env.C360_SERVE_BENCH_ONLY === 'swap';
/** C360_SERVE_BENCH_CONTROL=SECONDS: lookups with no build for that long before the swaps (default 100 with ONLY_SWAP, else 0). */
const CONTROL_SECONDS = Number(process.env.C360_SERVE_BENCH_CONTROL ?? (ONLY_SWAP ? 100 : 0));
/** C360_SERVE_BENCH_PERF=DIR: `perf record` of the scheduler's events during the first swap into DIR (for perf sched timehist). */
const PERF_DIR = process.env.C360_SERVE_BENCH_PERF || null;

/** perf record -a of context switches, wake-ups, migrations and block I/O with kernel stacks, until stop(). */
function startPerf(file: string): { stop(): Promise<void> } {
  const p = spawn('perf', ['record', '-q', '-a', '-g', '--kernel-callchains', '-o', file, '-e', 'sched:sched_switch', '-e', 'sched:sched_wakeup', '-e', 'sched:sched_wakeup_new',
    '-e', 'sched:sched_migrate_task', '-e', 'block:block_rq_issue', '-e', 'block:block_rq_complete'], { stdio: 'ignore' });
  return { stop: () => new Promise((r) => { p.once('exit', () => r()); p.kill('SIGINT'); }) };
}

/**
 * The machine's counters every 50 ms during a swap, to set beside the server's stalls: CPU time stolen by the host
 * (/proc/stat) and, on a guest with free page reporting (this machine's kernel), the memory it has handed back to the
 * host, which the host then takes away and must give again when the guest touches it.
 */
function machineSampler(): { stop(): { t: number; steal: number; reportedKib: number }[] } {
  const read = () => {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/);
    let reportedKib = NaN;
    try {
      reportedKib = Number(readFileSync('/sys/module/page_reporting/parameters/reported_kib', 'utf8'));
    } catch { /* not such a guest */ }
    return { t: Date.now(), steal: Number(cpu[8]), reportedKib };
  };
  const samples = [read()];
  const timer = setInterval(() => samples.push(read()), 50);
  return { stop: () => (clearInterval(timer), samples) };
}

/** What the machine counters did in the `ms` before an epoch moment: host steal (ticks) and memory reported (MiB). */
function machineBefore(samples: { t: number; steal: number; reportedKib: number }[], epoch: number, ms = 1000) {
  const from = samples.filter((x) => x.t <= epoch - ms).at(-1) ?? samples[0]!;
  const to = samples.find((x) => x.t >= epoch) ?? samples.at(-1)!;
  return { stealTicks: to.steal - from.steal, reportedMib: Math.round((to.reportedKib - from.reportedKib) / 1024) };
}

const addDays = (d: string, n: number) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

const idExpr = (i: string) => `printf('C360-%016X', ${i})`;

/** A plausible value of a declared column for person i (names, e-mail and phone shaped like the real ones). */
function valueSql(name: string, t: LogicalType, i: string): string {
  if (name === 'CUSTOMER360_ID') return idExpr(i);
  if (name === 'AS_OF_DATE') return `DATE '${AS_OF}'`;
  if (name === 'EMAIL_ADDRESS') return `'person' || ${i} || '@example.com'`;
  if (name === 'PHONE_NUMBER') return `'+1617' || lpad(CAST(${i} % 10000000 AS VARCHAR), 7, '0')`;
  if (name === 'SEGMENT_LABEL') return `['High-value loyal', 'Occasional buyers', 'Lapsing big spenders', 'Prospects'][1 + ${i} % 4]`;
  if (name.endsWith('MODEL_VERSION')) return `'${name.toLowerCase()}-bench'`;
  switch (t.kind) {
    case 'varchar': return `'${name.slice(0, 4)}' || (${i} % 977)`;
    case 'integer':
    case 'bigint': return `CAST(${i} % 97 AS ${duckType(t)})`;
    case 'double': return `((${i} * 7919) % 1000) / 1000.0`;
    case 'decimal': return `CAST(((${i} * 7919) % 100000) / 100.0 AS ${duckType(t)})`;
    case 'date': return `DATE '${AS_OF}' - CAST(${i} % 900 AS INTEGER)`;
    case 'timestamp': return `TIMESTAMP '${AS_OF} 00:00:00' - INTERVAL (${i} % 900) DAY`;
    case 'boolean': return `${i} % 2 = 0`;
  }
}

async function writeDataset(e: Engine, lakeDir: string, dataset: string, from: string, i: string, overrides: Record<string, string> = {}): Promise<void> {
  const ds = getDataset(dataset);
  const cols = ds.columns.map((c) => `${overrides[c.name] ?? valueSql(c.name, c.type as LogicalType, i)} AS ${ident(c.name)}`);
  const dir = join(lakeDir, ds.path, `as_of_date=${AS_OF}`);
  await mkdir(dir, { recursive: true });
  await e.run(`COPY (SELECT ${cols.join(', ')} FROM ${from}) TO ${lit(join(dir, 'part-00000.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
}

/** The synthetic Gold snapshot of `customers` people, sorted by CUSTOMER360_ID as Gold writes it. */
export async function writeSnapshot(lakeDir: string, customers: number): Promise<void> {
  const e = await Engine.open();
  try {
    const people = `(SELECT range AS i FROM range(${customers}) ORDER BY ${idExpr('range')})`;
    await writeDataset(e, lakeDir, 'customer_profile', people, 'i', { IDENTIFIERS: `'CRM:C' || i || '|ECOMMERCE:E' || i` });
    await writeDataset(e, lakeDir, 'customer_identity_map', `(SELECT i, s FROM ${people}, (VALUES ('CRM'), ('ECOMMERCE')) t(s))`, 'i', {
      SOURCE_SYSTEM: 's', CUSTOMER_ID: `CASE s WHEN 'CRM' THEN 'C' ELSE 'E' END || i`,
    });
    await writeDataset(e, lakeDir, 'risk_scores', people, 'i');
    await writeDataset(e, lakeDir, 'customer_segments', people, 'i');
    await writeDataset(e, lakeDir, 'product_recommendations', `(SELECT i, r FROM ${people}, range(1, 6) t(r))`, 'i', {
      RANK: 'CAST(r AS INTEGER)', PRODUCT_ID: `'PRD' || lpad(CAST((i * 31 + r) % 5000 AS VARCHAR), 6, '0')`, ALGORITHM: `'hybrid'`,
      REASON: `'ALSO_BOUGHT: often bought with PRD' || lpad(CAST(i % 5000 AS VARCHAR), 6, '0')`, MODEL_VERSION: `'recommendations-bench'`,
    });
    await writeDataset(e, lakeDir, 'dim_product', '(SELECT range AS i FROM range(5000))', 'i', { PRODUCT_ID: `'PRD' || lpad(CAST(i AS VARCHAR), 6, '0')` });
    await writeDataset(e, lakeDir, 'model_registry', `(SELECT range AS i, m FROM range(1), (VALUES ('churn'), ('clv'), ('segments'), ('recommendations')) t(m))`, 'i', {
      MODEL_NAME: 'm', MODEL_VERSION: `CASE m WHEN 'churn' THEN 'churn_model_version-bench' WHEN 'clv' THEN 'clv_model_version-bench' WHEN 'segments' THEN 'segment_model_version-bench' ELSE 'recommendations-bench' END`,
      METRICS_JSON: `'{"auc": 0.71}'`, PARAMETERS_JSON: `'{}'`,
    });
  } finally {
    e.close();
  }
}

/** Build steps the server's stderr reported (C360_SERVE_BUILD_TIMING=1, src/serving/build-timing.ts). */
const buildSteps: { endEpoch: number; seconds: number; what: string }[] = [];

const startServer = (args: string[]) =>
  startCli(args, (l) => l.startsWith('http'), { C360_API_KEYS: '', C360_SERVE_RUNTIME_STATS: '1', C360_SERVE_BUILD_TIMING: '1' }, true).then(({ child, line }) => {
    let rest = '';
    child.stderr!.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const l of lines) {
        const m = /^build step ([\d.]+) s {2}ended at (\d+) {2}(.*)$/.exec(l);
        if (m) buildSteps.push({ seconds: Number(m[1]), endEpoch: Number(m[2]), what: m[3]! });
      }
    });
    return { child, url: line };
  });

/** The server's own view of a phase (src/serving/runtime-stats.ts), from GET /health?runtime. */
interface Runtime {
  seconds: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  requestMs: { count: number; p50: number; p99: number; max: number; over5ms: number };
  stalls: [number, number][];
  slowRequests: [number, number][];
}

/** Figures of consecutive windows as one: counts and totals add, maxima and (an upper bound) p99s are the largest. */
function mergeRuntime(a: Runtime | null, b: Runtime): Runtime {
  if (!a) return b;
  const gc = { ...a.gc };
  for (const [k, g] of Object.entries(b.gc)) {
    const x = gc[k];
    gc[k] = x ? { count: x.count + g.count, totalMs: round(x.totalMs + g.totalMs, 1), maxMs: Math.max(x.maxMs, g.maxMs) } : g;
  }
  return {
    seconds: round(a.seconds + b.seconds, 1),
    eventLoopDelayMs: { p50: Math.max(a.eventLoopDelayMs.p50, b.eventLoopDelayMs.p50), p99: Math.max(a.eventLoopDelayMs.p99, b.eventLoopDelayMs.p99), max: Math.max(a.eventLoopDelayMs.max, b.eventLoopDelayMs.max) },
    gc,
    requestMs: {
      count: a.requestMs.count + b.requestMs.count, p50: Math.max(a.requestMs.p50, b.requestMs.p50), p99: Math.max(a.requestMs.p99, b.requestMs.p99),
      max: Math.max(a.requestMs.max, b.requestMs.max), over5ms: a.requestMs.over5ms + b.requestMs.over5ms,
    },
    stalls: [], slowRequests: [],
  };
}

const runtimeText = (r: Runtime) =>
  `server inside: event-loop delay p99 ${r.eventLoopDelayMs.p99} ms, max ${r.eventLoopDelayMs.max} ms; handling p99 ${r.requestMs.p99} ms, max ${r.requestMs.max} ms, over 5 ms ${r.requestMs.over5ms}; GC ${
    Object.entries(r.gc).map(([k, g]) => `${k} ${g.count}x max ${g.maxMs} ms`).join(', ') || 'none'}`;

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/** One request from the bench process itself (health checks; the load comes from the generator process). */
function get(url: URL, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: url.hostname, port: url.port, path, agent, headers: { authorization: `Bearer ${KEY}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const summary = (l: number[]) => ({ p50: quantile(l, 0.5), p95: quantile(l, 0.95), p99: quantile(l, 0.99), max: l.reduce((a, b) => Math.max(a, b), 0) });
const ms = (x: number) => `${x.toFixed(1)} ms`;
const round = (x: number, d = 2) => Number(x.toFixed(d));

/** The load generator process: run(spec) resolves with its result; stop() ends a run early. */
async function loadGenerator(): Promise<{ run(spec: LoadSpec): Promise<LoadResult>; stop(): void; close(): void; pid: number }> {
  const child = fork(join(import.meta.dirname, 'load-generator.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
  });
  return {
    pid: child.pid!,
    run: (spec) =>
      new Promise((resolve) => {
        child.once('message', (m: { result: LoadResult }) => resolve(m.result));
        child.send({ run: spec });
      }),
    stop: () => child.send({ stop: true }),
    close: () => child.send({ exit: true }),
  };
}

/** Generated once per size and column set (GENERATOR bumps when the generator changes), then copied per run. */
const GENERATOR = 2;
export async function cachedSnapshot(customers: number): Promise<{ dir: string; made: boolean; seconds: number }> {
  const columns = SERVED.map((d) => getDataset(d).columns.map((c) => `${c.name}:${JSON.stringify(c.type)}`).join(','));
  const key = createHash('sha1').update(JSON.stringify([GENERATOR, AS_OF, columns])).digest('hex').slice(0, 12);
  const dir = join(import.meta.dirname, '.cache', `serve-${customers}-${key}`);
  if (existsSync(join(dir, 'complete'))) return { dir, made: false, seconds: 0 };
  const t = performance.now();
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await writeSnapshot(join(building, 'lake'), customers);
  await writeFile(join(building, 'complete'), `${new Date().toISOString()}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(building, dir);
  return { dir, made: true, seconds: (performance.now() - t) / 1000 };
}

const SERVED = ['customer_profile', 'customer_identity_map', 'risk_scores', 'customer_segments', 'product_recommendations', 'dim_product', 'model_registry'];

/** Bytes of the profile body files the server wrote. */
async function bodyFileBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) if (/\.bodies\.\d+$/.test(f)) total += (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size;
  return total;
}

export const bench: Bench = {
  name: 'serve',
  description: 'c360 serve over a 1M-customer Gold snapshot: snapshot load, p99 of profile lookups at 500 requests/s, a snapshot swap under that load',
  async run(ctx) {
    const customers = Math.round(1_000_000 * ctx.scale);
    const home = join(ctx.workDir, 'home');
    const lakeDir = join(home, 'lake');
    const cache = await cachedSnapshot(customers);
    ctx.out(cache.made
      ? `synthetic Gold snapshot: ${customers.toLocaleString('en-US')} customers, 5 recommendations each, written in ${cache.seconds.toFixed(1)} s to ${cache.dir}`
      : `synthetic Gold snapshot of ${customers.toLocaleString('en-US')} customers from the cache ${cache.dir}`);
    await cp(join(cache.dir, 'lake'), lakeDir, { recursive: true });

    let t = performance.now();
    const { child, url: base } = await startServer([
      'serve', '--source', 'lake', '--home', home, '--port', '0', '--rate-limit', '0', '--poll', '1', '--audit-log', join(home, 'audit.jsonl'), '--json',
      '--api-key', `${KEY}:agent:bench`,
    ]);
    const url = new URL(base);
    const gen = await loadGenerator();
    const spec = (target: LoadSpec['target'], seconds: number): LoadSpec => ({ url: base, key: KEY, rate: RATE, seconds, target, customers });
    try {
      while ((await get(url, '/health')).status !== 200) {
        if (child.exitCode !== null) throw new Error('c360 serve exited before its first snapshot loaded');
        await new Promise((r) => setTimeout(r, 500));
      }
      const health = JSON.parse((await get(url, '/health')).body);
      const loadSeconds = (performance.now() - t) / 1000;
      const rssLoaded = rssMb(child.pid!);
      const bodyMb = Math.round((await bodyFileBytes(process.env.C360_SERVE_SNAPSHOT_DIR || join(home, 'tmp', 'serve'))) / 2 ** 20);
      ctx.out(`first snapshot loaded in ${loadSeconds.toFixed(1)} s (process start included); server RSS ${rssLoaded} MB; profile bodies ${bodyMb} MB on disk (page cache, not RSS); ${JSON.stringify(health.snapshot)}`);

      await gen.run(spec('c360', 3)); // warm-up
      const runtime = async () => JSON.parse((await get(url, '/health?runtime')).body).runtime as Runtime;

      /** One load phase: latency from due time and from send time, statuses, and the server's CPU per request. */
      const phase = async (label: string, target: LoadSpec['target'], seconds: number) => {
        await runtime();
        const cpu0 = cpuOf(child.pid!);
        const r = await gen.run(spec(target, seconds));
        const cpuUs = ((cpuOf(child.pid!) - cpu0) / r.requests) * 1e6;
        const inside = await runtime();
        const d = summary(r.latencies);
        const sv = summary(r.serviceLatencies);
        const slow = r.latencies.filter((x) => x > 20).length;
        ctx.out(`${label} at ${RATE}/s: ${r.requests} requests, p50 ${ms(d.p50)}, p95 ${ms(d.p95)}, p99 ${ms(d.p99)}, max ${ms(d.max)} from due time (from send: p99 ${ms(sv.p99)}); slower than 20 ms ${slow}; statuses ${JSON.stringify(r.statuses)}; server CPU ${cpuUs.toFixed(0)} us a request; generator: worst send lag ${ms(r.maxSendLagMs)}, ${r.connections} connections; ${runtimeText(inside)}`);
        return {
          server: inside,
          requests: r.requests, p50Ms: round(d.p50), p95Ms: round(d.p95), p99Ms: round(d.p99), maxMs: round(d.max, 1), fromSendP99Ms: round(sv.p99), slowerThan20Ms: slow,
          statuses: r.statuses, serverCpuUsPerRequest: Math.round(cpuUs), generatorMaxSendLagMs: round(r.maxSendLagMs, 1),
        };
      };
      // First as any process here, then with the server's and the generator's sessions and event loops ahead of the
      // other work on this shared machine (nice -10): the second is the server with the CPU it would have on a machine
      // of its own, the first what the machine's other load does to it.
      const shared = ONLY_SWAP ? null : {
        floor: await phase('floor GET /health', 'health', 10),
        c360: await phase('profile lookups by c360 id', 'c360', 20),
      };
      const rssServing = rssMb(child.pid!);
      // each in a session of its own (autogroup): the session's weight, then the event loop's within it
      const raised = [child.pid!, gen.pid].map((pid) => autogroupNice(pid, -10));
      setPriority(child.pid!, -10);
      setPriority(gen.pid, -10);
      if (!raised.every(Boolean)) ctx.out('(could not raise the sessions\' weight: only the event loops are at nice -10)');
      const ahead = ONLY_SWAP ? null : {
        floor: await phase('[nice -10] floor GET /health', 'health', 10),
        c360: await phase('[nice -10] profile lookups by c360 id', 'c360', 20),
        email: await phase('[nice -10] profile lookups by e-mail', 'email', 10),
      };
      ctx.out(`server RSS ${rssServing} MB serving`);
      // The control: the same load for as long as a swap takes, with no build: the slow requests the machine causes anyway.
      const control = CONTROL_SECONDS > 0 ? await phase(`[nice -10] control: lookups by c360 id for ${CONTROL_SECONDS} s, no build`, 'c360', CONTROL_SECONDS) : null;
      if (control) ctx.out(`  control: server loop stalls >= 20 ms ${JSON.stringify(control.server.stalls.filter(([, late]) => late >= 20))}`);

      // A new as-of date lands: the same files under the next date (the server sees a new fingerprint within 1 s).
      ctx.out(`pids: server ${child.pid}, load generator ${gen.pid}, bench ${process.pid}`);
      const swaps = [];
      for (let k = 0; k < SWAPS; k++) swaps.push(await swapOnce(k));
      return {
        customers, loadSeconds: round(loadSeconds, 1), rssLoadedMb: rssLoaded, rssServingMb: rssServing, bodyFileMb: bodyMb,
        shared, nice10: ahead, ratioP99ToFloor: ahead && shared ? round(ahead.c360.p99Ms / ahead.floor.p99Ms) : null,
        swap: swaps[0], swaps, slowDuringSwaps: swaps.map((x) => x.slowerThan20Ms), control,
      };

      async function swapOnce(k: number) {
        const date = addDays(NEXT, k);
        const h0 = JSON.parse((await get(url, '/health')).body);
        const swapsBefore = h0.snapshot.swaps as number;
        const swapStarted = performance.now();
        await runtime();
        let swapInside: Runtime | null = null;
        const stalls: [number, number][] = [];
        const serverSlow: [number, number][] = [];
        const swapRun = gen.run(spec('c360', 3600));
        const machine = machineSampler();
        const perf = PERF_DIR && k === 0 ? startPerf(join(PERF_DIR, `swap-${k + 1}.data`)) : null;
        await new Promise((r) => setTimeout(r, 2000));
        const landedEpoch = Date.now();
        for (const ds of SERVED) {
          const p = getDataset(ds).path;
          await cp(join(lakeDir, p, `as_of_date=${AS_OF}`), join(lakeDir, p, `as_of_date=${date}`), { recursive: true });
        }
        let peakRss = rssServing;
        let swappedAt = 0;
        let swappedEpoch = 0;
        while (!swappedAt) {
          await new Promise((r) => setTimeout(r, 250));
          peakRss = Math.max(peakRss, rssMb(child.pid!));
          const h = await get(url, '/health?runtime');
          const hb = JSON.parse(h.body);
          swapInside = mergeRuntime(swapInside, hb.runtime);
          stalls.push(...hb.runtime.stalls);
          serverSlow.push(...hb.runtime.slowRequests);
          if (h.status === 200 && hb.snapshot?.swaps > swapsBefore) {
            swappedAt = performance.now();
            swappedEpoch = Date.parse(hb.snapshot.loadedAt);
          }
          if (performance.now() - swapStarted > 3_000_000) throw new Error('no swap within 50 minutes');
        }
        await new Promise((r) => setTimeout(r, 3000)); // answers from the new snapshot
        gen.stop();
        const swap = await swapRun;
        await perf?.stop();
        const samples = machine.stop();
        const last = await runtime();
        swapInside = mergeRuntime(swapInside, last);
        stalls.push(...last.stalls);
        serverSlow.push(...last.slowRequests);
        const s = summary(swap.latencies);
        const sv = summary(swap.serviceLatencies);
        const failed = swap.requests - (swap.statuses['200'] ?? 0);
        const slow = swap.latencies.filter((x) => x > 20).length;
        const after = JSON.parse((await get(url, '/health')).body);
        // the slow ones by when they were due, against the moment the server swapped (its loadedAt): the build or the swap
        const slowBefore = swap.slow.filter((x) => x.dueEpochMs < swappedEpoch - 1000).length;
        const slowNear = swap.slow.filter((x) => Math.abs(x.dueEpochMs - swappedEpoch) <= 1000).length;
        const slowAfter = swap.slow.length - slowBefore - slowNear;
        // when the slow ones were due, by 10 s from the swap (negative: during the build)
        const slowBy10s: Record<string, number> = {};
        for (const x of swap.slow) {
          const key = String(Math.floor((x.dueEpochMs - swappedEpoch) / 10_000) * 10);
          slowBy10s[key] = (slowBy10s[key] ?? 0) + 1;
        }
        // the build step under way when each slow one was due (the steps the server's stderr logged, by end time)
        const steps = buildSteps.filter((x) => x.endEpoch >= landedEpoch);
        const stepAt = (epoch: number) => steps.find((x) => x.endEpoch >= epoch)?.what ?? 'after the build';
        const slowBySteps: Record<string, number> = {};
        for (const x of swap.slow) slowBySteps[stepAt(x.dueEpochMs)] = (slowBySteps[stepAt(x.dueEpochMs)] ?? 0) + 1;
        const near = (xs: [number, number][], epoch: number) => xs.filter(([e]) => Math.abs(e - epoch) < 200).map(([e, m]) => [e - epoch, m]);
        const worst = [...swap.slow].sort((a, b) => b.ms - a.ms).slice(0, 8).map((x) => ({
          dueFromSwapMs: x.dueEpochMs - swappedEpoch, ms: x.ms, fromSendMs: x.fromSendMs, step: stepAt(x.dueEpochMs),
          serverStallsNear: near(stalls, x.dueEpochMs), serverSlowNear: near(serverSlow, x.dueEpochMs),
        }));
        // each stall of the server's event loop beside the build step under way and what the machine did in the second before
        const stallsSeen = stalls.filter(([, late]) => late >= 20).map(([e, late]) => ({
          fromSwapMs: e - swappedEpoch, lateMs: late, step: stepAt(e), machineSecondBefore: machineBefore(samples, e + late),
        }));
        const whole = machineBefore(samples, samples.at(-1)!.t, samples.at(-1)!.t - samples[0]!.t);
        const rssAfter = rssMb(child.pid!);
        ctx.out(`[nice -10] swap ${k + 1} (${date}) under ${RATE}/s: new snapshot built and swapped in ${((swappedAt - swapStarted) / 1000 - 2).toFixed(1)} s after it landed; ${swap.requests} requests over ${swap.seconds.toFixed(1)} s, failed ${failed} (target 0), slower than 20 ms ${slow} (${((100 * slow) / swap.requests).toFixed(2)}%), p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} from due time (from send: p99 ${ms(sv.p99)}, max ${ms(sv.max)}); answers by as-of ${JSON.stringify(swap.asOfs)}; now serving ${after.snapshot.asOf}; server RSS peak ${peakRss} MB during the swap, ${rssAfter} MB after; slow ones due during the build ${slowBefore}, within 1 s of the swap ${slowNear}, after ${slowAfter}; slow ones by 10 s from the swap ${JSON.stringify(slowBy10s)}; by build step ${JSON.stringify(slowBySteps)}; ${runtimeText(swapInside!)}; server loop stalls > 10 ms ${stalls.length} (worst ${Math.max(0, ...stalls.map((x) => x[1]))} ms)`);
        ctx.out(`  build steps (s from landing, s taken): ${steps.map((x) => `${((x.endEpoch - landedEpoch) / 1000).toFixed(1)} ${x.what} (${x.seconds})`).join('; ')}`);
        ctx.out(`  worst slow ones: ${JSON.stringify(worst)}`);
        ctx.out(`  server loop stalls >= 20 ms: ${JSON.stringify(stallsSeen)}; machine over the swap: host steal ${whole.stealTicks} ticks, memory reported to the host ${whole.reportedMib} MiB`);
        return {
          asOf: date, buildSeconds: round((swappedAt - swapStarted) / 1000 - 2, 1), requests: swap.requests, seconds: round(swap.seconds, 1), failed, slowerThan20Ms: slow,
          p50Ms: round(s.p50), p99Ms: round(s.p99), maxMs: round(s.max, 1), fromSendP99Ms: round(sv.p99), byAsOf: swap.asOfs, servingAfter: after.snapshot.asOf,
          rssPeakDuringSwapMb: peakRss, rssAfterSwapMb: rssAfter,
          slowDuringBuild: slowBefore, slowNearSwap: slowNear, slowAfterSwap: slowAfter, slowBy10sFromSwap: slowBy10s, slowByBuildStep: slowBySteps, worst,
          serverLoopStalls: stalls.length, stallsOver20Ms: stallsSeen, machine: whole, server: { ...swapInside!, stalls: undefined, slowRequests: undefined },
        };
      }
    } finally {
      gen.close();
      await stopChild(child);
    }
  },
};
