// The feature snapshot of daily runs (src/intelligence/daily-inputs.ts): summed from day-partitioned aggregates that the
// features job recomputes only for the days Silver changed. History then each day, one run at a time, gives the
// aggregates and snapshot one full refresh of the same drops gives (apart from how persons are numbered), and the
// snapshot equals the one built from a load of all of Silver (the definition the models train on).
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featuresJob } from '../jobs/gold-intelligence-features.ts';
import { recommendationsJob } from '../jobs/gold-intelligence-recommendations.ts';
import { MASTER } from '../pipelines/master.ts';
import type { MasterPipeline } from '../pipelines/ir.ts';
import { datasetDataFiles, readDatasetState } from '../src/catalogue/partitioned.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { maintainAggregate } from '../src/gold/daily-aggregates.ts';
import { goldDir } from '../src/gold/paths.ts';
import { MODEL_AGGREGATES, modelCustomerDaily, modelPreferenceDaily, modelProductDaily } from '../src/intelligence/daily-inputs.ts';
import { buildSnapshot } from '../src/intelligence/features.ts';
import { loadSilver } from '../src/intelligence/input.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { parquetFiles } from '../src/lake/parquet.ts';
import { makeJobContext, runPipeline } from '../src/orchestrator/local-runner.ts';
import type { JobContext } from '../src/runtime/job.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import type { DailyDropsResult } from '../src/sample/daily-drops.ts';
import { makeDailyDrops } from './fixtures/daily-lake.ts';

/** Bronze and Silver only: the features job runs on its own after each run. */
const SILVER_PIPELINE: MasterPipeline = { ...MASTER, stages: MASTER.stages.filter((s) => ['bronze_ingestion', 'silver_processing'].includes(s.name)) };

let dir: string;
let drops: DailyDropsResult;
let asOf: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-intel-daily-'));
  drops = await makeDailyDrops(dir, { customers: 80, days: 8, dailyDrops: 2 });
  asOf = drops.days.at(-1)!.date;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(home: string, params: Record<string, string>): Promise<JobContext> {
  const lake = new LocalLake(join(home, 'lake'));
  const m = await runPipeline({ home, lake, log: silentLogger, asOf, pipeline: SILVER_PIPELINE, params: { fullRefresh: 'false', ...params } });
  expect(m.status).toBe('succeeded');
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params: { fullRefresh: params.fullRefresh ?? 'false' } });
  await featuresJob.run(ctx);
  return ctx;
}

/** Rows of the feature snapshot and the model aggregates, person ids replaced by a label from their source records. */
async function comparable(home: string): Promise<Record<string, string[]>> {
  const lake = new LocalLake(join(home, 'lake'));
  const e = await Engine.open();
  try {
    const read = async (files: string[]) =>
      files.length ? e.all<Record<string, unknown>>(`SELECT * FROM read_parquet(${litList(await Promise.all(files.map((f) => lake.localPath(f))))}, union_by_name = true, hive_partitioning = false)`) : [];
    const label = new Map<string, string>();
    const members = new Map<string, string[]>();
    for (const r of await read(await datasetDataFiles(lake, 'silver/customer360/identity/crosswalk'))) {
      const id = String(r.CUSTOMER360_ID);
      (members.get(id) ?? members.set(id, []).get(id)!).push(`${r.SOURCE_SYSTEM}|${r.CUSTOMER_ID}`);
    }
    for (const [id, m] of members) label.set(id, `person:${m.sort()[0]}`);
    const rows = (rs: Record<string, unknown>[]) =>
      rs.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'FEATURE_SNAPSHOT_VERSION').map(([k, v]) => [k, typeof v === 'string' && label.has(v) ? label.get(v) : v])))).sort();
    const out: Record<string, string[]> = { feature_snapshots: rows(await read(await parquetFiles(lake, goldDir('feature_snapshots', asOf)))) };
    for (const ds of MODEL_AGGREGATES) out[ds.name] = rows(await read(await datasetDataFiles(lake, ds.path)));
    return out;
  } finally {
    e.close();
  }
}

const rankedState = (home: string) => join(home, 'lake', 'gold', 'models', 'gold-intelligence-recommendations', 'ranked.json');

/** The recommendations job alone on a home's lake; its product recommendations as JSON rows. */
async function recs(home: string, params: Record<string, string> = {}): Promise<{ ctx: JobContext; rows: string[] }> {
  const lake = new LocalLake(join(home, 'lake'));
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params });
  await recommendationsJob.run(ctx);
  const r = await Engine.open();
  try {
    const files = await Promise.all((await parquetFiles(lake, goldDir('product_recommendations', asOf))).map((f) => lake.localPath(f)));
    return { ctx, rows: (await r.all(`SELECT * FROM read_parquet(${litList(files)}, hive_partitioning = false) ORDER BY ALL`)).map((x) => JSON.stringify(x)) };
  } finally {
    r.close();
  }
}

