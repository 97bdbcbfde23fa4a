// The profile API under load, server and load generator in separate processes on this machine:
//   0. a synthetic Gold snapshot of 1M customers (scale 1) in a local lake, every served dataset with its declared
//      columns (profile, identity map, scores, segments, 5 recommendations each, products, registry), written by DuckDB;
//   1. `c360 serve --source lake` loads it: seconds to the first snapshot and the server's RSS;
//   2. floor: GET /health at 500 requests/s (HTTP, routing and the server's event loop, no data);
//   3. lookups: GET /customer/profile/c360:<random person> (the whole profile: row, identifiers, recommendations,
//      models) at 500 requests/s, open loop, latency from each request's scheduled time (target p99 < 20 ms);
//   4. swap: a new as-of date lands in the lake during the same load; the server builds the new snapshot beside the
//      current one and swaps: failed requests (target 0), requests slower than 20 ms, p99, and the new date served.
// --scale multiplies the customers (scale 1: 1,000,000) and not the durations (15 s floor, 20 s lookups, swap to done).
import { cp, mkdir } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { Bench } from '../src/cli/commands/bench.ts';
import { duckType } from '../src/catalogue/dataset.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { Engine, ident, lit } from '../src/engine/duckdb.ts';
import type { LogicalType } from '../src/warehouse/types.ts';
import { rssMb, startCli, stopChild } from './cli-process.ts';

const KEY = 'bench-agent-key-0123456789';
const AS_OF = '2026-06-30';
const NEXT = '2026-07-01';
const RATE = 500;

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

const startServer = (args: string[]) =>
  startCli(args, (l) => l.startsWith('http'), { C360_API_KEYS: '' }).then(({ child, line }) => ({ child, url: line }));

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

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

/**
 * Open-loop load: `rate` requests per second until `until()` is true (checked each tick) or `seconds` passed. Latency
 * counts from each request's scheduled time, so a stalled server is not hidden by requests that were sent late.
 */
