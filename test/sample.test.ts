// The sample generator end to end on small samples: determinism, contract shape, truth reproducible by an
// independent check (SQL generated here from the contracts: TRY_CAST, regexp_full_match, json), FK integrity of
// clean rows, and the behaviour the downstream parts rely on (funnel, sessions, amounts, returns, tickets).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS, FORMAT_PATTERNS, type ColumnDef, type TableContract } from '../schemas/index.ts';
import { Engine, ident, lit } from '../src/engine/duckdb.ts';
import { generateSample, type SampleSummary } from '../src/sample/generate.ts';

let dir: string;
let a: string;
let summaryA: SampleSummary;
let engine: Engine;
const RATE = 0.03;

const file = (root: string, table: string) => lit(join(root, `${table}.parquet`));
const q = <T = Record<string, unknown>>(sql: string) => engine.all<T>(sql);
const n = async (sql: string) => Number(await engine.scalar(sql));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-sample-test-'));
  a = join(dir, 'a');
  summaryA = await generateSample({ customers: 600, days: 120, seed: 11, out: a, defectRate: RATE, duplicatePersonRate: 0.2 });
  engine = await Engine.open();
  // Clean rows of every table (not a defect row) as views for the behaviour checks.
  for (const c of CONTRACTS) {
    await engine.run(`CREATE VIEW ${ident(`all_${c.name}`)} AS SELECT file_row_number + 1 AS rn, * EXCLUDE (file_row_number) FROM read_parquet(${file(a, c.name)}, file_row_number = true)`);
    await engine.run(`CREATE VIEW ${ident(c.name)} AS SELECT * FROM ${ident(`all_${c.name}`)} WHERE rn NOT IN (SELECT ROW_NUMBER FROM read_parquet(${lit(join(a, '_truth', 'defects.parquet'))}) WHERE "TABLE" = ${lit(c.name)})`);
  }
  await engine.run(`CREATE VIEW defects AS SELECT * FROM read_parquet(${lit(join(a, '_truth', 'defects.parquet'))})`);
  await engine.run(`CREATE VIEW identity AS SELECT * FROM read_parquet(${lit(join(a, '_truth', 'identity.parquet'))})`);
  await engine.run(`CREATE VIEW persons AS SELECT * FROM read_parquet(${lit(join(a, '_truth', 'persons.parquet'))})`);
}, 60_000);

