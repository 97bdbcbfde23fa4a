// Campaign attribution is maintained by conversion day: a late touch (an engagement arriving after the conversions it
// precedes were attributed) recomputes the conversions of its day and of the window's days after it, nothing else,
// and the result equals attributing every conversion again.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitPartitions, emptyDatasetState, readDatasetState } from '../src/catalogue/partitioned.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { campaignAttribution } from '../src/gold/campaigns.ts';
import { maintainDayPartitioned, type DayPartitioned } from '../src/gold/day-partitioned.ts';
import { silverPathOf, type SilverName } from '../src/gold/silver-inputs.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { withTempEngine } from './temp-engine.ts';

const ATTRIBUTION = campaignAttribution as DayPartitioned;
const AS_OF = '2026-05-20';
const day = (n: number) => `2026-05-${String(n).padStart(2, '0')}`;
let home: string;
let e: Engine;

/** Commits Silver rows (a VALUES list with the named columns; the partition is the day of `dayColumn`) to a table. */
async function commitSilver(lake: LocalLake, table: SilverName, columns: string[], dayColumn: string, rows: string[]): Promise<void> {
  await e.run(`CREATE OR REPLACE TABLE rows_in AS SELECT *, strftime(CAST(${dayColumn} AS DATE), '%Y-%m-%d') AS __p FROM (VALUES ${rows.join(', ')}) AS v(${columns.join(', ')})`);
  const touched = (await e.all<{ p: string }>('SELECT DISTINCT __p AS p FROM rows_in')).map((r) => r.p);
  const state = (await readDatasetState(lake, silverPathOf(table))) ?? emptyDatasetState();
  // A touched partition is replaced whole: keep its other rows.
  const keep = touched.flatMap((p) => state.partitions[p] ?? []);
  if (keep.length) {
    const local = await Promise.all(keep.map((f) => lake.localPath(f)));
    await e.run(`INSERT INTO rows_in SELECT *, strftime(CAST(${dayColumn} AS DATE), '%Y-%m-%d') FROM read_parquet(${litList(local)}, hive_partitioning = false)`);
  }
  await commitPartitions(e, lake, silverPathOf(table), state, { relation: 'rows_in', touched, inputs: {}, tmpDir: join(home, 'tmp') });
}

const TX = ['TRANSACTION_ID', 'CUSTOMER_ID', 'CUSTOMER360_ID', 'TRANSACTION_DATE', 'TRANSACTION_TYPE', 'TRANSACTION_STATUS', 'TOTAL_AMOUNT'];
const tx = (id: string, p: string, at: string, amount: number) => `('${id}', '${p}', '${p}', TIMESTAMP '${at}', 'PURCHASE', 'COMPLETED', ${amount})`;
const EN = ['ENGAGEMENT_ID', 'CUSTOMER_ID', 'CUSTOMER360_ID', 'CAMPAIGN_ID', 'ENGAGEMENT_TYPE', 'ENGAGEMENT_ACTION', 'ENGAGEMENT_DATE'];
const en = (id: string, p: string, campaign: string, action: string, at: string) => `('${id}', '${p}', '${p}', '${campaign}', 'EMAIL', '${action}', TIMESTAMP '${at}')`;

async function maintain(lake: LocalLake, full = false) {
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: AS_OF, asOf: AS_OF, params: {} });
  return maintainDayPartitioned(ctx, e, ATTRIBUTION, { full, params: { asOf: AS_OF, attributionWindowDays: 7 } });
}

async function rows(lake: LocalLake): Promise<Record<string, unknown>[]> {
  const files = Object.values((await readDatasetState(lake, ATTRIBUTION.path))!.partitions).flat();
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  return e.all(`SELECT TRANSACTION_ID, MODEL, ENGAGEMENT_ID, CAST(CREDIT AS DOUBLE) AS CREDIT FROM read_parquet(${litList(local)}, hive_partitioning = false) ORDER BY ALL`);
}

withTempEngine('c360-attr-days-', (d, engine) => ((home = d), (e = engine)));

describe('attribution by conversion day', () => {
  it('a late touch recomputes only the conversions of its window, and equals attributing everything again', async () => {
    const lake = new LocalLake(join(home, 'lake'));
    // Purchases on many days (so the window's days are a few of the held ones), two of them touched.
    await commitSilver(lake, 'transactions', TX, 'TRANSACTION_DATE', [
      ...Array.from({ length: 20 }, (_, i) => tx(`T${i + 1}`, `Q${i + 1}`, `${day(i + 1)} 09:00:00`, 10)),
      tx('TA', 'P1', `${day(10)} 12:00:00`, 100), tx('TB', 'P2', `${day(15)} 12:00:00`, 50),
    ]);
    await commitSilver(lake, 'engagement', EN, 'ENGAGEMENT_DATE', [
      en('E1', 'P1', 'C1', 'OPENED', `${day(8)} 10:00:00`), en('E2', 'P2', 'C2', 'CLICKED', `${day(14)} 10:00:00`),
    ]);
    const first = await maintain(lake);
    expect(first.mode).toBe('full');
    expect((await rows(lake)).filter((r) => r.MODEL === 'LAST_TOUCH').map((r) => `${r.TRANSACTION_ID} ${r.ENGAGEMENT_ID}`)).toEqual(['TA E1', 'TB E2']);
    const before = (await readDatasetState(lake, ATTRIBUTION.path))!;

    // A late touch of P1 on day 9, for another campaign: TA's last touch moves to it, linear credit splits.
    await commitSilver(lake, 'engagement', EN, 'ENGAGEMENT_DATE', [en('E3', 'P1', 'C3', 'CLICKED', `${day(9)} 10:00:00`)]);
    const late = await maintain(lake);
    expect(late.mode).toBe('incremental');
    // Day 9 and the 7 days after it (conversions whose window reaches back to day 9), not the other 12 days.
    expect(late.days).toBe(8);
    const after = (await readDatasetState(lake, ATTRIBUTION.path))!;
    for (const p of [day(3), day(8), day(17), day(20)]) expect(after.partitions[p] ?? [], p).toEqual(before.partitions[p] ?? []);
    expect(after.partitions[day(10)]).not.toEqual(before.partitions[day(10)]);
    const got = await rows(lake);
    expect(got.filter((r) => r.TRANSACTION_ID === 'TA').map((r) => `${r.MODEL} ${r.ENGAGEMENT_ID} ${r.CREDIT}`))
      .toEqual(['LAST_TOUCH E3 1', 'LINEAR E1 0.5', 'LINEAR E3 0.5']);

    // The same as attributing every conversion again; and a re-run with nothing new changes nothing.
    expect((await maintain(lake)).mode).toBe('unchanged');
    expect(await rows(lake)).toEqual(got);
    expect((await maintain(lake, true)).mode).toBe('full');
    expect(await rows(lake)).toEqual(got);
  });
});
