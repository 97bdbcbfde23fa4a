// Loads any transaction file a user has (CSV or Parquet, one row per purchase line) into the base_* tables the models
// read, through a column mapping given on the command line (`c360 evaluate --transactions FILE --customer COL ...`).
// Rows that cannot be purchases are never dropped silently: each is counted under a reason (returns and negative
// quantities become returns, which the recommender also uses), and a few examples per reason go into the report.
import { extname } from 'node:path';
import { stat } from 'node:fs/promises';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';
import type { LoadResult } from './input.ts';

export interface TransactionColumns {
  customer: string;
  /** Without a product column there is nothing to recommend; CLV and churn still run. */
  product?: string;
  time: string;
  quantity?: string;
  /** Line spend; without it a line is worth its quantity (or 1), so CLV ranks volume. */
  amount?: string;
  /** Basket / order id; without it a customer's lines of one day are one purchase. */
  basket?: string;
  /** strptime format for the time column (e.g. %Y%m%d, %d/%m/%Y %H:%M); default: ISO dates/timestamps. */
  timeFormat?: string;
}

export interface TransactionFileOptions extends TransactionColumns {
  file: string;
  /** Optional product catalogue (CSV or Parquet) keyed by the same product column name. */
  catalogue?: string;
}

/** Catalogue columns looked for, first match wins (case-insensitive). */
export const CATALOGUE_COLUMNS = {
  category: ['category', 'product_category', 'department'],
  brand: ['brand'],
  name: ['product_name', 'name', 'description'],
} as const;

export interface TransactionLoadResult extends LoadResult {
  /** Up to 3 offending rows per exclusion reason, as read. */
  examples: Record<string, Record<string, string | null>[]>;
  /** Which catalogue columns were used. */
  catalogueColumns?: Partial<Record<keyof typeof CATALOGUE_COLUMNS, string>>;
}

function readerSql(file: string, option: string): string {
  const ext = extname(file).toLowerCase();
  if (ext === '.parquet') return `read_parquet(${lit(file)})`;
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt' || ext === '.gz') return `read_csv(${lit(file)}, header = true, all_varchar = true)`;
  throw new UsageError(`--${option} ${file}: expected a .csv or .parquet file`);
}

async function columnsOf(engine: Engine, source: string): Promise<Map<string, string>> {
  const rows = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
  return new Map(rows.map((r) => [r.column_name, r.column_type]));
}

function requireColumn(cols: Map<string, string>, name: string, option: string, file: string): string {
  if (cols.has(name)) return name;
  const folded = [...cols.keys()].find((c) => c.toLowerCase() === name.toLowerCase());
  if (folded) return folded;
  throw new UsageError(`--${option} ${name}: no such column in ${file} (columns: ${[...cols.keys()].join(', ')})`);
}

/** SQL turning the time column into a TIMESTAMP (NULL when it does not parse). */
function timeSql(col: string, type: string, format?: string): string {
  const c = ident(col);
  if (format) return `try_strptime(CAST(${c} AS VARCHAR), ${lit(format)})`;
  if (/^(TIMESTAMP|DATE)/.test(type)) return `CAST(${c} AS TIMESTAMP)`;
  // ISO text, or compact yyyymmdd (as many exports write dates).
  return `coalesce(try_cast(trim(CAST(${c} AS VARCHAR)) AS TIMESTAMP), try_strptime(trim(CAST(${c} AS VARCHAR)), '%Y%m%d'))`;
}

/**
 * Loads the file into base_tx / base_lines / base_returns (and empty behavioural tables): the same canonical shape the
 * lake's Silver layer gives the models. Throws a UsageError naming the problem for a wrong mapping (missing column,
 * a time column where no value parses, a quantity or amount column that is not numeric).
 */
