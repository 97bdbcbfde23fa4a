// Personalization events are maintained by event day: a day's rows read only the recommendation run that day takes
// (the latest before it), and a new run touches only the days that now take it; the result equals recomputing every
// day, and a re-run with nothing new changes nothing.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitPartitions, emptyDatasetState, readDatasetState } from '../src/catalogue/partitioned.ts';
import { Engine, lit, litList } from '../src/engine/duckdb.ts';
import { maintainDayPartitioned, type DayPartitioned } from '../src/gold/day-partitioned.ts';
import { factPersonalizationEvents } from '../src/gold/personalization.ts';
import { goldDir } from '../src/gold/paths.ts';
import { silverPathOf } from '../src/gold/silver-inputs.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { withTempEngine } from './temp-engine.ts';

const EVENTS = factPersonalizationEvents as DayPartitioned;
const AS_OF = '2026-05-15';
const day = (n: number) => `2026-05-${String(n).padStart(2, '0')}`;
let home: string;
let e: Engine;

/** A recommendation run as of `asOf`: P1's list holds `product`. */
async function writeRun(asOf: string, product: string): Promise<void> {
  const dir = join(home, 'lake', goldDir('product_recommendations', asOf));
  await mkdir(dir, { recursive: true });
  await e.run(`COPY (SELECT 'P1' AS CUSTOMER360_ID, ${lit(product)} AS PRODUCT_ID, 1 AS RANK, 0.9 AS SCORE, 'test' AS REASON, 'hybrid' AS ALGORITHM,
    'v1' AS MODEL_VERSION, DATE ${lit(asOf)} AS AS_OF_DATE) TO ${lit(join(dir, 'part-00000.parquet'))} (FORMAT parquet)`);
}

async function maintain(lake: LocalLake, full = false) {
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: AS_OF, asOf: AS_OF, params: {} });
  return maintainDayPartitioned(ctx, e, EVENTS, { full, params: { asOf: AS_OF, attributionWindowDays: 7 } });
}

async function rows(lake: LocalLake): Promise<string[]> {
  const files = Object.values((await readDatasetState(lake, EVENTS.path))!.partitions).flat();
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  return (await e.all<{ r: string }>(`SELECT strftime(EVENT_AT, '%d') || ' ' || PRODUCT_ID || ' ' || CAST(RECOMMENDED_AS_OF AS VARCHAR) AS r
    FROM read_parquet(${litList(local)}, hive_partitioning = false) ORDER BY 1`)).map((x) => x.r);
}

withTempEngine('c360-perso-days-', (d, engine) => ((home = d), (e = engine)));

describe('personalization events by event day', () => {
  it('a new recommendation run recomputes only the days that take it, and equals recomputing every day', async () => {
    const lake = new LocalLake(join(home, 'lake'));
    // P1 views product X every day of May 1-15 (one partition a day).
    await e.run(`CREATE TABLE ev AS SELECT 'E' || d AS EVENT_ID, 'P1' AS CUSTOMER_ID, 'P1' AS CUSTOMER360_ID, 'X' AS PRODUCT_ID, 'PAGE_VIEW' AS EVENT_TYPE,
      CAST(DATE '2026-05-01' + INTERVAL (d) DAY + INTERVAL 10 HOUR AS TIMESTAMP) AS EVENT_DATE, strftime(DATE '2026-05-01' + INTERVAL (d) DAY, '%Y-%m-%d') AS __p
      FROM range(15) r(d)`);
    const touched = (await e.all<{ p: string }>('SELECT DISTINCT __p AS p FROM ev ORDER BY 1')).map((r) => r.p);
    await commitPartitions(e, lake, silverPathOf('events'), emptyDatasetState(), { relation: 'ev', touched, inputs: {}, tmpDir: join(home, 'tmp') });
    await writeRun(day(5), 'X');
    await writeRun(day(10), 'Y');
    expect((await maintain(lake)).mode).toBe('full');
    // Days 6-10 take the run of May 5 (X recommended); days 11-15 the run of May 10 (Y, not X).
    expect(await rows(lake)).toEqual([6, 7, 8, 9, 10].map((d) => `${String(d).padStart(2, '0')} X ${day(5)}`));
    const before = (await readDatasetState(lake, EVENTS.path))!;

    // A run of May 12 recommending X: days 13-15 now take it; no other day changes.
    await writeRun(day(12), 'X');
    const r = await maintain(lake);
    expect(r.mode).toBe('incremental');
    expect(r.days).toBe(3);
    // It read the runs those days take, not every run.
    expect(r.files.filter((f) => f.includes('product_recommendations'))).toEqual([`${goldDir('product_recommendations', day(12))}/part-00000.parquet`]);
    const after = (await readDatasetState(lake, EVENTS.path))!;
    for (const d of [6, 10, 11, 12]) expect(after.partitions[day(d)] ?? [], day(d)).toEqual(before.partitions[day(d)] ?? []);
    const got = await rows(lake);
    expect(got).toEqual([...[6, 7, 8, 9, 10].map((d) => `${String(d).padStart(2, '0')} X ${day(5)}`), ...[13, 14, 15].map((d) => `${d} X ${day(12)}`)]);

    expect((await maintain(lake)).mode).toBe('unchanged');
    expect((await maintain(lake, true)).mode).toBe('full');
    expect(await rows(lake)).toEqual(got);
  });
});