async function fixedRate(url: URL, path: () => string, seconds: number, until: () => boolean = () => false) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const asOfs: Record<string, number> = {};
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000 && !until()) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE) + 1;
    for (; sent < due; sent++) {
      const scheduled = start + (sent / RATE) * 1000;
      pending.push(
        get(url, path()).then((r) => {
          latencies.push(performance.now() - scheduled);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          const m = /"AS_OF_DATE":"([\d-]+)"/.exec(r.body);
          if (m) asOfs[m[1]!] = (asOfs[m[1]!] ?? 0) + 1;
        }),
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  return { latencies, statuses, asOfs, seconds: (performance.now() - start) / 1000, requests: sent };
}

const summary = (l: number[]) => ({ p50: quantile(l, 0.5), p95: quantile(l, 0.95), p99: quantile(l, 0.99), max: Math.max(...l) });
const ms = (x: number) => `${x.toFixed(1)} ms`;

export const bench: Bench = {
  name: 'serve',
  description: 'c360 serve over a 1M-customer Gold snapshot: snapshot load, p99 of profile lookups at 500 requests/s, a snapshot swap under that load',
  async run(ctx) {
    const customers = Math.round(1_000_000 * ctx.scale);
    const home = join(ctx.workDir, 'home');
    const lakeDir = join(home, 'lake');
    let t = performance.now();
    await writeSnapshot(lakeDir, customers);
    ctx.out(`synthetic Gold snapshot: ${customers.toLocaleString('en-US')} customers, 5 recommendations each, in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    t = performance.now();
    const { child, url: base } = await startServer([
      'serve', '--source', 'lake', '--home', home, '--port', '0', '--rate-limit', '0', '--poll', '1', '--audit-log', join(home, 'audit.jsonl'), '--json',
      '--api-key', `${KEY}:agent:bench`,
    ]);
    const url = new URL(base);
    try {
      let health: Record<string, any> = {};
      while ((await get(url, '/health')).status !== 200) await new Promise((r) => setTimeout(r, 200));
      health = JSON.parse((await get(url, '/health')).body);
      const loadSeconds = (performance.now() - t) / 1000;
      const rssLoaded = rssMb(child.pid!);
      ctx.out(`first snapshot loaded in ${loadSeconds.toFixed(1)} s (process start included); server RSS ${rssLoaded} MB; ${JSON.stringify(health.snapshot)}`);

      const randomId = () => `/customer/profile/c360:${encodeURIComponent(`C360-${Math.floor(Math.random() * customers).toString(16).toUpperCase().padStart(16, '0')}`)}`;
      // warm-up: page the indexes and prepared statements in
      await fixedRate(url, randomId, 3);

      const floor = await fixedRate(url, () => '/health', 15);
      const f = summary(floor.latencies);
      ctx.out(`floor GET /health at ${RATE}/s: p50 ${ms(f.p50)}, p99 ${ms(f.p99)}, max ${ms(f.max)}; statuses ${JSON.stringify(floor.statuses)}`);

      const look = await fixedRate(url, randomId, 20);
      const l = summary(look.latencies);
      const rssServing = rssMb(child.pid!);
      ctx.out(`profile lookups at ${RATE}/s: ${look.requests} requests, p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)} (target < 20 ms), max ${ms(l.max)}; statuses ${JSON.stringify(look.statuses)}; p99 / floor p99 ${(l.p99 / f.p99).toFixed(2)}x; server RSS ${rssServing} MB`);

      // A new as-of date lands: the same files under the next date (the server sees a new fingerprint within 1 s).
      const swapsBefore = health.snapshot.swaps as number;
      const lands = (async () => {
        await new Promise((r) => setTimeout(r, 2000));
        for (const ds of ['customer_profile', 'customer_identity_map', 'risk_scores', 'customer_segments', 'product_recommendations', 'dim_product', 'model_registry']) {
          const p = getDataset(ds).path;
          await cp(join(lakeDir, p, `as_of_date=${AS_OF}`), join(lakeDir, p, `as_of_date=${NEXT}`), { recursive: true });
        }
      })();
      let swapped = false;
      let peakRss = rssServing;
      const watch = setInterval(async () => {
        peakRss = Math.max(peakRss, rssMb(child.pid!));
        const h = await get(url, '/health');
        if (h.status === 200 && JSON.parse(h.body).snapshot?.swaps > swapsBefore) swapped = true;
      }, 250);
      let afterSwap = 0;
      const swapRun = await fixedRate(url, randomId, 600, () => (swapped ? ++afterSwap > 500 : false));
      clearInterval(watch);
      await lands;
      const s = summary(swapRun.latencies);
      const failed = swapRun.requests - (swapRun.statuses['200'] ?? 0);
      const slow = swapRun.latencies.filter((x) => x > 20).length;
      const after = JSON.parse((await get(url, '/health')).body);
      ctx.out(`swap under ${RATE}/s: ${swapRun.requests} requests over ${swapRun.seconds.toFixed(1)} s, failed ${failed} (target 0), slower than 20 ms ${slow} (${((100 * slow) / swapRun.requests).toFixed(2)}%), p99 ${ms(s.p99)}, max ${ms(s.max)}; answers by as-of ${JSON.stringify(swapRun.asOfs)}; now serving ${after.snapshot.asOf}, peak server RSS ${peakRss} MB`);
      return {
        customers, loadSeconds: Number(loadSeconds.toFixed(1)), rssLoadedMb: rssLoaded, rssServingMb: rssServing, rssPeakDuringSwapMb: peakRss,
        floorP99Ms: Number(f.p99.toFixed(2)),
        lookup: { requests: look.requests, p50Ms: Number(l.p50.toFixed(2)), p95Ms: Number(l.p95.toFixed(2)), p99Ms: Number(l.p99.toFixed(2)), maxMs: Number(l.max.toFixed(1)), statuses: look.statuses },
        ratioP99ToFloor: Number((l.p99 / f.p99).toFixed(2)),
        swap: { requests: swapRun.requests, seconds: Number(swapRun.seconds.toFixed(1)), failed, slowerThan20Ms: slow, p99Ms: Number(s.p99.toFixed(2)), maxMs: Number(s.max.toFixed(1)), byAsOf: swapRun.asOfs, servingAfter: after.snapshot.asOf },
      };
    } finally {
      await stopChild(child);
    }
  },
};