/** Rows (JSON, without the as-of date) by customer. */
function byCustomer(rows: string[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) {
    const { CUSTOMER360_ID: id, AS_OF_DATE: _d, ...rest } = JSON.parse(r) as Record<string, unknown>;
    (m.get(String(id)) ?? m.set(String(id), []).get(String(id))!).push(JSON.stringify(rest));
  }
  return m;
}

/** The customers' input fingerprints the last ranking stored (rerank.ts), by customer. */
async function fingerprints(home: string): Promise<Map<string, string>> {
  const lake = new LocalLake(join(home, 'lake'));
  const state = JSON.parse(await readFile(rankedState(home), 'utf8')) as { fingerprints: string };
  const e = await Engine.open();
  try {
    const rows = await e.all<{ id: string; fp: string }>(`SELECT CUSTOMER360_ID AS id, FP::VARCHAR || '/' || N AS fp FROM read_parquet(${litList([await lake.localPath(state.fingerprints)])}) WHERE POPULATION`);
    return new Map(rows.map((r) => [r.id, r.fp]));
  } finally {
    e.close();
  }
}

/**
 * What each customer's recommendations read of the model aggregates: purchase lines and views, the products returned
 * (whatever the day or count), and the category, brand and product preferences.
 */
async function customerInputs(home: string): Promise<Map<string, string>> {
  const lake = new LocalLake(join(home, 'lake'));
  const e = await Engine.open();
  try {
    const out = new Map<string, string>();
    const read = {
      [modelProductDaily.name]: (r: string) => `SELECT * FROM ${r} WHERE KIND <> 'return' UNION ALL SELECT DISTINCT 'return', CUSTOMER360_ID, NULL, PRODUCT_ID, NULL, NULL, NULL, NULL FROM ${r} WHERE KIND = 'return'`,
      [modelPreferenceDaily.name]: (r: string) => `SELECT * FROM ${r} WHERE PREFERENCE_TYPE IN ('CATEGORY', 'BRAND', 'PRODUCT')`,
    };
    for (const ds of [modelProductDaily, modelPreferenceDaily]) {
      const files = await Promise.all((await datasetDataFiles(lake, ds.path)).map((f) => lake.localPath(f)));
      const rows = await e.all<{ id: string; rows: string }>(`SELECT CUSTOMER360_ID AS id, string_agg(to_json(t)::VARCHAR, '|' ORDER BY to_json(t)::VARCHAR) AS rows
        FROM (${read[ds.name]!(`read_parquet(${litList(files)}, union_by_name = true, hive_partitioning = false)`)}) t GROUP BY 1`);
      for (const r of rows) out.set(r.id, `${out.get(r.id) ?? ''}${ds.name}:${r.rows}`);
    }
    return out;
  } finally {
    e.close();
  }
}

