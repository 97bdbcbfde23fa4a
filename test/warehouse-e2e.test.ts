// End to end on a generated sample through the real pipeline (Bronze -> Silver -> Gold -> warehouse load): the
// warehouse holds the three schemas, DIM_CUSTOMER totals agree for every person with an independent sum over the
// Bronze transactions (deduplicated by key) mapped through the identity crosswalk, and re-running the pipeline on the
// same input leaves every warehouse table as it was.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { generateSample } from '../src/sample/generate.ts';
import { duckdbDialect } from '../src/warehouse/dialects/duckdb.ts';
import { SCHEMAS } from '../src/warehouse/types.ts';

let home: string;
let sample: string;
let lake: LocalLake;

async function run() {
  const m = await runPipeline({ home, lake, log: silentLogger, runDate: '2026-10-31', params: { input: sample }, retryIntervalOverride: 0 });
  const failed = m.jobs.find((j) => j.status === 'failed');
  expect(failed?.error?.message, failed?.activity).toBeUndefined();
  expect(m.status).toBe('succeeded');
  return m;
}

async function warehouse<T>(fn: (e: Engine) => Promise<T>): Promise<T> {
  const e = await Engine.open({ path: join(home, 'warehouse.duckdb') });
  try {
    return await fn(e);
  } finally {
    e.close();
  }
}

async function contents(e: Engine): Promise<Record<string, string[]>> {
  const tables = await e.all<{ s: string; t: string }>(`SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_catalog = current_database() ORDER BY 1, 2`);
  const out: Record<string, string[]> = {};
  for (const { s, t } of tables) out[`${s}.${t}`] = (await e.all(`SELECT * FROM ${duckdbDialect.qualified(s, t)}`)).map((r) => JSON.stringify(r)).sort();
  return out;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-e2e-'));
  sample = join(home, 'sample');
  lake = new LocalLake(join(home, 'lake'));
  await generateSample({ customers: 150, days: 40, seed: 7, out: sample });
  await run();
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('c360 run on a sample', () => {
  it('fills the three warehouse schemas', async () => {
    await warehouse(async (e) => {
      for (const s of SCHEMAS) {
        const n = Number(await e.scalar(`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, [s]));
        expect(n, s).toBeGreaterThanOrEqual(4);
      }
      expect(Number(await e.scalar('SELECT count(*) FROM CUSTOMER_360.DIM_CUSTOMER'))).toBeGreaterThan(100);
      expect(Number(await e.scalar('SELECT count(*) FROM CUSTOMER_BEHAVIOR.FACT_BEHAVIORAL_EVENTS'))).toBeGreaterThan(1000);
      expect(Number(await e.scalar('SELECT count(*) FROM RECOMMENDATIONS.PRODUCT_RECOMMENDATIONS'))).toBeGreaterThan(0);
      expect(Number(await e.scalar('SELECT count(*) FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE CHURN_RISK < 0 OR CHURN_RISK > 1'))).toBe(0);
    });
  });

  it('DIM_CUSTOMER totals equal an independent sum over Bronze transactions mapped through the crosswalk', async () => {
    const bronze = join(home, 'lake', 'bronze', 'customer360', 'transactions', '**', '*.parquet');
    const crosswalk = join(home, 'lake', 'silver', 'customer360', 'identity', 'crosswalk', '*.parquet');
    await warehouse(async (e) => {
      const asOf = await e.scalar<string>('SELECT CAST(max(AS_OF_DATE) AS VARCHAR) FROM CUSTOMER_360.DIM_CUSTOMER');
      const rows = await e.all<{ id: string; wo: string; wr: string; eo: string; er: string }>(`
        WITH b AS (
          SELECT * FROM read_parquet(${lit(bronze)}, union_by_name = true, hive_partitioning = false)
          QUALIFY row_number() OVER (PARTITION BY TRANSACTION_ID ORDER BY _ingested_at DESC, _record_hash DESC) = 1
        ),
        x AS (SELECT DISTINCT CUSTOMER_ID, CUSTOMER360_ID FROM read_parquet(${lit(crosswalk)})),
        expected AS (
          SELECT x.CUSTOMER360_ID AS id, count(*) AS n, sum(b.TOTAL_AMOUNT) AS r
          FROM b JOIN x USING (CUSTOMER_ID)
          WHERE b.TRANSACTION_TYPE = 'PURCHASE' AND b.TRANSACTION_STATUS = 'COMPLETED' AND CAST(b.TRANSACTION_DATE AS DATE) <= DATE '${asOf}'
          GROUP BY 1
        )
        SELECT COALESCE(d.CUSTOMER360_ID, x.id) AS id, CAST(d.TOTAL_ORDERS AS VARCHAR) AS wo, CAST(d.TOTAL_REVENUE AS VARCHAR) AS wr,
          CAST(COALESCE(x.n, 0) AS VARCHAR) AS eo, CAST(COALESCE(x.r, 0) AS DECIMAL(18,2)) AS er
        FROM CUSTOMER_360.DIM_CUSTOMER d FULL JOIN expected x ON x.id = d.CUSTOMER360_ID`);
      expect(rows.length).toBeGreaterThan(100);
      const purchasers = rows.filter((r) => r.eo !== '0').length;
      expect(purchasers).toBeGreaterThan(50);
      const wrong = rows.filter((r) => r.wo !== r.eo || r.wr !== String(r.er));
      expect(wrong).toEqual([]);
    });
  });

  it('re-running the pipeline on the same input leaves every warehouse table as it was', async () => {
    const before = await warehouse(contents);
    await run();
    const after = await warehouse(contents);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    for (const k of Object.keys(before)) expect(after[k], k).toEqual(before[k]);
  });
});
