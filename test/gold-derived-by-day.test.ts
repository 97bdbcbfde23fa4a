// The activity aggregates and the funnel follow the per-customer-day aggregate by period: a changed day recomputes
// the periods holding it (its day, its ISO week's Monday, its month's first day) from those periods' days only, and
// the result equals a recomputation of every period; another as-of date recomputes the periods of the days between
// the two (a period sums its days up to the as-of date).
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commitPartitions, emptyDatasetState, readDatasetState } from '../src/catalogue/partitioned.ts';
import { Engine, ident, litList } from '../src/engine/duckdb.ts';
import { aggCustomerActivity, aggFunnelDaily } from '../src/gold/behavior.ts';
import { customerDaily } from '../src/gold/daily-aggregates.ts';
import { daysOfPeriodStart, maintainDerivedByDay, periodStartsOf, type DerivedByDay } from '../src/gold/derived-by-day.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { withTempEngine } from './temp-engine.ts';

const DERIVED = [aggCustomerActivity, aggFunnelDaily] as DerivedByDay[];
const day = (n: number) => `2026-05-${String(n).padStart(2, '0')}`;
let home: string;
let e: Engine;

/** Commits customer_daily rows for the given days: three people a day, metrics from the day and person (`bump`: +1 on that day). */
async function commitDays(lake: LocalLake, days: string[], bump?: string): Promise<void> {
  const cols = customerDaily.columns.map((c) => {
    if (c.name === 'CUSTOMER360_ID') return `'P' || p AS CUSTOMER360_ID`;
    if (c.name === 'ACTIVITY_DATE') return `CAST(d AS DATE) AS ACTIVITY_DATE`;
    const v = `((p + day(CAST(d AS DATE)) + length('${c.name}')) % 3 + CASE WHEN d = '${bump ?? ''}' THEN 1 ELSE 0 END)`;
    return `CAST(${v} AS ${c.type.kind === 'decimal' ? 'DECIMAL(18,2)' : c.type.kind === 'bigint' ? 'BIGINT' : 'INTEGER'}) AS ${ident(c.name)}`;
  });
  await e.run(`CREATE OR REPLACE TABLE cd AS SELECT ${cols.join(', ')}, d AS __p FROM (SELECT unnest(${litList(days)}) AS d), range(3) t(p)`);
  const state = (await readDatasetState(lake, customerDaily.path)) ?? emptyDatasetState();
  await commitPartitions(e, lake, customerDaily.path, state, { relation: 'cd', touched: days, inputs: {}, tmpDir: join(home, 'tmp') });
}

async function maintain(lake: LocalLake, asOf: string, full = false) {
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params: {} });
  const out: Record<string, Awaited<ReturnType<typeof maintainDerivedByDay>>> = {};
  for (const ds of DERIVED) out[ds.name] = await maintainDerivedByDay(ctx, e, ds, { full, params: { asOf, attributionWindowDays: 7 } });
  return out;
}

async function rows(lake: LocalLake, ds: DerivedByDay): Promise<string[]> {
  const files = Object.values((await readDatasetState(lake, ds.path))!.partitions).flat();
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  return (await e.all(`SELECT * FROM read_parquet(${litList(local)}, hive_partitioning = false)`)).map((r) => JSON.stringify(r)).sort();
}

withTempEngine('c360-derived-', (d, engine) => ((home = d), (e = engine)));

describe('periods', () => {
  it('a day enters its day, its ISO week (from Monday) and its month; a period start is computed from its days', () => {
    // 2026-05-13 is a Wednesday
    expect(periodStartsOf('2026-05-13', ['DAY', 'WEEK', 'MONTH'])).toEqual(['2026-05-13', '2026-05-11', '2026-05-01']);
    expect(periodStartsOf('2026-06-01', ['DAY', 'WEEK', 'MONTH'])).toEqual(['2026-06-01']);
    expect(daysOfPeriodStart('2026-05-11', ['DAY', 'WEEK', 'MONTH'])).toEqual(['2026-05-11', '2026-05-17']);
    expect(daysOfPeriodStart('2026-05-01', ['DAY', 'WEEK', 'MONTH'])).toEqual(['2026-05-01', '2026-05-31']);
    expect(daysOfPeriodStart('2026-06-01', ['DAY', 'WEEK', 'MONTH'])).toEqual(['2026-06-01', '2026-06-30']);
    expect(daysOfPeriodStart('2026-05-13', ['DAY'])).toEqual(['2026-05-13', '2026-05-13']);
  });
});

describe('activity aggregates and funnel maintained by period', () => {
  it('recompute the periods of a changed day from their days only, and equal a recomputation of every period', async () => {
    const lake = new LocalLake(join(home, 'lake'));
    const days = Array.from({ length: 40 }, (_, i) => (i < 31 ? day(i + 1) : `2026-06-${String(i - 30).padStart(2, '0')}`));
    await commitDays(lake, days);
    const first = await maintain(lake, '2026-06-09');
    expect(first.agg_customer_activity!.mode).toBe('full');

    // day 13 corrected: the activity aggregate recomputes 05-13, the week of 05-11 and May, reading May's days
    await commitDays(lake, [day(13)], day(13));
    const second = await maintain(lake, '2026-06-09');
    expect(second.agg_customer_activity).toMatchObject({ mode: 'incremental', days: 3, files: expect.any(Array) });
    expect(second.agg_customer_activity!.files.length).toBe(31);
    expect(second.agg_funnel_daily).toMatchObject({ mode: 'incremental', days: 1 });
    expect(second.agg_funnel_daily!.files.length).toBe(1);
    // nothing new: nothing recomputed
    expect((await maintain(lake, '2026-06-09')).agg_customer_activity!.mode).toBe('unchanged');

    const fresh = new LocalLake(join(home, 'fresh'));
    await cp(join(home, 'lake', customerDaily.path), join(home, 'fresh', customerDaily.path), { recursive: true });
    await maintain(fresh, '2026-06-09', true);
    for (const ds of DERIVED) expect(await rows(lake, ds), ds.name).toEqual(await rows(fresh, ds));
  });

  it('another as-of date recomputes the periods of the days between: each period sums its days up to the as-of date', async () => {
    const lake = new LocalLake(join(home, 'lake'));
    const back = await maintain(lake, '2026-06-03');
    // June 4-9 leave: their days, the week of 06-08, the week of 06-01 and June change
    expect(back.agg_customer_activity).toMatchObject({ mode: 'incremental', days: 7 });
    const fresh = new LocalLake(join(home, 'fresh2'));
    await cp(join(home, 'lake', customerDaily.path), join(home, 'fresh2', customerDaily.path), { recursive: true });
    await maintain(fresh, '2026-06-03', true);
    for (const ds of DERIVED) expect(await rows(lake, ds), ds.name).toEqual(await rows(fresh, ds));
    const june = (await rows(lake, aggCustomerActivity as DerivedByDay)).filter((r) => r.includes('"GRAIN":"MONTH"') && r.includes('"PERIOD_START":"2026-06-01"'));
    expect(june.length).toBe(3);
    expect((await rows(lake, aggCustomerActivity as DerivedByDay)).some((r) => r.includes('"PERIOD_START":"2026-06-08"'))).toBe(false);
  });
});
