// Loads the Silver tables the models need into engine tables with one canonical shape, whatever feeds them
// (the lake's Silver layer, or the CDNOW file for evaluation on real retail data):
//   base_tx(CUSTOMER360_ID, TRANSACTION_ID, TX_DATE, AMOUNT)                   clean purchases
//   base_lines(CUSTOMER360_ID, TRANSACTION_ID, TX_DATE, PRODUCT_ID, CATEGORY, BRAND, PRODUCT_NAME, QUANTITY, AMOUNT)
//   base_returns(CUSTOMER360_ID, PRODUCT_ID, TX_DATE)                          returned products
//   base_events(CUSTOMER360_ID, SESSION_ID, EVENT_DATE, EVENT_TYPE, PRODUCT_ID, CATEGORY)
//   base_sessions(CUSTOMER360_ID, SESSION_ID, SESSION_DATE)
//   base_prefs(CUSTOMER360_ID, PREFERENCE_TYPE, PREFERENCE_VALUE, STRENGTH, PREFERENCE_DATE)
//   base_customers(CUSTOMER360_ID, REGISTRATION_DATE)
// Every table has a DATE column that model queries cut at their as-of date; when loaded for a job, rows after the
// job's as-of date are not even loaded (the as-of rule), so nothing later can leak in.
import { readFile } from 'node:fs/promises';
import { CONTRACTS, type TableContract } from '../../schemas/index.ts';
import { ident, lit, litList, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { nonProductLineSql, TRANSACTION_EXCLUSION_SQL } from './exclusions.ts';
import { duckdbType } from '../contracts/duckdb-types.ts';
import { datasetDataFiles } from '../catalogue/partitioned.ts';

export interface LoadResult {
  /** Lake paths read. */
  inputs: string[];
  /** Rows kept per base table. */
  rowCounts: Record<string, number>;
  /** Rows left out, by table and reason (e.g. transactions.not_completed). */
  excluded: Record<string, number>;
}

const SILVER = 'silver/customer360';

function contract(name: string): TableContract {
  const c = CONTRACTS.find((x) => x.name === name);
  if (!c) throw new Error(`no contract ${name}`);
  return c;
}

/**
 * raw_<dir>: a view over the Silver Parquet files of a table (no rows, the contract's columns, if none). A
 * view, not a copy: the base_* tables read a few columns of it once or twice, and a copy of every column of every row
 * (51.6M events at the seed's daily volume) cost gigabytes of DuckDB memory and its spill in each intelligence job.
 */
async function loadRaw(engine: Engine, lake: Lake, c: TableContract, asOf: string | undefined, inputs: string[]): Promise<string> {
  const table = `raw_${c.bronzeDir.replace(/\W/g, '_')}`;
  // The files the dataset's state names (Silver partitioned by event date), else the files of its folder.
  const files = (await datasetDataFiles(lake, `${SILVER}/${c.bronzeDir}`)).map((path) => ({ path }));
  const nullOf = (name: string, type: string) => `CAST(NULL AS ${type}) AS ${ident(name)}`;
  const hasCustomer = c.columns.some((col) => col.name === 'CUSTOMER_ID');
  const nulls = [...c.columns.map((col) => nullOf(col.name, duckdbType(col.type))), ...(hasCustomer ? [nullOf('CUSTOMER360_ID', 'VARCHAR')] : [])];
  if (files.length === 0) {
    await engine.run(`CREATE OR REPLACE VIEW ${table} AS SELECT ${nulls.join(', ')} WHERE false`);
    return table;
  }
  const paths: string[] = [];
  for (const f of files) {
    paths.push(await lake.localPath(f.path));
    inputs.push(f.path);
  }
  const source = `read_parquet(${litList(paths)}, union_by_name = true, hive_partitioning = false)`;
  const present = new Set((await engine.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${source})`)).map((r) => r.column_name));
  // Columns of the contract missing from every file read as nulls of their type (after the files' own columns).
  const extra = c.columns.filter((col) => !present.has(col.name)).map((col) => nullOf(col.name, duckdbType(col.type)));
  // Until identity resolution has stamped CUSTOMER360_ID, source customer ids map one to one (issue 5's rule).
  if (hasCustomer && !present.has('CUSTOMER360_ID')) extra.push(present.has('CUSTOMER_ID') ? `CAST(CUSTOMER_ID AS VARCHAR) AS CUSTOMER360_ID` : nullOf('CUSTOMER360_ID', 'VARCHAR'));
  // Rows without an event time are kept here so that they are counted as exclusions below, not dropped silently.
  const cut = asOf && c.eventTime ? ` WHERE ${ident(c.eventTime)} IS NULL OR CAST(${ident(c.eventTime)} AS DATE) <= DATE ${lit(asOf)}` : '';
  await engine.run(`CREATE OR REPLACE VIEW ${table} AS SELECT *${extra.map((e) => `, ${e}`).join('')} FROM ${source}${cut}`);
  return table;
}

async function count(engine: Engine, sql: string): Promise<number> {
  return Number(await engine.scalar(sql));
}

// The base_* definitions as SQL over any relation of Silver rows, so that the daily aggregates the jobs read between
// trainings (daily-inputs.ts) are computed by the very same rules as a load of all of Silver.

/** Transactions with _excl: why a row is not a clean purchase (NULL when it is). */
export const txClassifiedSql = (tx: string) => `SELECT t.*, ${TRANSACTION_EXCLUSION_SQL} AS _excl FROM ${tx} t`;

/** base_tx rows from classified transactions. */
export const baseTxSql = (txc: string) => `
    SELECT CUSTOMER360_ID, TRANSACTION_ID, CAST(TRANSACTION_DATE AS DATE) AS TX_DATE, CAST(TOTAL_AMOUNT AS DOUBLE) AS AMOUNT
    FROM ${txc} WHERE _excl IS NULL`;

/**
 * Lines with _excl: products of clean purchases are positive signals; returned lines (or lines of return/refund
 * transactions) are exclusions; everything else is counted and left out.
 */
export const linesClassifiedSql = (items: string, txc: string) => `
    SELECT i.*, t.CUSTOMER360_ID, CAST(t.TRANSACTION_DATE AS DATE) AS TX_DATE,
      CASE
        WHEN t.TRANSACTION_ID IS NULL THEN 'unknown_transaction'
        WHEN t.CUSTOMER360_ID IS NULL THEN 'missing_customer'
        WHEN t.TRANSACTION_DATE IS NULL THEN 'missing_date'
        WHEN ${nonProductLineSql('i')} THEN 'non_product_line'
        WHEN upper(coalesce(i.ITEM_STATUS, '')) = 'RETURNED' OR upper(coalesce(t.TRANSACTION_TYPE, '')) IN ('RETURN', 'REFUND') THEN 'returned'
        WHEN t._excl IS NOT NULL THEN 'transaction_' || t._excl
        WHEN coalesce(i.QUANTITY, 0) <= 0 THEN 'zero_or_negative_quantity'
        WHEN upper(coalesce(i.ITEM_STATUS, 'SOLD')) <> 'SOLD' THEN 'status_' || lower(i.ITEM_STATUS)
      END AS _excl
    FROM ${items} i LEFT JOIN ${txc} t USING (TRANSACTION_ID)`;

export const baseLinesSql = (lc: string) => `
    SELECT CUSTOMER360_ID, TRANSACTION_ID, TX_DATE, PRODUCT_ID, upper(trim(CATEGORY)) AS CATEGORY, upper(trim(BRAND)) AS BRAND,
      PRODUCT_NAME, QUANTITY, CAST(coalesce(TOTAL_PRICE, UNIT_PRICE * QUANTITY) AS DOUBLE) AS AMOUNT
    FROM ${lc} WHERE _excl IS NULL`;

export const baseReturnsSql = (lc: string) => `SELECT DISTINCT CUSTOMER360_ID, PRODUCT_ID, TX_DATE FROM ${lc} WHERE _excl = 'returned'`;

export const baseEventsSql = (events: string) => `
    SELECT CUSTOMER360_ID, SESSION_ID, CAST(EVENT_DATE AS DATE) AS EVENT_DATE, upper(EVENT_TYPE) AS EVENT_TYPE,
      nullif(trim(PRODUCT_ID), '') AS PRODUCT_ID, upper(trim(CATEGORY_VIEWED)) AS CATEGORY
    FROM ${events} WHERE EVENT_DATE IS NOT NULL`;

export const basePrefsSql = (prefs: string) => `
    SELECT CUSTOMER360_ID, upper(PREFERENCE_TYPE) AS PREFERENCE_TYPE, upper(trim(PREFERENCE_VALUE)) AS PREFERENCE_VALUE,
      CAST(coalesce(PREFERENCE_STRENGTH, 0.5) AS DOUBLE) AS STRENGTH, CAST(PREFERENCE_DATE AS DATE) AS PREFERENCE_DATE
    FROM ${prefs}
    WHERE CUSTOMER360_ID IS NOT NULL AND PREFERENCE_DATE IS NOT NULL AND PREFERENCE_VALUE IS NOT NULL
      AND coalesce(upper(PREFERENCE_STATUS), 'ACTIVE') = 'ACTIVE'`;

export const baseSessionsSql = (sessions: string) => `
    SELECT CUSTOMER360_ID, SESSION_ID, CAST(SESSION_START AS DATE) AS SESSION_DATE
    FROM ${sessions} WHERE CUSTOMER360_ID IS NOT NULL AND SESSION_START IS NOT NULL`;

const baseCustomersSql = (customers: string, asOf: string | undefined) => `
    SELECT CUSTOMER360_ID, min(REGISTRATION_DATE) AS REGISTRATION_DATE FROM ${customers}
    WHERE CUSTOMER360_ID IS NOT NULL ${asOf ? `AND (REGISTRATION_DATE IS NULL OR REGISTRATION_DATE <= DATE ${lit(asOf)})` : ''}
    GROUP BY 1`;

/** Loads only base_customers (registered on or before `asOf`): the population beside the daily aggregates. */
export async function loadCustomers(engine: Engine, lake: Lake, asOf: string): Promise<LoadResult> {
  const inputs: string[] = [];
  const customers = await loadRaw(engine, lake, contract('CUSTOMERS'), asOf, inputs);
  await engine.run(`CREATE OR REPLACE TABLE base_customers AS ${baseCustomersSql(customers, asOf)}`);
  const excluded: Record<string, number> = {};
  const missing = await count(engine, `SELECT count(*) FROM ${customers} WHERE CUSTOMER360_ID IS NULL`);
  if (missing) excluded['customers.missing_customer360_id'] = missing;
  return { inputs, rowCounts: { base_customers: await count(engine, 'SELECT count(*) FROM base_customers') }, excluded };
}

/** Transactions into tx_classified and base_tx (clean purchases), counting exclusions into `excluded`. */
async function classifyTransactions(engine: Engine, tx: string, excluded: Record<string, number>): Promise<void> {
  await engine.run(`CREATE OR REPLACE TABLE tx_classified AS ${txClassifiedSql(tx)}`);
  for (const r of await engine.all<{ k: string; n: string }>(`SELECT _excl AS k, count(*) AS n FROM tx_classified WHERE _excl IS NOT NULL GROUP BY 1`)) {
    excluded[`transactions.${r.k}`] = Number(r.n);
  }
  await engine.run(`CREATE OR REPLACE TABLE base_tx AS ${baseTxSql('tx_classified')}`);
}

/** Loads Silver from the lake, keeping only rows on or before `asOf` (all rows when undefined). */
export async function loadSilver(engine: Engine, lake: Lake, asOf?: string): Promise<LoadResult> {
  const inputs: string[] = [];
  const raw = async (name: string) => loadRaw(engine, lake, contract(name), asOf, inputs);
  const tx = await raw('CUSTOMER_TRANSACTIONS');
  const items = await raw('CUSTOMER_TRANSACTION_ITEMS');
  const events = await raw('CUSTOMER_BEHAVIORAL_EVENTS');
  const sessions = await raw('CUSTOMER_SESSION_DATA');
  const prefs = await raw('CUSTOMER_PREFERENCE_DATA');
  const customers = await raw('CUSTOMERS');
  const excluded: Record<string, number> = {};

  await classifyTransactions(engine, tx, excluded);

  // Lines: products of clean purchases are positive signals; returned lines (or lines of return/refund
  // transactions) are exclusions; everything else is counted and left out.
  await engine.run(`CREATE OR REPLACE TABLE lines_classified AS ${linesClassifiedSql(items, 'tx_classified')}`);
  for (const r of await engine.all<{ k: string; n: string }>(`SELECT _excl AS k, count(*) AS n FROM lines_classified WHERE _excl IS NOT NULL GROUP BY 1`)) {
    excluded[`items.${r.k}`] = Number(r.n);
  }
  await engine.run(`CREATE OR REPLACE TABLE base_lines AS ${baseLinesSql('lines_classified')}`);
  await engine.run(`CREATE OR REPLACE TABLE base_returns AS ${baseReturnsSql('lines_classified')}`);

  await engine.run(`CREATE OR REPLACE TABLE base_events AS ${baseEventsSql(events)}`);
  excluded['events.missing_date'] = await count(engine, `SELECT count(*) FROM ${events} WHERE EVENT_DATE IS NULL`);
  excluded['sessions.missing_customer_or_start'] = await count(engine, `SELECT count(*) FROM ${sessions} WHERE CUSTOMER360_ID IS NULL OR SESSION_START IS NULL`);
  excluded['preferences.missing_or_inactive'] = await count(engine, `SELECT count(*) FROM ${prefs}
    WHERE CUSTOMER360_ID IS NULL OR PREFERENCE_DATE IS NULL OR PREFERENCE_VALUE IS NULL OR coalesce(upper(PREFERENCE_STATUS), 'ACTIVE') <> 'ACTIVE'`);
  await engine.run(`CREATE OR REPLACE TABLE base_sessions AS ${baseSessionsSql(sessions)}`);
  await engine.run(`CREATE OR REPLACE TABLE base_prefs AS ${basePrefsSql(prefs)}`);
  // Customers have no event time; a registration after the as-of date means the customer did not exist yet.
  await engine.run(`CREATE OR REPLACE TABLE base_customers AS ${baseCustomersSql(customers, asOf)}`);
  excluded['customers.missing_customer360_id'] = await count(engine, `SELECT count(*) FROM ${customers} WHERE CUSTOMER360_ID IS NULL`);
  for (const k of Object.keys(excluded)) if (excluded[k] === 0) delete excluded[k];
  return { inputs, rowCounts: await baseCounts(engine), excluded };
}

export const BASE_TABLES = ['base_tx', 'base_lines', 'base_returns', 'base_events', 'base_sessions', 'base_prefs', 'base_customers'] as const;

async function baseCounts(engine: Engine): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of BASE_TABLES) out[t] = await count(engine, `SELECT count(*) FROM ${t}`);
  return out;
}

/**
 * Loads CDNOW_sample.txt (master_id, sample_id, yyyymmdd, CDs, dollars; whitespace-separated) as purchases of
 * customers CDNOW-<sample_id>. Zero-dollar purchases count as purchase occasions (as in the published fits).
 */
export async function loadCdnow(engine: Engine, file: string): Promise<LoadResult> {
  const text = await readFile(file, 'utf8');
  const rows: string[] = [];
  let line = 0;
  for (const raw of text.split(/\r?\n/)) {
    line++;
    const f = raw.trim().split(/\s+/);
    if (f.length === 1 && f[0] === '') continue;
    if (f.length !== 5 || !/^\d{8}$/.test(f[2]!) || Number.isNaN(Number(f[4]))) throw new Error(`${file}:${line}: expected 5 fields 'master_id sample_id yyyymmdd cds dollars', got '${raw.trim()}'`);
    const d = f[2]!;
    rows.push(`('CDNOW-${Number(f[1])}', '${line}', DATE '${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}', ${Number(f[3])}, ${Number(f[4])})`);
  }
  await engine.run(`CREATE OR REPLACE TABLE cdnow_raw (CUSTOMER360_ID VARCHAR, TRANSACTION_ID VARCHAR, TX_DATE DATE, CDS INTEGER, AMOUNT DOUBLE)`);
  for (let i = 0; i < rows.length; i += 5000) await engine.run(`INSERT INTO cdnow_raw VALUES ${rows.slice(i, i + 5000).join(',')}`);
  const excluded: Record<string, number> = {};
  const negative = await count(engine, `SELECT count(*) FROM cdnow_raw WHERE AMOUNT < 0`);
  if (negative) excluded['transactions.negative_amount'] = negative;
  await engine.run(`CREATE OR REPLACE TABLE base_tx AS SELECT CUSTOMER360_ID, TRANSACTION_ID, TX_DATE, AMOUNT FROM cdnow_raw WHERE AMOUNT >= 0`);
  await engine.run(`CREATE OR REPLACE TABLE base_lines AS SELECT CUSTOMER360_ID, TRANSACTION_ID, TX_DATE, 'CD' AS PRODUCT_ID, 'MUSIC' AS CATEGORY,
    CAST(NULL AS VARCHAR) AS BRAND, 'CD' AS PRODUCT_NAME, CDS AS QUANTITY, AMOUNT FROM cdnow_raw WHERE AMOUNT >= 0`);
  await engine.run(`CREATE OR REPLACE TABLE base_returns (CUSTOMER360_ID VARCHAR, PRODUCT_ID VARCHAR, TX_DATE DATE)`);
  await engine.run(`CREATE OR REPLACE TABLE base_events (CUSTOMER360_ID VARCHAR, SESSION_ID VARCHAR, EVENT_DATE DATE, EVENT_TYPE VARCHAR, PRODUCT_ID VARCHAR, CATEGORY VARCHAR)`);
  await engine.run(`CREATE OR REPLACE TABLE base_sessions (CUSTOMER360_ID VARCHAR, SESSION_ID VARCHAR, SESSION_DATE DATE)`);
  await engine.run(`CREATE OR REPLACE TABLE base_prefs (CUSTOMER360_ID VARCHAR, PREFERENCE_TYPE VARCHAR, PREFERENCE_VALUE VARCHAR, STRENGTH DOUBLE, PREFERENCE_DATE DATE)`);
  await engine.run(`CREATE OR REPLACE TABLE base_customers AS SELECT DISTINCT CUSTOMER360_ID, CAST(NULL AS DATE) AS REGISTRATION_DATE FROM cdnow_raw`);
  return { inputs: [file], rowCounts: await baseCounts(engine), excluded };
}

/** Latest purchase date in the loaded data (the default as-of date). */
export async function latestDate(engine: Engine): Promise<string | undefined> {
  const d = await engine.scalar<string | null>(`SELECT CAST(max(TX_DATE) AS VARCHAR) FROM base_tx`);
  return d ?? undefined;
}
