// The grocery panel's history features beyond the learned CLV's 24, shared by the CLV ceiling tests (not a test).
import { lit, type Engine } from '../src/engine/duckdb.ts';
import { loadTransactionFile } from '../src/intelligence/transactions-file.ts';

export const PANEL_DIR = new URL('./fixtures/retail/', import.meta.url).pathname;
export const CUTOFF = '2017-09-30';
export const HORIZON = 92;

/** Loads the panel into base_tx / base_lines, and `raw` (the file's own columns with department and category). */
export async function loadPanel(engine: Engine): Promise<void> {
  const dir = PANEL_DIR;
  await loadTransactionFile(engine, {
    file: `${dir}completejourney_transactions_sample.parquet`, catalogue: `${dir}completejourney_products.parquet`,
    customer: 'household_id', product: 'product_id', time: 'transaction_timestamp', quantity: 'quantity', amount: 'sales_value', basket: 'basket_id',
  });
  await engine.run(`CREATE TABLE raw AS SELECT CAST(household_id AS VARCHAR) AS C, t.*, p.department AS DEPT, p.product_category AS PCAT
    FROM '${dir}completejourney_transactions_sample.parquet' t LEFT JOIN '${dir}completejourney_products.parquet' p USING (product_id)
    WHERE quantity > 0 AND sales_value > 0`);
}

/** The 39 further history features per purchaser as of `d`, from base_tx and base_lines. */
export function historySql(d: string): string {
  const D = `DATE ${lit(d)}`;
  const age = `date_diff('day', TX_DATE, ${D})`;
  return `WITH t AS (SELECT CUSTOMER360_ID, TX_DATE, sum(AMOUNT) AS A, count(*) AS N FROM base_tx WHERE TX_DATE <= ${D} GROUP BY ALL),
  h AS (SELECT CUSTOMER360_ID,
    ${[7, 14, 30, 60, 90, 180, 365].map((w) => `ln(1 + coalesce(sum(A) FILTER (WHERE ${age} < ${w}), 0)) AS S${w}`).join(', ')},
    ${[14, 30, 60, 90, 180].map((w) => `ln(1 + count(*) FILTER (WHERE ${age} < ${w})) AS D${w}`).join(', ')},
    ${[14, 30, 60, 120, 240].map((w) => `ln(1 + sum(A * exp(-${age} / ${w}))) AS ES${w}`).join(', ')},
    ${[30, 60, 120].map((w) => `ln(1 + sum(exp(-${age} / ${w}))) AS ED${w}`).join(', ')},
    ln(1 + count(DISTINCT date_trunc('week', TX_DATE)) FILTER (WHERE ${age} < 91)) AS W13,
    ln(1 + count(DISTINCT date_trunc('week', TX_DATE)) FILTER (WHERE ${age} < 182)) AS W26,
    ln(1 + median(A)) AS MED_DAY, ln(1 + max(A)) AS MAX_DAY, coalesce(stddev_pop(ln(1 + A)), 0) AS SD_LOGDAY,
    ln(1 + avg(N)) AS TX_PER_DAY, ln(1 + arg_max(A, TX_DATE)) AS LAST_DAY,
    ln(1 + coalesce(sum(A) FILTER (WHERE ${age} < 90), 0)) - ln(1 + coalesce(sum(A) FILTER (WHERE ${age} >= 90 AND ${age} < 180), 0)) AS TREND,
    ln(1 + sum(A) / least(max(${age}) + 1, 365) * ${HORIZON}) AS RATE, ln(1 + sum(A * exp(-${age} / 60)) / 60 * ${HORIZON}) AS ES_RATE
    FROM t GROUP BY 1),
  l AS (SELECT * FROM base_lines WHERE TX_DATE <= ${D}),
  p AS (SELECT CUSTOMER360_ID, PRODUCT_ID, count(DISTINCT TX_DATE) AS PD FROM l GROUP BY ALL),
  pp AS (SELECT CUSTOMER360_ID, ln(1 + count(*)) AS NP, count(*) FILTER (WHERE PD >= 2) / count(*) AS NP2, count(*) FILTER (WHERE PD >= 4) / count(*) AS NP4,
    ln(1 + sum(PD) / count(*)) AS PD_PER_P FROM p GROUP BY 1),
  g AS (SELECT CUSTOMER360_ID, ln(1 + count(DISTINCT CATEGORY)) AS NC, ln(1 + count(*) / count(DISTINCT TX_DATE)) AS LINES_PER_DAY,
    ln(1 + sum(QUANTITY) / count(DISTINCT TX_DATE)) AS Q_PER_DAY,
    ln(1 + count(DISTINCT PRODUCT_ID) FILTER (WHERE TX_DATE > ${D} - INTERVAL 90 DAY)) AS NP90,
    ln(1 + count(DISTINCT CATEGORY) FILTER (WHERE TX_DATE > ${D} - INTERVAL 90 DAY)) AS NC90 FROM l GROUP BY 1)
  SELECT * FROM h LEFT JOIN pp USING (CUSTOMER360_ID) LEFT JOIN g USING (CUSTOMER360_ID)`;
}

