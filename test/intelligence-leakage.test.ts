// The intelligence jobs end to end on a Silver fixture: outputs in the lake layout, idempotent re-runs, and the
// leakage guarantee: data dated after the as-of date changes nothing in the snapshot or any score.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { intelligenceActivities } from '../pipelines/gold-intelligence.ts';
import { Engine, lit, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/index.ts';
import { addDays } from '../src/runtime/days.ts';
import { generateWorld, writeSilver } from '../src/intelligence/synthetic.ts';
import { runJob } from '../src/orchestrator/local-runner.ts';
import { createLogger } from '../src/runtime/logger.ts';

const AS_OF = '2026-06-30';
const OPTS = { customers: 200, days: 200, start: '2026-01-01', seed: 11 };
const DATASETS = ['feature_snapshots', 'risk_scores', 'customer_segments', 'segment_profiles', 'product_recommendations', 'baseline_recommendations', 'model_registry'];

async function runAll(home: string, lake: LocalLake, asOf = AS_OF) {
  const entries = [];
  for (const a of intelligenceActivities) {
    const e = await runJob(a.job, { home, lake, log: createLogger({ silent: true }), runId: 'r1', loadId: 'l1', runDate: asOf, asOf }, { horizonDays: '30' }, {
      activity: a.name, stage: 'gold', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 10,
    });
    if (e.status !== 'succeeded') throw new Error(`${a.name}: ${e.error?.message}`);
    entries.push(e);
  }
  return entries;
}

/** Every dataset's rows for the as-of date, as sorted JSON lines (every column, TRAINED_AT included). */
async function snapshotOf(lake: LocalLake): Promise<Record<string, string[]>> {
  const engine = await Engine.open();
  try {
    const out: Record<string, string[]> = {};
    for (const d of DATASETS) {
      const files = (await lake.list(`gold/customer360/${d}/as_of_date=${AS_OF}/`)).map((f) => f.path);
      const local = await Promise.all(files.map((f) => lake.localPath(f)));
      const rows = await engine.all<Record<string, unknown>>(`SELECT * FROM read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = false)`);
      out[d] = rows.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  } finally {
    engine.close();
  }
}

let home: string;
let lake: LocalLake;
let first: Record<string, string[]>;
let entries: Awaited<ReturnType<typeof runAll>>;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'intel-'));
  lake = new LocalLake(join(home, 'lake'));
  const engine = await Engine.open();
  await writeSilver(engine, lake, generateWorld(OPTS));
  engine.close();
  entries = await runAll(home, lake);
  first = await snapshotOf(lake);
});

