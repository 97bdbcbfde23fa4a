// Daily runs: history and then daily drops one run at a time give what one full refresh of the same drops gives
// (the same persons, the same Silver rows, the same Gold datasets apart from how persons are numbered), and a run
// killed between a dataset's data and its state commit, run again, gives what an uninterrupted run gives.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DailyDropsResult } from '../src/sample/daily-drops.ts';
import { readDatasetState } from '../src/catalogue/partitioned.ts';
import { customerDaily } from '../src/gold/daily-aggregates.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeDailyDrops, runDaily, snapshot, type LakeSnapshot } from './fixtures/daily-lake.ts';
import { goldCustomerJob } from '../jobs/gold-customer.ts';
import { datasetDataFiles } from '../src/catalogue/partitioned.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { runJob } from '../src/orchestrator/local-runner.ts';
import { addDays } from '../src/runtime/days.ts';
import { silentLogger } from '../src/runtime/logger.ts';

let dir: string;
let drops: DailyDropsResult;
let asOf: string;
let incremental: LakeSnapshot;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-daily-'));
  drops = await makeDailyDrops(dir, { dailyDrops: 2 });
  asOf = drops.days.at(-1)!.date;
});

describe('incremental daily runs', () => {
  it('history then each day, one run at a time, equals one full refresh of the same drops', async () => {
    const inc = join(dir, 'incremental');
    expect((await runDaily(inc, { input: drops.history, asOf })).status).toBe('succeeded');
    for (const [i, day] of drops.days.entries()) {
      // The lake before the last day, for the crash test.
      if (i === drops.days.length - 1) await cp(inc, join(dir, 'killed'), { recursive: true });
      const m = await runDaily(inc, { input: day.dir, asOf });
      expect(m.status).toBe('succeeded');
      // Staging read only the day's Bronze file, and merged it across partitions (late rows and corrections).
      const staged = m.jobs.find((j) => j.activity === 'silver_standardise[CUSTOMER_TRANSACTIONS]')!;
      expect(staged.metrics['CUSTOMER_TRANSACTIONS.mode']).toBe('incremental');
      expect(staged.inputs).toHaveLength(1);
      if (i > 0) expect((staged.metrics['CUSTOMER_TRANSACTIONS.standardise'] as { partitionsRewritten: number }).partitionsRewritten).toBeGreaterThan(1);
      // Gold's daily aggregates recomputed only the days Silver changed (the day, late and corrected records' days),
      // reading those days' Silver partitions, not the history.
      const daily = m.jobs.find((j) => j.activity === 'gold_daily')!.metrics['customer_daily.maintain'] as { mode: string; days: number };
      expect(daily.mode).toBe('incremental');
      expect(daily.days).toBeGreaterThan(0);
      const held = Object.keys((await readDatasetState(new LocalLake(join(inc, 'lake')), customerDaily.path))!.partitions).length;
      expect(daily.days).toBeLessThan(held);
      // The lifetime totals were carried forward by the recomputed days (not summed again from every day), and the
      // profile read them rather than every day of the aggregates.
      expect((daily as { lifetime?: { mode: string } }).lifetime?.mode).toBe('incremental');
      const customer = m.jobs.find((j) => j.activity === 'gold_customer')!;
      expect(customer.metrics.lifetimes).toEqual({ customer_lifetime: 'state', customer_touchpoint_lifetime: 'state', consent_lifetime: 'state' });
      // (consent: its evidence by day recomputed the changed days only, its latest evidence per person carried forward)
      expect((customer.metrics['consent_lifetime.maintain'] as { mode: string }).mode).toBe('incremental');
      expect((customer.metrics['consent_evidence_daily.maintain'] as { mode: string }).mode).toBe('incremental');
      // Line items (one Silver file) were re-published by row: their transaction check read the transaction days
      // the changed items reach, not every day.
      const items = m.jobs.find((j) => j.activity === 'silver_publish[CUSTOMER_TRANSACTION_ITEMS]')!;
      const txDays = Object.keys((await readDatasetState(new LocalLake(join(inc, 'lake')), 'silver/customer360/_staging/transactions'))!.partitions).length;
      const txRead = items.inputs.filter((f) => f.includes('_staging/transactions/')).length;
      expect(txRead).toBeGreaterThan(0);
      expect(txRead).toBeLessThan(txDays);
    }
    incremental = await snapshot(inc, asOf);

    // The reference: the same Bronze, rebuilt in one full refresh.
    const full = join(dir, 'full');
    for (const layer of ['bronze', 'quarantine']) await cp(join(inc, 'lake', layer), join(full, 'lake', layer), { recursive: true });
    const rebuilt = await runDaily(full, { fullRefresh: true, asOf });
    expect(rebuilt.status).toBe('succeeded');
    expect(rebuilt.jobs.find((j) => j.activity === 'silver_standardise[CUSTOMER_TRANSACTIONS]')!.metrics['CUSTOMER_TRANSACTIONS.mode']).toBe('full');
    const reference = await snapshot(full, asOf);

    expect(incremental.persons.length).toBeGreaterThan(100);
    expect(incremental.persons).toEqual(reference.persons);
    expect(Object.keys(incremental.datasets).sort()).toEqual(Object.keys(reference.datasets).sort());
    for (const [name, rows] of Object.entries(reference.datasets)) expect(incremental.datasets[name], name).toEqual(rows);
    expect(reference.datasets.customer_transactions!.length).toBeGreaterThan(50);
    expect(reference.datasets.customer_profile!.length).toBeGreaterThan(100);
    expect(reference.datasets.customer_daily!.length).toBeGreaterThan(100);
    expect(reference.datasets.customer_lifetime!.length).toBeGreaterThan(100);
    expect(reference.datasets.consent_lifetime!.length).toBeGreaterThan(10);

    // A past as-of date: the aggregates hold later days, so the profile sums their days up to it (not the totals kept
    // for the latest day); its orders and revenue are the completed purchases of the transaction fact up to that date.
    const past = addDays(asOf, -4);
    const lake = new LocalLake(join(full, 'lake'));
    const run = await runJob(goldCustomerJob, { home: full, lake, log: silentLogger, runId: 'past', loadId: 'past', runDate: past, asOf: past }, { asOf: past },
      { activity: 'gold_customer', stage: 'gold', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 10 });
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.metrics.lifetimes).toEqual({ customer_lifetime: 'days', customer_touchpoint_lifetime: 'days', consent_lifetime: 'days' });
    const e = await Engine.open();
    try {
      const files = async (p: string) => litList(await Promise.all((await lake.list(p)).map((f) => f.path).filter((f) => f.endsWith('.parquet')).map((f) => lake.localPath(f))));
      const facts = await datasetDataFiles(lake, 'gold/customer360/fact_transactions');
      const check = async (d: string) => {
        const q = `WITH tx AS (
  SELECT CUSTOMER360_ID, count(*) AS n, sum(TOTAL_AMOUNT) AS amount FROM read_parquet(${litList(facts.map((f) => join(full, 'lake', f)))})
  WHERE IS_COMPLETED_PURCHASE AND CAST(TRANSACTION_DATE AS DATE) <= DATE '${d}' GROUP BY 1
)
SELECT count(*) FILTER (WHERE p.TOTAL_ORDERS IS DISTINCT FROM COALESCE(tx.n, 0) OR p.TOTAL_REVENUE IS DISTINCT FROM COALESCE(tx.amount, 0)) AS bad,
  count(*) FILTER (WHERE tx.n > 0) AS purchasers, sum(p.TOTAL_ORDERS) AS orders
FROM read_parquet(${await files(`gold/customer360/customer_profile/as_of_date=${d}`)}) p LEFT JOIN tx USING (CUSTOMER360_ID)`;
        return (await e.all<{ bad: unknown; purchasers: unknown; orders: unknown }>(q))[0]!;
      };
      const then = await check(past);
      const now = await check(asOf);
      expect(Number(then.bad)).toBe(0);
      expect(Number(now.bad)).toBe(0);
      expect(Number(then.purchasers)).toBeGreaterThan(10);
      // (the days in between hold purchases, so the two differ)
      expect(Number(then.orders)).toBeLessThan(Number(now.orders));
    } finally {
      e.close();
    }
  }, 420_000);

  it('a run killed with SIGKILL between data and state, run again, equals an uninterrupted run', () => {
    const home = join(dir, 'killed');
    const day = drops.days.at(-1)!;
    const run = (fault?: string) =>
      spawnSync(process.execPath, [join(import.meta.dirname, 'fixtures', 'daily-run.mjs'), home, day.dir, asOf], {
        env: { ...process.env, ...(fault ? { C360_FAULT: fault } : {}) },
        encoding: 'utf8',
      });
    // Killed after Silver staging wrote the day's transactions, before its state; then while publishing them; then
    // after Gold's per-customer-day aggregate wrote the changed days, before its state; after it committed, before the
    // lifetime totals' state; the same for the consent evidence's latest per person.
    for (const fault of ['silver-standardise:CUSTOMER_TRANSACTIONS', 'silver-publish:CUSTOMER_TRANSACTIONS', 'gold-daily:customer_daily', 'gold-daily:customer_lifetime', 'gold-customer:consent_lifetime']) expect(run(fault).signal).toBe('SIGKILL');
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    return snapshot(home, asOf).then((after) => {
      expect(after.persons).toEqual(incremental.persons);
      for (const [name, rows] of Object.entries(incremental.datasets)) expect(after.datasets[name], name).toEqual(rows);
    });
  }, 300_000);
});
