// Gold's per-customer-day aggregate follows the Silver change log: a new day is the only day recomputed, a corrected
// day is rewritten, and a day Silver no longer holds (retention drops expired partitions from the state) goes too.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldDailyJob } from '../jobs/gold-daily.ts';
import { commitPartitions, emptyDatasetState, readDatasetState, statePath, type DatasetState } from '../src/catalogue/partitioned.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { customerDaily } from '../src/gold/daily-aggregates.ts';
import { silverPathOf } from '../src/gold/silver-inputs.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import type { JobContext } from '../src/runtime/job.ts';
import { silentLogger } from '../src/runtime/logger.ts';

let home: string;
let lake: LocalLake;
let e: Engine;
const TX = silverPathOf('transactions');

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-gold-daily-'));
  lake = new LocalLake(join(home, 'lake'));
  e = await Engine.open();
});
afterAll(async () => {
  e.close();
  await rm(home, { recursive: true, force: true });
});

/** Commits Silver transaction rows [id, person, day, amount] for the given days, as publishing does. */
async function publish(rows: [string, string, string, number][], touched: string[]): Promise<void> {
  const state: DatasetState = (await readDatasetState(lake, TX)) ?? emptyDatasetState();
  const values = rows.map(([id, p, d, a]) => `('${id}', '${p}', TIMESTAMP '${d} 10:00:00', ${a}, '${d}')`).join(', ');
  await e.run(`CREATE OR REPLACE TABLE pub AS SELECT TRANSACTION_ID, CUSTOMER360_ID, TRANSACTION_DATE, CAST(TOTAL_AMOUNT AS DECIMAL(10,2)) AS TOTAL_AMOUNT,
    'PURCHASE' AS TRANSACTION_TYPE, 'COMPLETED' AS TRANSACTION_STATUS, __p FROM (VALUES ${values}) v(TRANSACTION_ID, CUSTOMER360_ID, TRANSACTION_DATE, TOTAL_AMOUNT, __p)`);
  await commitPartitions(e, lake, TX, state, { relation: 'pub', touched, inputs: {}, tmpDir: join(home, 'tmp') });
}

async function daily(): Promise<{ ctx: JobContext; rows: string[] }> {
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: '2026-05-03', params: {} });
  await goldDailyJob.run(ctx);
  const files = Object.values((await readDatasetState(lake, customerDaily.path))!.partitions).flat();
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  const rows = files.length ? await e.all<{ r: string }>(`SELECT CUSTOMER360_ID || ' ' || ACTIVITY_DATE || ' ' || ORDERS || ' ' || SPEND AS r FROM read_parquet(${litList(local)}) ORDER BY 1`) : [];
  return { ctx, rows: rows.map((x) => x.r) };
}

describe("Gold's per-customer-day aggregate", () => {
  it('recomputes the days the Silver change log names, and drops days Silver no longer holds', async () => {
    await publish([['T1', 'P1', '2026-05-01', 10], ['T2', 'P1', '2026-05-01', 5], ['T3', 'P2', '2026-05-02', 7]], ['2026-05-01', '2026-05-02']);
    const first = await daily();
    expect(first.ctx.report.metrics['customer_daily.maintain']).toMatchObject({ mode: 'full', days: 2 });
    expect(first.rows).toEqual(['P1 2026-05-01 2 15.00', 'P2 2026-05-02 1 7.00']);

    // A new day: only it is read and recomputed.
    await publish([['T4', 'P2', '2026-05-03', 3]], ['2026-05-03']);
    const second = await daily();
    expect(second.ctx.report.metrics['customer_daily.maintain']).toMatchObject({ mode: 'incremental', days: 1, silverFiles: 1 });
    expect(second.rows).toEqual(['P1 2026-05-01 2 15.00', 'P2 2026-05-02 1 7.00', 'P2 2026-05-03 1 3.00']);

    // A correction of an old day (its partition rewritten with T2's new amount) rewrites that day only.
    await publish([['T1', 'P1', '2026-05-01', 10], ['T2', 'P1', '2026-05-01', 9]], ['2026-05-01']);
    expect((await daily()).rows).toEqual(['P1 2026-05-01 2 19.00', 'P2 2026-05-02 1 7.00', 'P2 2026-05-03 1 3.00']);

    // Nothing new: nothing recomputed.
    expect((await daily()).ctx.report.metrics['customer_daily.maintain']).toMatchObject({ mode: 'unchanged', days: 0 });

    // Retention drops the oldest Silver partition from the state (no change entry): the aggregate's day goes too.
    const s = (await readDatasetState(lake, TX))!;
    delete s.partitions['2026-05-01'];
    await lake.write(statePath(TX), JSON.stringify(s));
    expect((await daily()).rows).toEqual(['P2 2026-05-02 1 7.00', 'P2 2026-05-03 1 3.00']);
  });
});