describe('intelligence jobs', () => {
  it('write every dataset in the lake layout with the agreed columns', async () => {
    const engine = await Engine.open();
    try {
      const cols = async (d: string) => {
        const f = (await lake.list(`gold/customer360/${d}/as_of_date=${AS_OF}/`)).map((x) => x.path);
        expect(f.length).toBeGreaterThan(0);
        const local = await Promise.all(f.map((x) => lake.localPath(x)));
        return (await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = false)`)).map((r) => `${r.column_name}:${r.column_type}`);
      };
      expect(await cols('risk_scores')).toEqual(['CUSTOMER360_ID:VARCHAR', 'AS_OF_DATE:DATE', 'CHURN_RISK:DOUBLE', 'PREDICTED_PURCHASES:DOUBLE', 'PREDICTED_CLV:DOUBLE', 'P_ALIVE:DOUBLE', 'CHURN_MODEL_VERSION:VARCHAR', 'CLV_MODEL_VERSION:VARCHAR']);
      expect(await cols('product_recommendations')).toEqual(['CUSTOMER360_ID:VARCHAR', 'PRODUCT_ID:VARCHAR', 'RANK:INTEGER', 'SCORE:DOUBLE', 'REASON:VARCHAR', 'ALGORITHM:VARCHAR', 'MODEL_VERSION:VARCHAR', 'AS_OF_DATE:DATE']);
      expect((await cols('customer_segments')).slice(0, 5)).toEqual(['CUSTOMER360_ID:VARCHAR', 'AS_OF_DATE:DATE', 'SEGMENT_ID:INTEGER', 'SEGMENT_LABEL:VARCHAR', 'MODEL_VERSION:VARCHAR']);
      expect(await cols('model_registry')).toEqual(['MODEL_NAME:VARCHAR', 'MODEL_VERSION:VARCHAR', 'MODEL_TYPE:VARCHAR', 'TRAINED_AT:TIMESTAMP', 'TRAINING_WINDOW_START:DATE', 'TRAINING_WINDOW_END:DATE', 'FEATURE_SNAPSHOT_VERSION:VARCHAR', 'PARAMETERS_JSON:VARCHAR', 'METRICS_JSON:VARCHAR']);
    } finally {
      engine.close();
    }
  });

  it('score every customer with values in range, versioned by registered models', () => {
    const risk = first.risk_scores!.map((l) => JSON.parse(l));
    expect(risk).toHaveLength(first.feature_snapshots!.length);
    for (const r of risk) {
      expect(r.CHURN_RISK).toBeGreaterThanOrEqual(0);
      expect(r.CHURN_RISK).toBeLessThanOrEqual(1);
      expect(r.PREDICTED_CLV).toBeGreaterThanOrEqual(0);
    }
    const registry = first.model_registry!.map((l) => JSON.parse(l));
    expect(registry.map((r) => r.MODEL_NAME).sort()).toEqual(['churn', 'clv', 'recommendations', 'segments']);
    const versions = new Set(registry.map((r) => r.MODEL_VERSION));
    expect(versions.has(risk[0].CHURN_MODEL_VERSION)).toBe(true);
    expect(versions.has(risk[0].CLV_MODEL_VERSION)).toBe(true);
    const snapVersion = JSON.parse(first.feature_snapshots![0]!).FEATURE_SNAPSHOT_VERSION;
    for (const r of registry) expect(r.FEATURE_SNAPSHOT_VERSION).toBe(snapVersion);
    // Deterministic training time: the as-of date at 00:00 UTC, not the wall clock.
    for (const r of registry) expect(String(r.TRAINED_AT)).toBe(`${AS_OF} 00:00:00`);
    const churn = registry.find((r) => r.MODEL_NAME === 'churn');
    expect(JSON.parse(churn.PARAMETERS_JSON).kind).toBe('logistic_platt');
    // The churn model's labels end on or before the as-of date.
    expect(churn.TRAINING_WINDOW_END <= AS_OF).toBe(true);
    const recs = first.product_recommendations!.map((l) => JSON.parse(l));
    expect(recs.length).toBeGreaterThan(0);
    expect(recs.every((r) => r.RANK >= 1 && r.RANK <= 10 && r.ALGORITHM === 'hybrid' && r.REASON)).toBe(true);
  });

  it('report documented exclusions instead of dropping rows silently', () => {
    const scores = entries.find((e) => e.job === 'gold-intelligence-scores')!;
    expect(scores.rowCounts['excluded.transactions.not_completed']).toBeGreaterThan(0);
    expect(scores.rowCounts['excluded.transactions.missing_customer']).toBe(1);
    expect(scores.rowCounts['excluded.items.non_product_line']).toBeGreaterThan(0);
    expect(scores.rowCounts['excluded.items.returned']).toBeGreaterThan(0);
  });

  // One re-run proves both: same as-of date (idempotent) and data after it (leakage-safe) leave every row as it was.
  it('are idempotent and leakage-safe: a re-run after appending later data changes nothing', async () => {
    const before = (await lake.list('gold/customer360/')).map((f) => f.path);
    // A later world: new purchases, returns, events and preferences of existing customers and a new customer.
    const later = generateWorld({ customers: 40, days: 60, start: addDays(AS_OF, 1), seed: 99 });
    const remap = (v: unknown) => (typeof v === 'string' ? v.replace(/^C360-0000(\d\d)$/, 'C360-0000$1').replace(/^C0000(\d\d)$/, 'C0000$1') : v);
    for (const table of Object.values(later)) for (const r of table) for (const k of ['TRANSACTION_ID', 'ITEM_ID', 'EVENT_ID', 'SESSION_ID', 'PREFERENCE_ID']) if (typeof r[k] === 'string') r[k] = `L-${r[k]}`;
    for (const table of Object.values(later)) for (const r of table) for (const k of ['CUSTOMER_ID', 'CUSTOMER360_ID']) r[k] = remap(r[k]) as string;
    // Everything in it is dated after the as-of date (the generator back-dates registrations and preferences).
    for (const r of later.preferences) r.PREFERENCE_DATE = addDays(AS_OF, 2);
    for (const r of later.customers) r.REGISTRATION_DATE = addDays(AS_OF, 2);
    later.customers.push({ CUSTOMER_ID: 'NEW1', CUSTOMER360_ID: 'C360-NEW1', REGISTRATION_DATE: addDays(AS_OF, 3) });
    const engine = await Engine.open();
    await writeSilver(engine, lake, later, 'part-late');
    engine.close();
    await runAll(home, lake);
    expect((await lake.list('gold/customer360/')).map((f) => f.path)).toEqual(before);
    const after = await snapshotOf(lake);
    for (const d of DATASETS) expect(after[d], d).toEqual(first[d]);
  });

  it('write their datasets empty with a reason, instead of failing the run, when the lake has no purchases yet', async () => {
    const emptyHome = await mkdtemp(join(tmpdir(), 'intel-empty-'));
    const emptyLake = new LocalLake(join(emptyHome, 'lake'));
    for (const a of intelligenceActivities) {
      const e = await runJob(a.job, { home: emptyHome, lake: emptyLake, log: createLogger({ silent: true }), runId: 'r', loadId: 'l', runDate: AS_OF, asOf: AS_OF }, {}, {
        activity: a.name, stage: 'gold', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 5,
      });
      expect(e.status).toBe('succeeded');
      expect(String(e.metrics.skipped)).toMatch(/0 customer\(s\) with completed purchases/);
    }
    // Every output exists for the date and is empty, so the warehouse load finds each snapshot.
    const files = (await emptyLake.list('gold/')).map((f) => f.path);
    for (const ds of ['feature_snapshots', 'risk_scores', 'customer_segments', 'segment_profiles', 'product_recommendations', 'baseline_recommendations']) {
      expect(files, ds).toContain(`gold/customer360/${ds}/as_of_date=${AS_OF}/part-00000.parquet`);
    }
    expect(files.filter((f) => f.includes('/model_registry/')).sort()).toEqual(
      ['clv_churn', 'recommendations', 'segments'].map((p) => `gold/customer360/model_registry/as_of_date=${AS_OF}/${p}.parquet`),
    );
    const e = await Engine.open();
    try {
      expect(Number(await e.scalar(`SELECT count(*) FROM read_parquet(${lit(await emptyLake.localPath(files[0]!))})`))).toBe(0);
    } finally {
      e.close();
    }
  });
});