afterAll(async () => {
  engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The validator's rules for one column, as SQL producing 'COLUMN:CODE' or NULL (independent of src/sample). */
function columnChecks(col: ColumnDef): string[] {
  const v = `NULLIF(trim(${ident(col.name)}), '')`;
  const code = (c: string) => lit(`${col.name}:${c}`);
  const t = col.type;
  const sqlType = t.kind === 'integer' ? 'INTEGER' : t.kind === 'decimal' ? `DECIMAL(${t.precision},${t.scale})` : t.kind === 'date' ? 'DATE' : t.kind === 'timestamp' ? 'TIMESTAMP' : null;
  const out: string[] = [];
  if (col.required) out.push(`CASE WHEN ${v} IS NULL THEN ${code('REQUIRED')} END`);
  if (sqlType) out.push(`CASE WHEN ${v} IS NOT NULL AND TRY_CAST(${v} AS ${sqlType}) IS NULL THEN ${code('TYPE')} END`);
  if (t.kind === 'boolean') out.push(`CASE WHEN ${v} IS NOT NULL AND lower(${v}) NOT IN ('true', 'false') THEN ${code('TYPE')} END`);
  if (t.kind === 'varchar') out.push(`CASE WHEN length(${v}) > ${t.length} THEN ${code('TOO_LONG')} END`);
  if (col.enum) out.push(`CASE WHEN upper(${v}) NOT IN (${col.enum.map((e) => lit(e.toUpperCase())).join(', ')}) THEN ${code('ENUM')} END`);
  if (sqlType && (col.min !== undefined || col.max !== undefined)) {
    const x = `TRY_CAST(${v} AS ${sqlType})`;
    const conds = [col.min !== undefined ? `${x} < ${col.min}` : null, col.max !== undefined ? `${x} > ${col.max}` : null].filter(Boolean);
    out.push(`CASE WHEN ${conds.join(' OR ')} THEN ${code('RANGE')} END`);
  }
  if (col.format === 'json_array') {
    out.push(`CASE WHEN ${v} IS NOT NULL AND NOT (json_valid(${v}) AND coalesce(json_type(CASE WHEN json_valid(${v}) THEN ${v} END) = 'ARRAY', false)) THEN ${code('FORMAT')} END`);
  } else if (col.format) {
    out.push(`CASE WHEN ${v} IS NOT NULL AND NOT regexp_full_match(${v}, ${lit(FORMAT_PATTERNS[col.format])}) THEN ${code('FORMAT')} END`);
  }
  return out;
}

function reasonsSql(c: TableContract): string {
  return `list_filter([${c.columns.flatMap(columnChecks).join(', ')}]::VARCHAR[], x -> x IS NOT NULL)`;
}

describe('c360 sample: files and determinism', () => {
  it('writes all 12 tables with exactly the contract columns as VARCHAR (+ SOURCE_SYSTEM on CUSTOMERS) and the truth', async () => {
    for (const c of CONTRACTS) {
      const cols = await q<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${file(a, c.name)})`);
      const expected = c.columns.map((x) => x.name).concat(c.name === 'CUSTOMERS' ? ['SOURCE_SYSTEM'] : []);
      expect(cols.map((x) => x.column_name), c.name).toEqual(expected);
      expect(new Set(cols.map((x) => x.column_type))).toEqual(new Set(['VARCHAR']));
      expect(await n(`SELECT count(*) FROM read_parquet(${file(a, c.name)})`)).toBe(summaryA.tables[c.name]!.rows);
      expect(summaryA.tables[c.name]!.rows, c.name).toBeGreaterThan(0);
    }
    const truth = await q<{ column_name: string; column_type: string }>(`DESCRIBE defects`);
    expect(truth.map((x) => `${x.column_name} ${x.column_type}`)).toEqual(['TABLE VARCHAR', 'ROW_NUMBER BIGINT', 'PRIMARY_KEY VARCHAR', 'REASONS VARCHAR[]', 'DUPLICATE_OF_ROW INTEGER']);
    const identity = await q<{ column_name: string }>(`DESCRIBE identity`);
    expect(identity.map((x) => x.column_name)).toEqual(['SOURCE_SYSTEM', 'CUSTOMER_ID', 'PERSON_ID']);
  });

  it('gives byte-identical files for the same arguments and different data for another seed', async () => {
    const b = join(dir, 'b');
    const c = join(dir, 'c');
    await generateSample({ customers: 600, days: 120, seed: 11, out: b, defectRate: RATE, duplicatePersonRate: 0.2 });
    await generateSample({ customers: 600, days: 120, seed: 12, out: c, defectRate: RATE, duplicatePersonRate: 0.2 });
    for (const t of CONTRACTS.map((x) => x.name).concat(['_truth/defects', '_truth/identity', '_truth/persons'])) {
      const [fa, fb] = await Promise.all([readFile(join(a, `${t}.parquet`)), readFile(join(b, `${t}.parquet`))]);
      expect(fa.equals(fb), t).toBe(true);
    }
    const differing = await n(`SELECT count(*) FROM (SELECT * FROM read_parquet(${file(a, 'CUSTOMER_TRANSACTIONS')}) EXCEPT SELECT * FROM read_parquet(${file(c, 'CUSTOMER_TRANSACTIONS')}))`);
    expect(differing).toBeGreaterThan(100);
  }, 60_000);
});

describe('c360 sample: defects and their truth', () => {
  it('every row: the independent check finds exactly the truth codes (clean rows none, duplicates none)', async () => {
    for (const c of CONTRACTS) {
      const rows = await q<{ rn: number; got: string[]; truth: string[] | null; dup: number | null }>(
        `SELECT a.rn, ${reasonsSql(c)} AS got, d.REASONS AS truth, d.DUPLICATE_OF_ROW AS dup
         FROM ${ident(`all_${c.name}`)} a LEFT JOIN (SELECT * FROM defects WHERE "TABLE" = ${lit(c.name)}) d ON d.ROW_NUMBER = a.rn`,
      );
      let mismatches = 0;
      const examples: unknown[] = [];
      for (const r of rows) {
        const got = [...r.got].sort();
        const want = [...(r.truth ?? [])].sort();
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          mismatches++;
          if (examples.length < 5) examples.push(r);
        }
      }
      expect({ table: c.name, mismatches, examples }).toEqual({ table: c.name, mismatches: 0, examples: [] });
    }
  });

  it('truth rows point at real rows; duplicates are identical to an earlier clean row with the same key', async () => {
    expect(await n(`SELECT count(*) FROM defects WHERE len(REASONS) = 0 AND DUPLICATE_OF_ROW IS NULL`)).toBe(0);
    expect(await n(`SELECT count(*) FROM defects WHERE len(REASONS) > 0 AND DUPLICATE_OF_ROW IS NOT NULL`)).toBe(0);
    for (const c of CONTRACTS) {
      const all = ident(`all_${c.name}`);
      const names = c.columns.map((x) => x.name).concat(c.name === 'CUSTOMERS' ? ['SOURCE_SYSTEM'] : []);
      const cols = (alias: string) => names.map((x) => `${alias}.${ident(x)}`).join(', ');
      const dups = await n(`SELECT count(*) FROM defects WHERE "TABLE" = ${lit(c.name)} AND DUPLICATE_OF_ROW IS NOT NULL`);
      const identical = await n(`SELECT count(*) FROM defects d JOIN ${all} x ON x.rn = d.ROW_NUMBER JOIN ${all} o ON o.rn = d.DUPLICATE_OF_ROW
        WHERE d."TABLE" = ${lit(c.name)} AND o.rn < x.rn AND row(${cols('o')}) IS NOT DISTINCT FROM row(${cols('x')})`);
      expect(identical, c.name).toBe(dups);
      const pk = ident(c.primaryKey[0]!);
      const pkMismatch = await n(`SELECT count(*) FROM defects d JOIN ${all} x ON x.rn = d.ROW_NUMBER WHERE d."TABLE" = ${lit(c.name)} AND d.PRIMARY_KEY IS DISTINCT FROM x.${pk}`);
      expect(pkMismatch, c.name).toBe(0);
    }
  });

  it('injects defects at the requested rate, of every kind, and some rows with several problems', async () => {
    let rows = 0;
    let defects = 0;
    for (const c of CONTRACTS) {
      const t = summaryA.tables[c.name]!;
      expect(t.defects, c.name).toBeGreaterThanOrEqual(1);
      if (t.rows >= 1000) expect(Math.abs(t.defects / t.rows - RATE), c.name).toBeLessThan(0.01);
      rows += t.rows;
      defects += t.defects;
    }
    expect(Math.abs(defects / rows - RATE)).toBeLessThan(0.003);
    expect(await n('SELECT count(*) FROM defects')).toBe(defects);
    const codes = await q<{ code: string }>(`SELECT DISTINCT split_part(unnest(REASONS), ':', 2) AS code FROM defects ORDER BY 1`);
    expect(codes.map((r) => r.code)).toEqual(['ENUM', 'FORMAT', 'RANGE', 'REQUIRED', 'TOO_LONG', 'TYPE']);
    expect(await n(`SELECT count(*) FROM defects WHERE len(REASONS) >= 2`)).toBeGreaterThan(10);
    expect(await n(`SELECT count(*) FROM defects WHERE DUPLICATE_OF_ROW IS NOT NULL`)).toBeGreaterThan(10);
    // The kinds the issue names, seen in the values themselves.
    expect(await n(`SELECT count(*) FROM defects WHERE list_contains(REASONS, 'EMAIL_ADDRESS:FORMAT')`)).toBeGreaterThan(0);
    expect(await n(`SELECT count(*) FROM defects WHERE list_contains(REASONS, 'INTERESTS:FORMAT') OR list_contains(REASONS, 'KEYWORDS:FORMAT') OR list_contains(REASONS, 'LIFESTYLE_FACTORS:FORMAT')`)).toBeGreaterThan(0);
  });
});

describe('c360 sample: integrity and behaviour of the clean rows', () => {
  it('keeps every foreign key of clean rows inside the clean parent rows', async () => {
    let checked = 0;
    for (const c of CONTRACTS) {
      for (const col of c.columns.filter((x) => x.references)) {
        const ref = col.references!;
        const orphans = await n(`SELECT count(*) FROM ${ident(c.name)} x WHERE x.${ident(col.name)} IS NOT NULL
          AND x.${ident(col.name)} NOT IN (SELECT ${ident(ref.column)} FROM ${ident(ref.table)} WHERE ${ident(ref.column)} IS NOT NULL)`);
        expect(orphans, `${c.name}.${col.name}`).toBe(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('runs the campaign funnel SENT > DELIVERED > OPENED > CLICKED in time order with fewer at each step', async () => {
    const steps = await q<{ a: string; k: number }>(`SELECT ENGAGEMENT_ACTION a, count(*)::INT k FROM CUSTOMER_ENGAGEMENT_EVENTS GROUP BY 1`);
    const k = Object.fromEntries(steps.map((s) => [s.a, s.k]));
    expect(k.SENT).toBeGreaterThan(k.DELIVERED);
    expect(k.DELIVERED).toBeGreaterThan(k.OPENED);
    expect(k.OPENED).toBeGreaterThan(k.CLICKED);
    expect(k.CLICKED).toBeGreaterThan(0);
    const outOfOrder = await n(`WITH f AS (SELECT CUSTOMER_ID, CAMPAIGN_ID,
        min(CASE WHEN ENGAGEMENT_ACTION = 'SENT' THEN ENGAGEMENT_DATE::TIMESTAMP END) s, min(CASE WHEN ENGAGEMENT_ACTION = 'DELIVERED' THEN ENGAGEMENT_DATE::TIMESTAMP END) d,
        min(CASE WHEN ENGAGEMENT_ACTION = 'OPENED' THEN ENGAGEMENT_DATE::TIMESTAMP END) o, min(CASE WHEN ENGAGEMENT_ACTION = 'CLICKED' THEN ENGAGEMENT_DATE::TIMESTAMP END) c
        FROM CUSTOMER_ENGAGEMENT_EVENTS GROUP BY ALL)
      SELECT count(*) FROM f WHERE s IS NULL OR (d IS NOT NULL AND d < s) OR (o IS NOT NULL AND (d IS NULL OR o < d)) OR (c IS NOT NULL AND (o IS NULL OR c < o))`);
    expect(outOfOrder).toBe(0);
    // Conversions are recorded on clicks and are real purchases with the campaign's promotion code.
    const conversions = await n(`SELECT count(*) FROM CUSTOMER_ENGAGEMENT_EVENTS WHERE CONVERSION_RESULT = 'PURCHASE'`);
    expect(conversions).toBeGreaterThan(0);
    expect(await n(`SELECT count(*) FROM CUSTOMER_ENGAGEMENT_EVENTS WHERE CONVERSION_RESULT IS NOT NULL AND ENGAGEMENT_ACTION <> 'CLICKED'`)).toBe(0);
    expect(await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS WHERE PROMOTION_CODE LIKE 'PR-CMP%'`)).toBeGreaterThanOrEqual(conversions * 0.9);
  });

  it('puts events inside their sessions, counts page views, and adds to cart before converting', async () => {
    const outside = await n(`SELECT count(*) FROM CUSTOMER_BEHAVIORAL_EVENTS e JOIN CUSTOMER_SESSION_DATA s USING (SESSION_ID)
      WHERE e.EVENT_DATE::TIMESTAMP < s.SESSION_START::TIMESTAMP OR e.EVENT_DATE::TIMESTAMP > s.SESSION_END::TIMESTAMP OR e.CUSTOMER_ID IS DISTINCT FROM s.CUSTOMER_ID`);
    expect(outside).toBe(0);
    // Sessions whose events are all clean (no event defect clone was removed) have PAGE_VIEWS = their page views.
    const wrongCounts = await n(`SELECT count(*) FROM CUSTOMER_SESSION_DATA s LEFT JOIN (SELECT SESSION_ID, count(*) FILTER (EVENT_TYPE = 'PAGE_VIEW') pv FROM CUSTOMER_BEHAVIORAL_EVENTS GROUP BY 1) e USING (SESSION_ID)
      WHERE s.PAGE_VIEWS::INT IS DISTINCT FROM e.pv OR date_diff('second', s.SESSION_START::TIMESTAMP, s.SESSION_END::TIMESTAMP) <> s.SESSION_DURATION::INT`);
    expect(wrongCounts).toBe(0);
    const convertedWithoutCart = await n(`SELECT count(*) FROM CUSTOMER_SESSION_DATA s WHERE CONVERSION_EVENT = 'true'
      AND NOT EXISTS (SELECT 1 FROM CUSTOMER_BEHAVIORAL_EVENTS e WHERE e.SESSION_ID = s.SESSION_ID AND e.EVENT_TYPE = 'CART_ADD')`);
    expect(convertedWithoutCart).toBe(0);
    expect(await n(`SELECT count(*) FROM CUSTOMER_SESSION_DATA WHERE CONVERSION_EVENT = 'true'`)).toBeGreaterThan(50);
    expect(await n(`SELECT count(*) FROM CUSTOMER_SESSION_DATA WHERE CAMPAIGN_ID IS NOT NULL`)).toBeGreaterThan(10);
    expect(await n(`SELECT count(*) FROM CUSTOMER_SESSION_DATA WHERE CUSTOMER_ID IS NULL`)).toBeGreaterThan(10);
  });

  it('keeps amounts consistent with items, one product catalogue, and returns referencing earlier purchases', async () => {
    const inconsistent = await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS t JOIN (SELECT TRANSACTION_ID, sum(TOTAL_PRICE::DECIMAL(12,2)) items, sum(DISCOUNT_AMOUNT::DECIMAL(12,2)) disc FROM CUSTOMER_TRANSACTION_ITEMS GROUP BY 1) i USING (TRANSACTION_ID)
      WHERE t.TOTAL_AMOUNT::DECIMAL(12,2) <> i.items + t.TAX_AMOUNT::DECIMAL(12,2) + t.SHIPPING_AMOUNT::DECIMAL(12,2) OR t.DISCOUNT_AMOUNT::DECIMAL(12,2) <> i.disc`);
    expect(inconsistent).toBe(0);
    expect(await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS WHERE TRANSACTION_ID NOT IN (SELECT TRANSACTION_ID FROM CUSTOMER_TRANSACTION_ITEMS)`)).toBe(0);
    const lineMath = await n(`SELECT count(*) FROM CUSTOMER_TRANSACTION_ITEMS WHERE TOTAL_PRICE::DECIMAL(12,2) <> QUANTITY::INT * UNIT_PRICE::DECIMAL(12,2) - DISCOUNT_AMOUNT::DECIMAL(12,2)`);
    expect(lineMath).toBe(0);
    const inconsistentProducts = await n(`SELECT count(*) FROM (SELECT PRODUCT_ID FROM CUSTOMER_TRANSACTION_ITEMS GROUP BY 1
      HAVING count(DISTINCT (PRODUCT_NAME, CATEGORY, SUBCATEGORY, BRAND, SKU, UNIT_PRICE)) > 1)`);
    expect(inconsistentProducts).toBe(0);
    const statuses = await q<{ s: string }>(`SELECT DISTINCT TRANSACTION_STATUS s FROM CUSTOMER_TRANSACTIONS ORDER BY 1`);
    expect(statuses.map((r) => r.s)).toEqual(expect.arrayContaining(['CANCELLED', 'COMPLETED', 'FAILED']));
    const returns = await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS WHERE TRANSACTION_TYPE = 'RETURN'`);
    expect(returns).toBeGreaterThan(10);
    const unmatched = await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS r JOIN CUSTOMER_TRANSACTION_ITEMS ri USING (TRANSACTION_ID) WHERE r.TRANSACTION_TYPE = 'RETURN' AND (ri.ITEM_STATUS <> 'RETURNED' OR NOT EXISTS (
        SELECT 1 FROM CUSTOMER_TRANSACTIONS p JOIN CUSTOMER_TRANSACTION_ITEMS pi USING (TRANSACTION_ID)
        WHERE p.TRANSACTION_TYPE = 'PURCHASE' AND p.TRANSACTION_STATUS = 'COMPLETED' AND p.RECEIPT_NUMBER = r.RECEIPT_NUMBER AND p.CUSTOMER_ID = r.CUSTOMER_ID
          AND p.TRANSACTION_DATE::TIMESTAMP < r.TRANSACTION_DATE::TIMESTAMP AND pi.PRODUCT_ID = ri.PRODUCT_ID))`);
    expect(unmatched).toBe(0);
  });

  it('shows power-law popularity, repeat and one-off buyers, churners who stop buying, and category affinity', async () => {
    const top10 = await n(`WITH p AS (SELECT PRODUCT_ID, count(*) k FROM CUSTOMER_TRANSACTION_ITEMS GROUP BY 1), r AS (SELECT k, row_number() OVER (ORDER BY k DESC) i, count(*) OVER () m FROM p)
      SELECT sum(k) FILTER (i <= m / 10) / sum(k) FROM r`);
    expect(top10).toBeGreaterThan(0.35);
    const buyers = await q<{ one: number; repeat: number }>(`SELECT count(*) FILTER (k = 1)::INT one, count(*) FILTER (k >= 3)::INT repeat FROM (
      SELECT i.PERSON_ID, count(*) k FROM CUSTOMER_TRANSACTIONS t JOIN identity i USING (CUSTOMER_ID) WHERE TRANSACTION_TYPE = 'PURCHASE' AND TRANSACTION_STATUS = 'COMPLETED' GROUP BY 1)`);
    expect(buyers[0]!.one).toBeGreaterThan(30);
    expect(buyers[0]!.repeat).toBeGreaterThan(30);
    const churners = await n(`SELECT count(*) FROM persons WHERE CHURN_DATE IS NOT NULL`);
    expect(churners).toBeGreaterThan(60);
    // Nobody buys (outside a same-day retry) after they churned.
    const afterChurn = await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS t JOIN identity i USING (CUSTOMER_ID) JOIN persons p USING (PERSON_ID)
      WHERE t.TRANSACTION_TYPE = 'PURCHASE' AND t.TRANSACTION_DATE::DATE > p.CHURN_DATE + 1`);
    expect(afterChurn).toBe(0);
    // Purchases concentrate in the favourite category: far above its overall share.
    const affinity = await q<{ fav: number; base: number }>(`WITH items AS (SELECT i.PERSON_ID, it.CATEGORY FROM CUSTOMER_TRANSACTION_ITEMS it JOIN CUSTOMER_TRANSACTIONS t USING (TRANSACTION_ID) JOIN identity i USING (CUSTOMER_ID))
      SELECT avg((items.CATEGORY = p.FAVOURITE_CATEGORIES[1])::INT) fav, avg(1.0 / 9) base FROM items JOIN persons p USING (PERSON_ID)`);
    expect(affinity[0]!.fav).toBeGreaterThan(3 * affinity[0]!.base);
  });

  it('keeps every event time inside the window (campaigns may be planned beyond it)', async () => {
    const start = summaryA.window.start;
    const end = summaryA.window.end;
    for (const c of CONTRACTS.filter((x) => x.eventTime && x.name !== 'MARKETING_CAMPAIGNS')) {
      const outside = await n(`SELECT count(*) FROM ${ident(c.name)} WHERE CAST(${ident(c.eventTime!)} AS TIMESTAMP) NOT BETWEEN TIMESTAMP '${start} 00:00:00' - INTERVAL 1 HOUR AND TIMESTAMP '${end} 23:59:59'`);
      expect(outside, c.name).toBe(0);
    }
  });

  it('keeps ticket interactions between creation and resolution, resolution times agreeing, budgets above spend', async () => {
    const bad = await n(`SELECT count(*) FROM CUSTOMER_SERVICE_INTERACTIONS x JOIN CUSTOMER_SERVICE_TICKETS t USING (TICKET_ID)
      WHERE x.INTERACTION_DATE::TIMESTAMP < t.CREATION_DATE::TIMESTAMP OR x.INTERACTION_DATE::TIMESTAMP > coalesce(t.RESOLUTION_DATE::TIMESTAMP, '2026-10-31 23:59:59'::TIMESTAMP) OR x.CUSTOMER_ID <> t.CUSTOMER_ID`);
    expect(bad).toBe(0);
    const minutes = await n(`SELECT count(*) FROM CUSTOMER_SERVICE_TICKETS WHERE RESOLUTION_DATE IS NOT NULL
      AND date_diff('minute', CREATION_DATE::TIMESTAMP, RESOLUTION_DATE::TIMESTAMP) <> TOTAL_RESOLUTION_TIME::INT`);
    expect(minutes).toBe(0);
    expect(await n(`SELECT count(*) FROM CUSTOMER_SERVICE_TICKETS WHERE RESOLUTION_DATE IS NOT NULL`)).toBeGreaterThan(10);
    expect(await n(`SELECT count(*) FROM MARKETING_CAMPAIGNS WHERE BUDGET::DECIMAL(12,2) < SPENT_AMOUNT::DECIMAL(12,2)`)).toBe(0);
    expect(await n(`SELECT count(*) FROM EXTERNAL_CUSTOMER_PROFILES`)).toBeGreaterThan(50);
    expect(await n(`SELECT count(*) FROM EXTERNAL_CUSTOMER_SENTIMENT`)).toBeGreaterThan(50);
  });
});

describe('c360 sample: duplicate persons and the identity truth', () => {
  it('lists every clean customer record once, with its source system, and 2-3 records for about the requested share of people', async () => {
    expect(await n(`SELECT count(*) FROM identity`)).toBe(await n(`SELECT count(DISTINCT (SOURCE_SYSTEM, CUSTOMER_ID)) FROM CUSTOMERS`));
    expect(await n(`SELECT count(*) FROM CUSTOMERS c ANTI JOIN identity i ON i.CUSTOMER_ID = c.CUSTOMER_ID AND i.SOURCE_SYSTEM = c.SOURCE_SYSTEM`)).toBe(0);
    const ids = await q<{ id: string; s: string }>(`SELECT CUSTOMER_ID id, SOURCE_SYSTEM s FROM identity`);
    for (const r of ids) expect(r.id.slice(0, 3)).toBe({ CRM: 'CRM', ECOMMERCE: 'ECM', POS: 'POS', MARKETING: 'MKT', SUPPORT: 'SUP' }[r.s]);
    const sizes = await q<{ k: number; people: number }>(`SELECT k::INT k, count(*)::INT people FROM (SELECT PERSON_ID, count(*) k, count(DISTINCT SOURCE_SYSTEM) sys FROM identity GROUP BY 1 HAVING k = sys) GROUP BY 1 ORDER BY 1`);
    const people = sizes.reduce((s, r) => s + r.people, 0);
    expect(people).toBe(600);
    const multi = sizes.filter((r) => r.k >= 2).reduce((s, r) => s + r.people, 0);
    expect(multi / people).toBeGreaterThan(0.14);
    expect(multi / people).toBeLessThan(0.26);
    expect(sizes.map((r) => r.k)).toEqual([1, 2, 3]);
    // An email address (any case, blanks or +tag) belongs to one person only, except the placeholders systems use.
    const shared = await n(`SELECT count(*) FROM (SELECT regexp_replace(lower(trim(EMAIL_ADDRESS)), '\\+[a-z]+@', '@') e FROM CUSTOMERS JOIN identity USING (CUSTOMER_ID)
      WHERE EMAIL_ADDRESS IS NOT NULL GROUP BY 1 HAVING count(DISTINCT PERSON_ID) > 1 AND e NOT IN ('noemail@example.com', 'test@test.com', 'none@none.com'))`);
    expect(shared).toBe(0);
    // Linkable by evidence: every later record of a person shares an email (any spelling), a phone (any format) or
    // the unmoved address with the person's first record.
    const unlinkable = await n(`WITH c AS (SELECT c.*, i.PERSON_ID FROM CUSTOMERS c JOIN identity i USING (SOURCE_SYSTEM, CUSTOMER_ID)),
        p AS (SELECT c.* FROM c JOIN (SELECT PERSON_ID, min(rn) rn FROM c GROUP BY 1) f USING (PERSON_ID, rn))
      SELECT count(*) FROM c JOIN p USING (PERSON_ID) WHERE c.rn <> p.rn AND NOT (
        coalesce(regexp_replace(lower(trim(c.EMAIL_ADDRESS)), '\\+[a-z]+@', '@') = regexp_replace(lower(trim(p.EMAIL_ADDRESS)), '\\+[a-z]+@', '@'), false)
        OR coalesce(right(regexp_replace(c.PHONE_NUMBER, '[^0-9]', '', 'g'), 9) = right(regexp_replace(p.PHONE_NUMBER, '[^0-9]', '', 'g'), 9), false)
        OR coalesce(split_part(c.ADDRESS_LINE_1, ' ', 1) = split_part(p.ADDRESS_LINE_1, ' ', 1) AND split_part(c.ADDRESS_LINE_1, ' ', 2) = split_part(p.ADDRESS_LINE_1, ' ', 2) AND c.ZIP_CODE = p.ZIP_CODE, false))`);
    expect(unlinkable).toBe(0);
  });

  it('varies duplicate records the way real systems do, and files facts under each system\'s record', async () => {
    const pairs = await q<{ nameDiff: number; emailDiff: number; missing: number; n: number }>(`WITH c AS (SELECT c.*, i.PERSON_ID FROM CUSTOMERS c JOIN identity i USING (CUSTOMER_ID))
      SELECT count(*) FILTER (a.FIRST_NAME <> b.FIRST_NAME OR a.LAST_NAME <> b.LAST_NAME)::INT nameDiff,
             count(*) FILTER (a.EMAIL_ADDRESS <> b.EMAIL_ADDRESS)::INT emailDiff,
             count(*) FILTER (b.EMAIL_ADDRESS IS NULL OR b.PHONE_NUMBER IS NULL OR b.ADDRESS_LINE_1 IS NULL)::INT missing, count(*)::INT n
      FROM c a JOIN c b ON a.PERSON_ID = b.PERSON_ID AND a.CUSTOMER_ID < b.CUSTOMER_ID`);
    const p = pairs[0]!;
    expect(p.n).toBeGreaterThan(80);
    expect(p.nameDiff).toBeGreaterThan(p.n * 0.2);
    expect(p.emailDiff).toBeGreaterThan(p.n * 0.1);
    expect(p.missing).toBeGreaterThan(p.n * 0.3);
    // POS purchases use POS records when the person has one; most multi-record people have facts on 2+ records.
    const posOnOther = await n(`SELECT count(*) FROM CUSTOMER_TRANSACTIONS t JOIN identity i USING (CUSTOMER_ID)
      WHERE t.CHANNEL = 'POS' AND i.SOURCE_SYSTEM NOT IN ('POS', 'CRM') AND EXISTS (SELECT 1 FROM identity j WHERE j.PERSON_ID = i.PERSON_ID AND j.SOURCE_SYSTEM = 'POS')`);
    expect(posOnOther).toBe(0);
    const spread = await n(`WITH f AS (SELECT CUSTOMER_ID FROM CUSTOMER_TRANSACTIONS UNION SELECT CUSTOMER_ID FROM CUSTOMER_ENGAGEMENT_EVENTS UNION SELECT CUSTOMER_ID FROM CUSTOMER_SERVICE_TICKETS UNION SELECT CUSTOMER_ID FROM CUSTOMER_SESSION_DATA)
      SELECT avg((k >= 2)::INT) FROM (SELECT i.PERSON_ID, count(DISTINCT f.CUSTOMER_ID) k FROM identity i JOIN f USING (CUSTOMER_ID) WHERE i.PERSON_ID IN (SELECT PERSON_ID FROM identity GROUP BY 1 HAVING count(*) > 1) GROUP BY 1)`);
    expect(spread).toBeGreaterThan(0.6);
  });
});

describe('c360 sample: the command and its knobs', () => {
  it('runs from the CLI definition, honours --defect-rate 0, --duplicate-person-rate 0 and --end-date, and rejects bad flags', async () => {
    const { command } = await import('../src/cli/commands/sample.ts');
    const { parse } = await import('../src/cli/command.ts');
    const { silentLogger } = await import('../src/runtime/logger.ts');
    const out = join(dir, 'cli');
    const lines: string[] = [];
    const io = { log: silentLogger, out: (l: string) => lines.push(l) };
    const argv = ['--customers', '80', '--days', '30', '--seed', '3', '--out', out, '--defect-rate', '0', '--duplicate-person-rate', '0', '--end-date', '2025-12-31'];
    expect(await command.run(parse(command, argv).values, [], io)).toBe(0);
    expect(lines.at(-1)).toMatch(/^80 people, \d+ valid customer records, \d+ rows, window 2025-12-02\.\.2025-12-31/);
    expect(await n(`SELECT count(*) FROM read_parquet(${lit(join(out, '_truth', 'defects.parquet'))})`)).toBe(0);
    expect(await n(`SELECT count(*) FROM (SELECT PERSON_ID FROM read_parquet(${lit(join(out, '_truth', 'identity.parquet'))}) GROUP BY 1 HAVING count(*) > 1)`)).toBe(0);
    expect(await n(`SELECT max(TRANSACTION_DATE::TIMESTAMP) <= TIMESTAMP '2025-12-31 23:59:59' FROM read_parquet(${file(out, 'CUSTOMER_TRANSACTIONS')})`)).toBe(1);
    await expect(command.run(parse(command, ['--out', out, '--defect-rate', '0.9']).values, [], io)).rejects.toThrow(/--defect-rate must be between 0 and 0.5/);
    await expect(command.run(parse(command, ['--out', out, '--end-date', '2026-02-30']).values, [], io)).rejects.toThrow(/--end-date must be a (valid )?date/);
    await expect(command.run(parse(command, ['--customers', '10']).values, [], io)).rejects.toThrow(/--out is required/);
  });
});