describe('feature snapshot from daily aggregates', () => {
  it('history then each day equals one full refresh, and equals the snapshot of a load of all of Silver', async () => {
    const inc = join(dir, 'incremental');
    await run(inc, { input: drops.history });
    // The history's recommendations (a training run: nothing stored), for the daily ranking below.
    const historyRanking = await recs(inc);
    expect(historyRanking.ctx.report.metrics.training).toMatchObject({ train: true });
    // The training run stores its global signals (stored-signals.ts), named in trained.json, for the runs in between.
    const storedSignals = async (home: string) => {
      const t = JSON.parse(await readFile(join(home, 'lake', 'gold', 'models', 'gold-intelligence-recommendations', 'trained.json'), 'utf8')) as { signals: { dir: string } };
      const files = await new LocalLake(join(home, 'lake')).list('gold/models/gold-intelligence-recommendations');
      return { dir: t.signals.dir, folders: [...new Set(files.map((f) => f.path.split('/')[3]!).filter((f) => f.startsWith('signals-')))] };
    };
    const historySignals = await storedSignals(inc);
    expect(historySignals.folders).toEqual([historySignals.dir.split('/').at(-1)]);
    const [fpBefore, inputsBefore] = [await fingerprints(inc), await customerInputs(inc)];
    for (const day of drops.days) {
      const ctx = await run(inc, { input: day.dir });
      // Only the days Silver changed were recomputed, from those days' partitions.
      const m = ctx.report.metrics[`${modelCustomerDaily.name}.maintain`] as { mode: string; days: number };
      expect(m.mode).toBe('incremental');
      expect(m.days).toBeGreaterThan(0);
      const held = Object.keys((await readDatasetState(ctx.lake, modelCustomerDaily.path))!.partitions).length;
      expect(m.days).toBeLessThan(held);
      const events = ctx.report.inputs.filter((f) => f.startsWith('silver/customer360/behavioral/'));
      expect(events.length).toBeGreaterThan(0);
      expect(new Set(events).size).toBeLessThan((await datasetDataFiles(ctx.lake, 'silver/customer360/behavioral')).length);
    }
    const incremental = await comparable(inc);

    const full = join(dir, 'full');
    for (const layer of ['bronze', 'quarantine']) await cp(join(inc, 'lake', layer), join(full, 'lake', layer), { recursive: true });
    const rebuilt = await run(full, { fullRefresh: 'true' });
    expect((rebuilt.report.metrics[`${modelCustomerDaily.name}.maintain`] as { mode: string }).mode).toBe('full');
    const reference = await comparable(full);
    expect(reference.feature_snapshots!.length).toBeGreaterThan(50);
    expect(reference.model_product_daily!.length).toBeGreaterThan(100);
    for (const [name, rows] of Object.entries(reference)) expect(incremental[name], name).toEqual(rows);

    // The same lake's snapshot built from a load of all of Silver: identical rows, version included.
    const lake = new LocalLake(join(inc, 'lake'));
    const e = await Engine.open();
    try {
      await loadSilver(e, lake, asOf);
      const fromSilver = await buildSnapshot(e, asOf);
      const files = await Promise.all((await parquetFiles(lake, goldDir('feature_snapshots', asOf))).map((f) => lake.localPath(f)));
      const stored = await e.all(`SELECT * FROM read_parquet(${litList(files)}, hive_partitioning = false) ORDER BY CUSTOMER360_ID`);
      const loaded = await e.all(`SELECT * FROM ${fromSilver.table} ORDER BY CUSTOMER360_ID`);
      expect(stored.length).toBeGreaterThan(50);
      expect(stored.map((r) => JSON.stringify(r))).toEqual(loaded.map((r) => JSON.stringify(r)));
      expect(stored.filter((r) => Number(r.DISTINCT_PRODUCTS) > 0 && Number(r.SESSIONS_90D) > 0).length).toBeGreaterThan(10);
    } finally {
      e.close();
    }

    // Daily recommendations (rerank.ts): only the customers whose own inputs changed since the history's ranking are
    // ranked again: every customer whose model-aggregate rows changed is among them, their lists are those ranking
    // everyone gives, and everyone else keeps the history's list.
    const killed = join(dir, 'killed');
    await cp(inc, killed, { recursive: true });
    const daily = await recs(inc);
    expect(daily.ctx.report.metrics.training).toMatchObject({ train: false });
    expect(daily.ctx.report.metrics.globalSignals).toMatch(/^stored by the training run/);
    expect(daily.ctx.report.inputs.some((f) => f.startsWith(`${historySignals.dir}/`))).toBe(true);
    const ranking = daily.ctx.report.metrics.ranking as { customers: number; ranked: number; kept: number };
    const fpAfter = await fingerprints(inc);
    const reranked = new Set([...fpAfter].filter(([id, fp]) => fpBefore.get(id) !== fp).map(([id]) => id));
    expect(ranking.ranked).toBe(reranked.size);
    expect(ranking.ranked).toBeGreaterThan(0);
    expect(ranking.kept).toBeGreaterThan(0);
    const inputsAfter = await customerInputs(inc);
    const changed = [...inputsAfter].filter(([id, rows]) => inputsBefore.get(id) !== rows).map(([id]) => id);
    expect(changed.length).toBeGreaterThan(0);
    for (const id of changed) expect(reranked.has(id), id).toBe(true);
    const other = join(dir, 'everyone');
    await cp(inc, other, { recursive: true });
    await rm(rankedState(other));
    const everyone = await recs(other);
    expect(everyone.ctx.report.metrics.ranking).toMatchObject({ kept: 0 });
    // The daily run's fingerprints added the changed days to the history's (rerank.ts); hashing every day again
    // (no ranking state) gives the same ones.
    expect(daily.ctx.report.metrics.fingerprints).toMatchObject({ mode: 'incremental' });
    expect(everyone.ctx.report.metrics.fingerprints).toMatchObject({ mode: 'full' });
    expect([...fpAfter].sort()).toEqual([...(await fingerprints(other))].sort());
    expect(everyone.ctx.report.inputs.some((f) => f.startsWith('silver/'))).toBe(false);
    expect(everyone.ctx.report.inputs.some((f) => f.includes('model_session_product_daily'))).toBe(true);
    const [incBy, allBy, histBy] = [byCustomer(daily.rows), byCustomer(everyone.rows), byCustomer(historyRanking.rows)];
    expect([...incBy.keys()].sort()).toEqual([...allBy.keys()].sort());
    for (const [id, rows] of incBy) expect(rows, id).toEqual(reranked.has(id) ? allBy.get(id) : histBy.get(id));
    // Killed with SIGKILL after writing the day's recommendations, before recording the ranking; run again: the
    // output an uninterrupted run gives.
    const child = spawnSync(process.execPath, [join(import.meta.dirname, 'fixtures', 'recommendations-run.mjs'), killed, asOf], {
      env: { ...process.env, C360_FAULT: 'gold-intelligence-recommendations:ranked' }, encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const resumed = await recs(killed);
    expect(resumed.ctx.report.metrics.ranking).toMatchObject({ ranked: ranking.ranked });
    expect(resumed.rows).toEqual(daily.rows);

    // A training run (all of Silver loaded) and a run with its stored tuning (the snapshot and the model aggregates)
    // that ranks everyone rank the same; the same day again ranks nobody and changes nothing.
    const trained = await recs(other, { train: 'true' });
    expect(trained.ctx.report.metrics.training).toMatchObject({ train: true });
    // A new model version's signals replace the last one's (one folder kept).
    const retrainedSignals = await storedSignals(other);
    expect(retrainedSignals.dir).not.toBe(historySignals.dir);
    expect(retrainedSignals.folders).toEqual([retrainedSignals.dir.split('/').at(-1)]);
    await rm(rankedState(other));
    const stored = await recs(other);
    expect(stored.ctx.report.metrics).toMatchObject({ training: { train: false }, ranking: { kept: 0 } });
    expect(trained.rows.length).toBeGreaterThan(500);
    expect(trained.rows.filter((r) => r.includes('ALSO_BOUGHT')).length).toBeGreaterThan(0);
    expect(stored.rows).toEqual(trained.rows);
    const rerun = await recs(other);
    expect(rerun.ctx.report.metrics.ranking).toMatchObject({ ranked: 0 });
    expect(rerun.rows).toEqual(trained.rows);

    // A corrected transaction item alone (items are one Silver file, no day partitions): the day of its transaction is
    // recomputed (found through the staged changes), and the aggregates equal a recomputation of every day.
    const fix = join(dir, 'fix');
    await mkdir(fix, { recursive: true });
    const w = await Engine.open();
    try {
      await w.run(`COPY (SELECT * REPLACE ('RETURNED' AS ITEM_STATUS) FROM read_parquet(${litList([join(drops.history, 'CUSTOMER_TRANSACTION_ITEMS.parquet')])})
        WHERE ITEM_STATUS = 'SOLD' ORDER BY ITEM_ID LIMIT 1) TO '${join(fix, 'CUSTOMER_TRANSACTION_ITEMS.parquet')}' (FORMAT parquet)`);
    } finally {
      w.close();
    }
    const corrected = await run(inc, { input: fix });
    const m = corrected.report.metrics[`${modelProductDaily.name}.maintain`] as { mode: string; days: number };
    expect(m).toMatchObject({ mode: 'incremental', days: 1 });
    const after = await comparable(inc);
    expect(after.model_product_daily).not.toEqual(incremental.model_product_daily);
    const again = join(dir, 'recomputed');
    await cp(inc, again, { recursive: true });
    await featuresJob.run(makeJobContext({ home: again, lake: new LocalLake(join(again, 'lake')), log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params: { fullRefresh: 'true' } }));
    const recomputed = await comparable(again);
    for (const ds of MODEL_AGGREGATES) expect(after[ds.name], ds.name).toEqual(recomputed[ds.name]);

    // Another definition of an aggregate (new code) recomputes every day once, then maintains as before.
    const redefined = { ...modelPreferenceDaily, daySql: (d: string) => `${modelPreferenceDaily.daySql(d)} /* v2 */` };
    const ctx = makeJobContext({ home: again, lake: new LocalLake(join(again, 'lake')), log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params: {} });
    const g = await Engine.open();
    try {
      expect((await maintainAggregate(ctx, g, redefined, { full: false })).mode).toBe('full');
      expect((await maintainAggregate(ctx, g, redefined, { full: false })).mode).toBe('unchanged');
    } finally {
      g.close();
    }
  }, 180_000);
});