export async function loadTransactionFile(engine: Engine, o: TransactionFileOptions): Promise<TransactionLoadResult> {
  await stat(o.file).catch(() => { throw new UsageError(`--transactions ${o.file}: file not found`); });
  if (o.catalogue && !o.product) throw new UsageError('--catalogue needs --product (the catalogue is keyed by the product column)');
  const src = readerSql(o.file, 'transactions');
  const cols = await columnsOf(engine, src);
  const col = (option: string, name: string | undefined) => (name === undefined ? undefined : requireColumn(cols, name, option, o.file));
  const customer = col('customer', o.customer)!;
  const product = col('product', o.product);
  const time = col('time', o.time)!;
  const quantity = col('quantity', o.quantity);
  const amount = col('amount', o.amount);
  const basket = col('basket', o.basket);
  const num = (c: string) => `try_cast(trim(CAST(${ident(c)} AS VARCHAR)) AS DOUBLE)`;

  await engine.run(`CREATE OR REPLACE TABLE tf_raw AS SELECT row_number() OVER () AS ROW_NO, * FROM ${src}`);
  await engine.run(`CREATE OR REPLACE TABLE tf_typed AS SELECT ROW_NO,
      nullif(trim(CAST(${ident(customer)} AS VARCHAR)), '') AS CUSTOMER360_ID,
      ${product ? `nullif(trim(CAST(${ident(product)} AS VARCHAR)), '')` : `'ANY'`} AS PRODUCT_ID,
      ${timeSql(time, cols.get(time)!, o.timeFormat)} AS TS,
      ${quantity ? num(quantity) : '1.0'} AS QUANTITY,
      ${amount ? num(amount) : quantity ? num(quantity) : '1.0'} AS AMOUNT,
      ${basket ? `nullif(trim(CAST(${ident(basket)} AS VARCHAR)), '')` : 'NULL::VARCHAR'} AS BASKET,
      ${time === undefined ? 'NULL' : `CAST(${ident(time)} AS VARCHAR)`} AS TIME_TEXT,
      ${quantity ? `CAST(${ident(quantity)} AS VARCHAR)` : 'NULL::VARCHAR'} AS QUANTITY_TEXT,
      ${amount ? `CAST(${ident(amount)} AS VARCHAR)` : 'NULL::VARCHAR'} AS AMOUNT_TEXT
    FROM tf_raw`);
  const total = Number(await engine.scalar(`SELECT count(*) FROM tf_typed`));
  if (total === 0) throw new UsageError(`--transactions ${o.file}: no rows`);
  const parsed = Number(await engine.scalar(`SELECT count(*) FROM tf_typed WHERE TS IS NOT NULL`));
  if (parsed === 0) {
    const eg = await engine.all<{ t: string }>(`SELECT TIME_TEXT AS t FROM tf_typed WHERE TIME_TEXT IS NOT NULL LIMIT 3`);
    throw new UsageError(`--time ${time}: no value parses as a date or timestamp (e.g. ${eg.map((r) => `'${r.t}'`).join(', ') || 'all empty'}); pass --time-format, e.g. %d/%m/%Y`);
  }
  for (const [c, text, option] of [[quantity, 'QUANTITY_TEXT', 'quantity'], [amount, 'AMOUNT_TEXT', 'amount']] as const) {
    if (!c) continue;
    const numeric = Number(await engine.scalar(`SELECT count(*) FROM tf_typed WHERE ${option.toUpperCase()} IS NOT NULL`));
    if (numeric === 0) {
      const eg = await engine.all<{ t: string }>(`SELECT ${text} AS t FROM tf_typed WHERE ${text} IS NOT NULL LIMIT 3`);
      throw new UsageError(`--${option} ${c}: no value is a number (e.g. ${eg.map((r) => `'${r.t}'`).join(', ') || 'all empty'})`);
    }
  }

  // The first reason that applies, in this order; NULL = a purchase line.
  await engine.run(`CREATE OR REPLACE TABLE tf_classified AS SELECT *,
      CASE
        WHEN CUSTOMER360_ID IS NULL THEN 'missing_customer'
        WHEN TS IS NULL THEN CASE WHEN TIME_TEXT IS NULL OR trim(TIME_TEXT) = '' THEN 'missing_time' ELSE 'unparseable_time' END
        WHEN PRODUCT_ID IS NULL THEN 'missing_product'
        WHEN QUANTITY IS NULL THEN 'unparseable_quantity'
        WHEN AMOUNT IS NULL THEN 'unparseable_amount'
        WHEN QUANTITY < 0 THEN 'return_negative_quantity'
        WHEN AMOUNT < 0 THEN 'return_negative_amount'
        WHEN QUANTITY = 0 THEN 'zero_quantity'
        WHEN AMOUNT = 0 THEN 'zero_amount'
      END AS REASON
    FROM tf_typed`);
  const excluded: Record<string, number> = {};
  const examples: TransactionLoadResult['examples'] = {};
  for (const r of await engine.all<{ k: string; n: string }>(`SELECT REASON AS k, count(*) AS n FROM tf_classified WHERE REASON IS NOT NULL GROUP BY 1 ORDER BY 1`)) {
    excluded[`lines.${r.k}`] = Number(r.n);
    examples[`lines.${r.k}`] = await engine.all(`SELECT r.* EXCLUDE (ROW_NO), c.ROW_NO::INTEGER AS row FROM tf_classified c JOIN tf_raw r USING (ROW_NO)
      WHERE c.REASON = ${lit(r.k)} ORDER BY c.ROW_NO LIMIT 3`);
  }
  if (Number(await engine.scalar(`SELECT count(*) FROM tf_classified WHERE REASON IS NULL`)) === 0) {
    throw new UsageError(`--transactions ${o.file}: no row is a purchase (excluded: ${JSON.stringify(excluded)})`);
  }

  let catalogueColumns: TransactionLoadResult['catalogueColumns'];
  let catalogueJoin = '';
  let catSel = `NULL::VARCHAR AS CATEGORY, NULL::VARCHAR AS BRAND, NULL::VARCHAR AS PRODUCT_NAME`;
  if (o.catalogue) {
    await stat(o.catalogue).catch(() => { throw new UsageError(`--catalogue ${o.catalogue}: file not found`); });
    const csrc = readerSql(o.catalogue, 'catalogue');
    const ccols = await columnsOf(engine, csrc);
    const key = requireColumn(ccols, product!, 'product (in the catalogue)', o.catalogue);
    const find = (names: readonly string[]) => names.map((n) => [...ccols.keys()].find((c) => c.toLowerCase() === n)).find((c) => c !== undefined);
    catalogueColumns = {};
    const pick = (k: keyof typeof CATALOGUE_COLUMNS) => {
      const c = find(CATALOGUE_COLUMNS[k]);
      if (c) catalogueColumns![k] = c;
      return c ? `upper(trim(CAST(${ident(c)} AS VARCHAR)))` : 'NULL::VARCHAR';
    };
    const name = find(CATALOGUE_COLUMNS.name);
    // One row per product (the first by the file's order if it repeats one).
    await engine.run(`CREATE OR REPLACE TABLE tf_catalogue AS SELECT trim(CAST(${ident(key)} AS VARCHAR)) AS PRODUCT_ID,
        ${pick('category')} AS CATEGORY, ${pick('brand')} AS BRAND, ${name ? `CAST(${ident(name)} AS VARCHAR)` : 'NULL::VARCHAR'} AS PRODUCT_NAME
      FROM (SELECT *, row_number() OVER () AS _n FROM ${csrc}) QUALIFY row_number() OVER (PARTITION BY trim(CAST(${ident(key)} AS VARCHAR)) ORDER BY _n) = 1`);
    if (name) catalogueColumns.name = name;
    catalogueJoin = 'LEFT JOIN tf_catalogue k USING (PRODUCT_ID)';
    catSel = 'k.CATEGORY, k.BRAND, k.PRODUCT_NAME';
  }

  // A purchase is a basket (or a customer's day without a basket column); one customer per basket is assumed.
  const tid = basket ? `coalesce(BASKET, CUSTOMER360_ID || '|' || CAST(CAST(TS AS DATE) AS VARCHAR))` : `CUSTOMER360_ID || '|' || CAST(CAST(TS AS DATE) AS VARCHAR)`;
  await engine.run(`CREATE OR REPLACE TABLE base_lines AS
    SELECT CUSTOMER360_ID, ${tid} AS TRANSACTION_ID, CAST(TS AS DATE) AS TX_DATE, PRODUCT_ID, ${catSel}, QUANTITY, AMOUNT
    FROM tf_classified ${catalogueJoin} WHERE REASON IS NULL`);
  await engine.run(`CREATE OR REPLACE TABLE base_tx AS
    SELECT CUSTOMER360_ID, TRANSACTION_ID, min(TX_DATE) AS TX_DATE, sum(AMOUNT) AS AMOUNT FROM base_lines GROUP BY 1, 2`);
  await engine.run(`CREATE OR REPLACE TABLE base_returns AS
    SELECT DISTINCT CUSTOMER360_ID, PRODUCT_ID, CAST(TS AS DATE) AS TX_DATE FROM tf_classified WHERE REASON LIKE 'return_%'`);
  await engine.run(`CREATE OR REPLACE TABLE base_events (CUSTOMER360_ID VARCHAR, SESSION_ID VARCHAR, EVENT_DATE DATE, EVENT_TYPE VARCHAR, PRODUCT_ID VARCHAR, CATEGORY VARCHAR)`);
  await engine.run(`CREATE OR REPLACE TABLE base_sessions (CUSTOMER360_ID VARCHAR, SESSION_ID VARCHAR, SESSION_DATE DATE)`);
  await engine.run(`CREATE OR REPLACE TABLE base_prefs (CUSTOMER360_ID VARCHAR, PREFERENCE_TYPE VARCHAR, PREFERENCE_VALUE VARCHAR, STRENGTH DOUBLE, PREFERENCE_DATE DATE)`);
  await engine.run(`CREATE OR REPLACE TABLE base_customers AS SELECT DISTINCT CUSTOMER360_ID, CAST(NULL AS DATE) AS REGISTRATION_DATE FROM base_tx`);
  for (const t of ['tf_raw', 'tf_typed', 'tf_classified']) await engine.run(`DROP TABLE IF EXISTS ${t}`);
  const rowCounts: Record<string, number> = { input_lines: total };
  for (const t of ['base_tx', 'base_lines', 'base_returns', 'base_customers']) rowCounts[t] = Number(await engine.scalar(`SELECT count(*) FROM ${t}`));
  const inputs = [o.file, ...(o.catalogue ? [o.catalogue] : [])];
  return { inputs, rowCounts, excluded, examples, ...(catalogueColumns ? { catalogueColumns } : {}) };
}
