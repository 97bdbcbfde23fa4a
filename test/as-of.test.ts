// One as-of date per run (issue 12's repro): a sample whose transactions stop a week before its events. The run
// resolves the as-of date once (the latest event date), every job gets it, every Gold dataset is written for it, the
// warehouse load finds and loads every table, and a load that would leave a table behind fails instead of
// reporting success. `c360 job gold-customer --param asOf=D` writes D.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseLoadJob } from '../jobs/warehouse-load.ts';
import { CATALOGUE } from '../src/catalogue/index.ts';
import { main } from '../src/cli/main.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { GOLD_ROOT } from '../src/gold/paths.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runJob, runPipeline } from '../src/orchestrator/local-runner.ts';
import { resolveAsOf } from '../src/runtime/as-of.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import type { RunManifest } from '../src/runtime/manifest.ts';
import { generateSample } from '../src/sample/generate.ts';
import { WAREHOUSE_TABLES } from '../src/warehouse/model.ts';

let home: string;
let lake: LocalLake;
let manifest: RunManifest;
/** The latest event date of the sample, and the day transactions stop (a week earlier). */
let lastEvent: string;
let lastPurchase: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-asof-'));
  const sample = join(home, 'sample');
  await generateSample({ customers: 120, days: 30, seed: 12, out: sample });
  const e = await Engine.open();
  try {
    const file = (t: string) => lit(join(sample, `${t}.parquet`));
    lastEvent = (await e.scalar<string>(`SELECT CAST(max(TRY_CAST(EVENT_DATE AS TIMESTAMP))::DATE AS VARCHAR) FROM read_parquet(${file('CUSTOMER_BEHAVIORAL_EVENTS')})`))!;
    // Transactions (and their items) stop seven days before the last event.
    const cut = `TRY_CAST(TRANSACTION_DATE AS TIMESTAMP)::DATE <= DATE '${lastEvent}' - INTERVAL 7 DAY`;
    await e.run(`CREATE TABLE tx AS SELECT * FROM read_parquet(${file('CUSTOMER_TRANSACTIONS')}) WHERE ${cut}`);
    await e.run(`CREATE TABLE items AS SELECT * FROM read_parquet(${file('CUSTOMER_TRANSACTION_ITEMS')}) WHERE TRANSACTION_ID IN (SELECT TRANSACTION_ID FROM tx)`);
    await e.run(`COPY tx TO ${file('CUSTOMER_TRANSACTIONS')} (FORMAT parquet); COPY items TO ${file('CUSTOMER_TRANSACTION_ITEMS')} (FORMAT parquet)`);
    lastPurchase = (await e.scalar<string>(`SELECT CAST(max(TRY_CAST(TRANSACTION_DATE AS TIMESTAMP))::DATE AS VARCHAR) FROM tx`))!;
  } finally {
    e.close();
  }
  lake = new LocalLake(join(home, 'lake'));
  manifest = await runPipeline({ home, lake, log: silentLogger, runDate: lastEvent, params: { input: sample }, retryIntervalOverride: 0 });
}, 300_000);
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('one as-of date per run', () => {
  it('the sample really has transactions stop a week before the events', () => {
    expect(lastPurchase < lastEvent).toBe(true);
  });

  it('is resolved once from the data, recorded in the manifest and given to every job that uses it', () => {
    const failed = manifest.jobs.find((j) => j.status === 'failed');
    expect(failed?.error?.message, failed?.activity).toBeUndefined();
    expect(manifest.status).toBe('succeeded');
    expect([manifest.asOf, manifest.asOfSource]).toEqual([lastEvent, 'data']);
    const dated = manifest.jobs.filter((j) => /^(silver-|gold-|warehouse-)/.test(j.job) && j.asOf !== undefined);
    expect(dated.map((j) => j.job)).toEqual(expect.arrayContaining(['gold-customer', 'gold-intelligence-scores', 'gold-intelligence-recommendations', 'warehouse-load']));
    for (const j of dated) expect(j.asOf, j.activity).toBe(lastEvent);
  });

  it('writes every Gold dataset for that date and no other', async () => {
    const dates = new Map<string, Set<string>>();
    for (const f of await lake.list(GOLD_ROOT)) {
      const [dataset, folder] = f.path.slice(GOLD_ROOT.length + 1).split('/');
      dates.set(dataset!, (dates.get(dataset!) ?? new Set()).add(folder!));
    }
    expect(dates.size).toBeGreaterThanOrEqual(27);
    // a dataset merged by key (customer_id_redirects) holds one current version, not a snapshot per date
    const kind = (dataset: string) => CATALOGUE.find((d) => d.path === `${GOLD_ROOT}/${dataset}`)?.maintenance;
    const snapshots = [...dates].filter(([dataset]) => kind(dataset) !== 'merge-by-key' && kind(dataset) !== 'incremental-by-time');
    expect(snapshots.length).toBeLessThan(dates.size);
    for (const [dataset, folders] of snapshots) expect([...folders], dataset).toEqual([`as_of_date=${lastEvent}`]);
    // a dataset partitioned by day (the facts) holds the days up to the as-of date, and its state
    const byDay = [...dates].filter(([dataset]) => kind(dataset) === 'incremental-by-time');
    expect(byDay.length).toBeGreaterThan(0);
    for (const [dataset, folders] of byDay) {
      for (const f of folders) expect(f === '_state.json' || (/^event_date=\d{4}-\d{2}-\d{2}$/.test(f) && f.slice(11) <= lastEvent), `${dataset}/${f}`).toBe(true);
    }
  });

  it('loads every warehouse table for that date, scores and segments included', async () => {
    const e = await Engine.open({ path: join(home, 'warehouse.duckdb') });
    try {
      const audit = await e.all<{ t: string; d: string }>(`SELECT SCHEMA_NAME || '.' || TABLE_NAME AS t, CAST(AS_OF_DATE AS VARCHAR) AS d FROM OPS.LOAD_AUDIT ORDER BY 1`);
      expect(audit.map((a) => a.t)).toEqual(WAREHOUSE_TABLES.map((t) => `${t.schema}.${t.name}`).sort());
      for (const a of audit) expect(a.d, a.t).toBe(lastEvent);
      for (const t of ['CUSTOMER_RISK_SCORES', 'CUSTOMER_SEGMENTS', 'MODEL_REGISTRY']) {
        expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.${t}`)), t).toBeGreaterThan(0);
      }
      expect(Number(await e.scalar(`SELECT count(*) FROM RECOMMENDATIONS.PRODUCT_RECOMMENDATIONS WHERE AS_OF_DATE = DATE '${lastEvent}'`))).toBeGreaterThan(0);
    } finally {
      e.close();
    }
  });

  it('a load that would leave a table unloaded fails, naming it, and changes nothing', async () => {
    const gone = `${GOLD_ROOT}/risk_scores/as_of_date=${lastEvent}`;
    const saved = await lake.read(`${gone}/part-00000.parquet`);
    await lake.delete(gone);
    try {
      const entry = await runJob(warehouseLoadJob, { home, lake, log: silentLogger, runId: 'r2', loadId: 'l2', runDate: lastEvent, asOf: lastEvent }, {},
        { activity: 'warehouse_load', stage: 'load', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 5 });
      expect(entry.status).toBe('failed');
      expect(entry.error?.message).toMatch(/CUSTOMER_360\.CUSTOMER_RISK_SCORES.*nothing was loaded/);
      const e = await Engine.open({ path: join(home, 'warehouse.duckdb') });
      try {
        expect(Number(await e.scalar(`SELECT count(*) FROM CUSTOMER_360.DIM_CUSTOMER WHERE _LOAD_ID = 'l2'`))).toBe(0);
      } finally {
        e.close();
      }
    } finally {
      await lake.write(`${gone}/part-00000.parquet`, saved);
    }
  });

  it('c360 job gold-customer --param asOf=D writes D', async () => {
    const d = '2026-10-20' < lastEvent ? '2026-10-20' : lastPurchase;
    const code = await main(['job', 'gold-customer', '--param', `asOf=${d}`, '--home', home, '--json']);
    expect(code).toBe(0);
    expect((await lake.list(`${GOLD_ROOT}/customer_profile/as_of_date=${d}`)).length).toBe(1);
    const profile = await lake.localPath(`${GOLD_ROOT}/customer_profile/as_of_date=${d}/part-00000.parquet`);
    const e = await Engine.open();
    try {
      expect(await e.scalar(`SELECT DISTINCT CAST(AS_OF_DATE AS VARCHAR) FROM read_parquet(${lit(profile)})`)).toBe(d);
    } finally {
      e.close();
    }
  });

  it('--as-of and --param asOf must agree', async () => {
    await expect(resolveAsOf({ option: '2026-01-02', param: '2026-01-03', lake, openEngine: () => Engine.open() })).rejects.toThrow(/disagree/);
    await expect(resolveAsOf({ param: '2026-02-30', lake, openEngine: () => Engine.open() })).rejects.toThrow(/asOf must be a date/);
  });
});
