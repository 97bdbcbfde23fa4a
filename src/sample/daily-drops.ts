// Splits a sample (one <TABLE>.parquet per table) into the drops a daily schedule receives: `history/` with
// everything before the last N days, then `day-YYYY-MM-DD/` per day with that day's rows. Rows are placed by their
// event date (items by their transaction's, customers by registration date; undated or unparseable rows go to
// history, rows after the window to the last day). Each day after the first also carries what real feeds do:
// late records (about 1 in 20 of the previous day's transactions, sessions and events arrive a day late) and
// corrections (a few earlier transactions re-sent with a new TOTAL_AMOUNT, and a few earlier customers with a new
// e-mail address), so an incremental run must merge by key across partitions.
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { getContract } from '../../schemas/index.ts';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';

export interface DailyDropsResult {
  history: string;
  days: { date: string; dir: string; rows: number }[];
}

const LATE = new Set(['CUSTOMER_TRANSACTIONS', 'CUSTOMER_SESSION_DATA', 'CUSTOMER_BEHAVIORAL_EVENTS']);

/** `historyDays`: keep only this many days of dated history before the daily drops (customers and campaigns all). */
export async function splitDailyDrops(engine: Engine, sampleDir: string, outDir: string, days: number, o: { historyDays?: number } = {}): Promise<DailyDropsResult> {
  if (!Number.isInteger(days) || days < 1) throw new UsageError(`--daily-drops must be a whole number of days >= 1, got '${days}'`);
  const files = (await readdir(sampleDir)).filter((f) => f.endsWith('.parquet'));
  const table = (name: string) => join(sampleDir, `${name}.parquet`);
  const dateOf = (expr: string) => `CAST(TRY_CAST(${expr} AS TIMESTAMP) AS DATE)`;
  // The window's last day: the latest transaction date.
  const end = await engine.scalar<string>(`SELECT CAST(max(${dateOf('TRANSACTION_DATE')}) AS VARCHAR) FROM read_parquet(${lit(table('CUSTOMER_TRANSACTIONS'))})`);
  if (!end) throw new UsageError(`${sampleDir} has no dated CUSTOMER_TRANSACTIONS to split into days`);
  const dates = (await engine.all<{ d: string }>(`SELECT CAST(DATE ${lit(end)} - INTERVAL (n) DAY AS DATE)::VARCHAR AS d FROM range(${days}) t(n) ORDER BY d`)).map((r) => r.d);
  const first = dates[0]!;
  const result: DailyDropsResult = { history: join(outDir, 'history'), days: dates.map((date) => ({ date, dir: join(outDir, `day-${date}`), rows: 0 })) };
  await engine.run(`CREATE OR REPLACE TEMP TABLE tx_dates AS SELECT TRANSACTION_ID, min(${dateOf('TRANSACTION_DATE')}) AS d FROM read_parquet(${lit(table('CUSTOMER_TRANSACTIONS'))}) GROUP BY 1`);
  for (const f of files) {
    const name = f.slice(0, -'.parquet'.length);
    const contract = getContract(name);
    const src = `read_parquet(${lit(join(sampleDir, f))})`;
    const key = ident(contract.primaryKey[0]!);
    const date =
      name === 'CUSTOMER_TRANSACTION_ITEMS' ? 'x.d'
        : name === 'CUSTOMERS' ? dateOf('s.REGISTRATION_DATE')
          : contract.eventTime && name !== 'MARKETING_CAMPAIGNS' ? dateOf(`s.${ident(contract.eventTime)}`) : 'NULL::DATE';
    const join_ = name === 'CUSTOMER_TRANSACTION_ITEMS' ? 'LEFT JOIN tx_dates x ON x.TRANSACTION_ID = s.TRANSACTION_ID' : '';
    // Delivery day: history before the first day, the row's day, one day later for late rows, the last day after it.
    const late = LATE.has(name) ? `CASE WHEN hash(s.${key}, 'late') % 20 = 0 AND d >= DATE ${lit(first)} AND d < DATE ${lit(end)} THEN 1 ELSE 0 END` : '0';
    await engine.run(`CREATE OR REPLACE TEMP TABLE split AS
SELECT s.* EXCLUDE (d), CASE WHEN ${o.historyDays && name !== 'CUSTOMERS' && name !== 'MARKETING_CAMPAIGNS' ? `d < DATE ${lit(first)} - INTERVAL ${o.historyDays} DAY` : 'false'} THEN DATE '1900-01-01' ELSE CASE WHEN d IS NULL OR d < DATE ${lit(first)} THEN NULL WHEN d > DATE ${lit(end)} THEN DATE ${lit(end)} ELSE CAST(d + INTERVAL (${late}) DAY AS DATE) END END AS __day
FROM (SELECT s.*, ${date} AS d FROM ${src} s ${join_}) s`);
    await write(engine, `SELECT * EXCLUDE (__day) FROM split WHERE __day IS NULL`, join(result.history, f));
    for (const [i, day] of result.days.entries()) {
      const parts = [`SELECT * EXCLUDE (__day) FROM split WHERE __day = DATE ${lit(day.date)}`];
      if (i > 0 && name === 'CUSTOMER_TRANSACTIONS') {
        // Corrections: earlier transactions re-sent with a new amount.
        parts.push(`SELECT * EXCLUDE (__day) REPLACE (CAST(round(TRY_CAST(TOTAL_AMOUNT AS DOUBLE) + ${i}, 2) AS VARCHAR) AS TOTAL_AMOUNT) FROM split
          WHERE __day IS NULL AND TRY_CAST(TOTAL_AMOUNT AS DOUBLE) IS NOT NULL AND hash(TRANSACTION_ID, 'fix') % 97 = ${i}`);
      }
      if (i > 0 && name === 'CUSTOMERS') {
        parts.push(`SELECT * EXCLUDE (__day) REPLACE ('changed' || ${i} || '.' || EMAIL_ADDRESS AS EMAIL_ADDRESS) FROM split
          WHERE __day IS NULL AND EMAIL_ADDRESS LIKE '%@%' AND hash(CUSTOMER_ID, 'fix') % 199 = ${i}`);
      }
      day.rows += await write(engine, parts.join(' UNION ALL '), join(day.dir, f));
    }
  }
  return result;
}

async function write(engine: Engine, sql: string, file: string): Promise<number> {
  await mkdir(join(file, '..'), { recursive: true });
  const r = await engine.all<{ Count?: unknown }>(`COPY (${sql}) TO ${lit(file)} (FORMAT parquet)`);
  return Number(r[0]?.Count ?? 0);
}