/** The 24 product/category mix and basket structure features per household as of `cutoff` (from `raw`). */
export async function mixFeatures(engine: Engine, cutoff: string): Promise<Map<string, Record<string, unknown>>> {
  const D = `TIMESTAMP '${cutoff} 23:59:59'`;
  const depts = (await engine.all<{ d: string }>(`SELECT DEPT AS d FROM raw WHERE transaction_timestamp <= ${D} GROUP BY 1 ORDER BY sum(sales_value) DESC, 1 LIMIT 12`)).map((r) => r.d);
  return new Map((await engine.all<Record<string, unknown>>(`SELECT C,
    ${depts.map((d, i) => `coalesce(sum(sales_value) FILTER (WHERE DEPT = ${lit(d)}), 0) / sum(sales_value) AS DEP${i}`).join(', ')},
    ln(1 + count(DISTINCT basket_id)) AS NB, ln(1 + count(*) / count(DISTINCT basket_id)) AS LPB, ln(1 + sum(sales_value) / count(DISTINCT basket_id)) AS SPB,
    sum(retail_disc) / sum(sales_value + retail_disc) AS DISC, sum(coupon_disc) / sum(sales_value + retail_disc) AS COUP,
    avg(CASE WHEN coupon_disc > 0 THEN 1 ELSE 0 END) AS COUPLINES, ln(1 + count(DISTINCT store_id)) AS NST, max(CNT) / count(*) AS TOPSTORE,
    avg(CASE WHEN dayofweek(transaction_timestamp) IN (0, 6) THEN 1 ELSE 0 END) AS WEEKEND, avg(hour(transaction_timestamp)) / 24 AS HOUR,
    ln(1 + avg(sales_value / quantity)) AS UNITP, ln(1 + count(DISTINCT PCAT)) AS NPCAT
    FROM (SELECT *, count(*) OVER (PARTITION BY C, store_id) AS CNT FROM raw WHERE transaction_timestamp <= ${D}) GROUP BY 1`)).map((r) => [String(r.C), r]));
}

/** 10 line-level rate features: lines, exponentially decayed lines and spend (e-folds 30-240 days), mean line value. */
export const lineRateSql = (d: string) => `SELECT CUSTOMER360_ID, ln(1 + count(*)) AS LN,
  ${[30, 60, 120, 240].map((h) => `ln(1 + sum(exp(-date_diff('day', TX_DATE, DATE ${lit(d)}) / ${h}))) AS LD${h}, ln(1 + sum(AMOUNT * exp(-date_diff('day', TX_DATE, DATE ${lit(d)}) / ${h}))) AS LS${h}`).join(', ')},
  ln(1 + avg(AMOUNT)) AS LV FROM base_lines WHERE TX_DATE <= DATE ${lit(d)} GROUP BY 1`;

/** A row's numeric values without its key column. */
export const values = (r: Record<string, unknown> | undefined, key: string) => Object.entries(r ?? {}).filter(([k]) => k !== key).map(([, v]) => Number(v ?? 0));
