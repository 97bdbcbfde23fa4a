// Generated CUSTOMER_BEHAVIORAL_EVENTS drops for the streaming tests and benchmark: valid rows with distinct
// EVENT_IDs, some anonymous (no customer id), optionally every n-th row with a contract violation.
import { Engine, lit } from '../engine/duckdb.ts';

export interface BehavioralDropOptions {
  rows: number;
  /** Every n-th row (n > 0) gets an invalid EVENT_TYPE and a negative TIME_ON_PAGE: it must land in quarantine. */
  invalidEvery?: number;
  customers?: number;
  /** First event number (distinct ranges give distinct EVENT_IDs across drops). */
  start?: number;
}

export async function writeBehavioralDrop(file: string, o: BehavioralDropOptions): Promise<void> {
  const engine = await Engine.open();
  try {
    const bad = o.invalidEvery && o.invalidEvery > 0 ? `i % ${Math.floor(o.invalidEvery)} = ${Math.floor(o.invalidEvery) - 1}` : 'false';
    const start = o.start ?? 0;
    await engine.run(`COPY (SELECT
      'EV' || lpad(i::VARCHAR, 10, '0') AS EVENT_ID,
      CASE WHEN i % 10 = 3 THEN NULL ELSE 'C' || lpad((hash(i) % ${o.customers ?? 500})::VARCHAR, 6, '0') END AS CUSTOMER_ID,
      'S' || lpad((i // 7)::VARCHAR, 9, '0') AS SESSION_ID,
      CASE WHEN ${bad} THEN 'TELEPORT' ELSE ['PAGE_VIEW','CLICK','SCROLL','SEARCH','CART_ADD'][1 + i % 5] END AS EVENT_TYPE,
      TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i * 17) AS EVENT_DATE,
      'https://shop.example.com/p/' || (i % 1000) AS PAGE_URL,
      'Product page ' || (i % 1000) AS PAGE_TITLE,
      'P' || lpad((i % 1000)::VARCHAR, 5, '0') AS PRODUCT_ID,
      ['Shoes','Outdoor','Kitchen','Books'][1 + i % 4] AS CATEGORY_VIEWED,
      CASE WHEN i % 5 = 3 THEN 'running shoes' ELSE NULL END AS SEARCH_QUERY,
      CASE WHEN ${bad} THEN -5 ELSE (i % 300)::INTEGER END AS TIME_ON_PAGE,
      CAST((i % 100) / 100.0 AS DECIMAL(3,2)) AS SCROLL_DEPTH,
      ['DESKTOP','MOBILE','TABLET'][1 + i % 3] AS DEVICE_TYPE,
      'Firefox' AS BROWSER, 'Linux' AS OPERATING_SYSTEM, 'US' AS LOCATION_COUNTRY, 'Austin' AS LOCATION_CITY,
      CASE WHEN i % 4 = 0 THEN 'https://search.example.com/?q=x' ELSE NULL END AS REFERRER_URL
    FROM range(${start}, ${start + Math.floor(o.rows)}) t(i)) TO ${lit(file)} (FORMAT parquet)`);
  } finally {
    engine.close();
  }
}
