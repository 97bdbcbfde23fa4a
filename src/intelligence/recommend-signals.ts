// Recommendation signals as DuckDB SQL over compact relations (SignalInputs: by default grouped from the base_* tables;
// between trainings, the day-partitioned aggregates of src/intelligence/daily-inputs.ts), all cut at the as-of date D:
//   repeat      the customer's own purchases (count, decayed by recency): repeat buying is a real retail signal
//   cf          item-item collaborative filtering: co-purchase (customers) and co-view (sessions, anonymous too),
//               cosine similarity with shrinkage co/(co + lambda), neighbours of what the customer bought or viewed
//   content     affinity to categories, brands and products from purchases, views and stated preferences
//   popularity  recent distinct buyers (global); catpop: popularity within the customer's purchase categories
// Exclusions: products the customer returned, and products outside the catalogue (not sold in the last
// `catalogueDays`, or non-product lines, which base_lines never holds).
import { lit, type Engine } from '../engine/duckdb.ts';

export interface SignalOptions {
  catalogueDays: number;
  popularityDays: number;
  /** Shrinkage lambda for item-item similarity. */
  shrinkage: number;
  /** Weight of co-view similarity relative to co-purchase. */
  coViewWeight: number;
  neighbours: number;
  /** Candidates kept per customer per signal. */
  candidatesPerSignal: number;
  /** Content candidates kept per customer, by content score and (separately) by category popularity. */
  contentCandidates: number;
  /** Customers per batch of candidate generation (bounds memory; the result does not depend on it). */
  batchCustomers: number;
}

export const DEFAULT_SIGNAL_OPTIONS: SignalOptions = {
  catalogueDays: 180,
  popularityDays: 90,
  shrinkage: 5,
  coViewWeight: 0.5,
  neighbours: 30,
  candidatesPerSignal: 50,
  contentCandidates: 30,
  batchCustomers: 20_000,
};

/**
 * What the signals read, as relations whose rows each depend on one day's data only (so daily runs can keep them as
 * day-partitioned aggregates): counts replace repeated rows, which every signal below sums instead of counting.
 *   lines            (CUSTOMER360_ID, TX_DATE, PRODUCT_ID, CATEGORY, BRAND, PRODUCT_NAME, N): clean purchase lines
 *   views            (CUSTOMER360_ID, EVENT_DATE, PRODUCT_ID, CATEGORY, N): events of known people (product may be null)
 *   sessionProducts  (SESSION_ID, EVENT_DATE, PRODUCT_ID): distinct products of each session's events (session may be null)
 *   returns          (CUSTOMER360_ID, PRODUCT_ID, TX_DATE): returned products
 *   prefs            (CUSTOMER360_ID, PREFERENCE_DATE, PREFERENCE_TYPE, PREFERENCE_VALUE, STRENGTH): stated preferences (max strength)
 */
export interface SignalInputs {
  lines: string;
  views: string;
  sessionProducts: string;
  returns: string;
  prefs: string;
}

export const BASE_SIGNAL_INPUTS: SignalInputs = {
  lines: `(SELECT CUSTOMER360_ID, TX_DATE, PRODUCT_ID, CATEGORY, BRAND, PRODUCT_NAME, count(*) AS N FROM base_lines GROUP BY ALL)`,
  views: `(SELECT CUSTOMER360_ID, EVENT_DATE, PRODUCT_ID, CATEGORY, count(*) AS N FROM base_events WHERE CUSTOMER360_ID IS NOT NULL GROUP BY ALL)`,
  sessionProducts: `(SELECT DISTINCT SESSION_ID, EVENT_DATE, PRODUCT_ID FROM base_events WHERE PRODUCT_ID IS NOT NULL)`,
  returns: 'base_returns',
  prefs: `(SELECT CUSTOMER360_ID, PREFERENCE_DATE, PREFERENCE_TYPE, PREFERENCE_VALUE, max(STRENGTH) AS STRENGTH FROM base_prefs GROUP BY ALL)`,
};

export const SIGNALS = ['repeat', 'cf', 'content', 'popularity'] as const;
export type Signal = (typeof SIGNALS)[number];

/**
 * A sum of doubles that does not depend on the order of its terms: each term is fixed to 12 decimals and the sum is
 * exact (DECIMAL adds as integers). Rounding a double sum afterwards is not enough: a total near a rounding boundary
 * still flips between runs (seen on 2 of 9.6M recommendation scores at 1M customers).
 */
export function exactSum(term: string, filter?: string): string {
  return `CAST(sum(CAST(${term} AS DECIMAL(38, 12)))${filter ? ` FILTER (WHERE ${filter})` : ''} AS DOUBLE)`;
}

/**
 * Content matches (UK, PK, KIND, VALUE, S, CATPOP) of `<p>top` affinities with catalogue products: three equi-joins
 * (category, brand, product) rather than one join on an OR, which DuckDB could not hash.
 */
export function contentMatchSql(p: string, o: SignalOptions = DEFAULT_SIGNAL_OPTIONS, top = `${p}top`): string {
  return `
    SELECT t.UK, c.PK, t.KIND, t.VALUE, t.W * (0.5 + 0.5 * c.CAT_POP_NORM) AS S, t.WP * c.CAT_POP_NORM AS CATPOP
      FROM ${top} t JOIN ${p}catalog c ON c.CATEGORY = t.VALUE WHERE t.KIND = 'CATEGORY' AND c.CAT_RANK <= ${o.candidatesPerSignal}
    UNION ALL
    SELECT t.UK, c.PK, t.KIND, t.VALUE, t.W * (0.5 + 0.5 * c.POP_NORM), 0
      FROM ${top} t JOIN ${p}catalog c ON c.BRAND = t.VALUE WHERE t.KIND = 'BRAND' AND c.BRAND_RANK <= ${o.candidatesPerSignal}
    UNION ALL
    SELECT t.UK, c.PK, t.KIND, t.VALUE, t.W, 0
      FROM ${top} t JOIN ${p}catalog c ON c.PRODUCT_ID = t.VALUE WHERE t.KIND = 'PRODUCT'`;
}

/** Stored global signals (relations shaped like the tables buildGlobalSignals makes): product keys, catalogue, item similarity. */
export interface GlobalSignals {
  pid: string;
  catalog: string;
  itemSim: string;
}

/** The engine table (`<p><name>`) of each global signal. */
export const GLOBAL_SIGNAL_TABLES = { pid: 'pid', catalog: 'catalog', itemSim: 'item_sim' } as const;

/**
 * `<p>pid` (product keys), `<p>catalog` (products sold in the last catalogueDays, popularity) and `<p>item_sim` (item
 * neighbours): what every customer's ranking shares, from every customer's lines (`<p>in_lines`, `<p>hist`) and the
 * sessions of the last catalogueDays.
 */
async function buildGlobalSignals(engine: Engine, p: string, asOf: string, o: SignalOptions, inputs: SignalInputs): Promise<void> {
  const D = `DATE ${lit(asOf)}`;
  const run = (sql: string) => engine.run(sql);
  // Co-views count within catalogueDays only; products viewed before that and never bought are numbered by no signal
  // (keys are numbered in product-id order, so leaving them out changes no order).
  await run(`CREATE OR REPLACE TABLE ${p}in_sessions AS SELECT * FROM ${inputs.sessionProducts} WHERE EVENT_DATE <= ${D} AND EVENT_DATE > ${D} - INTERVAL ${o.catalogueDays} DAY`);
  await run(`CREATE OR REPLACE TABLE ${p}pid AS SELECT PRODUCT_ID, row_number() OVER (ORDER BY PRODUCT_ID)::INTEGER AS PK FROM (
      SELECT PRODUCT_ID FROM ${p}in_lines UNION SELECT PRODUCT_ID FROM ${p}in_sessions)`);
  await run(`CREATE OR REPLACE TABLE ${p}catalog AS
    WITH l AS (SELECT * FROM ${p}in_lines),
    agg AS (
      SELECT PRODUCT_ID, arg_max(CATEGORY, [epoch(TX_DATE), -hash(CATEGORY)]) AS CATEGORY, arg_max(BRAND, [epoch(TX_DATE), -hash(BRAND)]) AS BRAND,
        arg_max(PRODUCT_NAME, [epoch(TX_DATE), -hash(PRODUCT_NAME)]) AS PRODUCT_NAME, max(TX_DATE) AS LAST_SOLD,
        count(DISTINCT CUSTOMER360_ID) FILTER (WHERE TX_DATE > ${D} - INTERVAL ${o.popularityDays} DAY)
          + 0.1 * count(DISTINCT CUSTOMER360_ID) AS POP
      FROM l GROUP BY 1 HAVING max(TX_DATE) > ${D} - INTERVAL ${o.catalogueDays} DAY)
    SELECT agg.*, i.PK, POP / max(POP) OVER () AS POP_NORM, POP / max(POP) OVER (PARTITION BY CATEGORY) AS CAT_POP_NORM,
      row_number() OVER (PARTITION BY CATEGORY ORDER BY POP DESC, PRODUCT_ID) AS CAT_RANK,
      row_number() OVER (PARTITION BY BRAND ORDER BY POP DESC, PRODUCT_ID) AS BRAND_RANK,
      row_number() OVER (ORDER BY POP DESC, PRODUCT_ID) AS POP_RANK
    FROM agg JOIN ${p}pid i USING (PRODUCT_ID)`);
  // Item-item similarity: cosine over co-occurrence, shrunk towards 0 when few users support it. Sums of doubles go
  // through exactSum: DuckDB's parallel aggregation adds in any order, and re-runs must be identical.
  const simSql = (pairsOf: string) => `
    WITH b AS (SELECT x.U, i.PK FROM (${pairsOf}) x JOIN ${p}pid i USING (PRODUCT_ID)),
    n AS (SELECT PK, count(*) AS N FROM b GROUP BY 1),
    co AS (SELECT x.PK AS I, y.PK AS J, count(*) AS CO FROM b x JOIN b y ON x.U = y.U AND x.PK <> y.PK GROUP BY 1, 2)
    SELECT I, J, CO / sqrt(ni.N * nj.N) * CO / (CO + ${o.shrinkage}) AS SIM
    FROM co JOIN n ni ON ni.PK = co.I JOIN n nj ON nj.PK = co.J`;
  await run(`CREATE OR REPLACE TABLE ${p}sim_buy AS ${simSql(`SELECT DISTINCT CUSTOMER360_ID AS U, PRODUCT_ID FROM ${p}hist`)}`);
  await run(`CREATE OR REPLACE TABLE ${p}sim_view AS ${simSql(`SELECT DISTINCT SESSION_ID AS U, PRODUCT_ID FROM ${p}in_sessions WHERE SESSION_ID IS NOT NULL`)}`);
  // I and J are product keys (PK); neighbours J are catalogue products only.
  await run(`CREATE OR REPLACE TABLE ${p}item_sim AS
    WITH s AS (
      SELECT I, J, ${exactSum('SIM')} AS SIM FROM (
        SELECT I, J, SIM FROM ${p}sim_buy UNION ALL SELECT I, J, ${o.coViewWeight} * SIM FROM ${p}sim_view) GROUP BY 1, 2)
    SELECT s.* FROM s JOIN ${p}catalog c ON c.PK = s.J
    QUALIFY row_number() OVER (PARTITION BY I ORDER BY SIM DESC, J) <= ${o.neighbours}`);
}

/**
 * Builds `<p>cand`: one row per (customer UK, candidate product PK) with each signal normalised to 0..1 per customer
 * (popularity globally), plus N, LAST_DATE and CATEGORY for the reasons. The customers are `<p>users`
 * (CUSTOMER360_ID), which the caller fills.
 *
 * Scale: the per-customer work (CF neighbours, content matches, the union of signals, per-customer windows) runs on
 * integer keys, UK for customers (`<p>uk`) and PK for products (`<p>pid`), both numbered in id order so that "then by
 * PRODUCT_ID" tie-breaks are unchanged; ids are joined back once, on the candidates.
 */
export async function buildCandidates(
  engine: Engine, p: string, asOf: string, o: SignalOptions = DEFAULT_SIGNAL_OPTIONS, inputs: SignalInputs = BASE_SIGNAL_INPUTS, global?: GlobalSignals,
): Promise<void> {
  const D = `DATE ${lit(asOf)}`;
  const run = (sql: string) => engine.run(sql);
  // With the global signals given, only the customers ranked are read: their own rows are all the rest depends on.
  const mine = global ? ` AND CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM ${p}users)` : '';
  // The inputs cut at D, read once.
  await run(`CREATE OR REPLACE TABLE ${p}in_lines AS SELECT * FROM ${inputs.lines} WHERE TX_DATE <= ${D}${mine}`);
  await run(`CREATE OR REPLACE TABLE ${p}in_views AS SELECT * FROM ${inputs.views} WHERE EVENT_DATE <= ${D} AND EVENT_DATE > ${D} - INTERVAL 90 DAY${mine}`);
  await run(`CREATE OR REPLACE TABLE ${p}uk AS SELECT CUSTOMER360_ID, row_number() OVER (ORDER BY CUSTOMER360_ID)::INTEGER AS UK FROM (SELECT DISTINCT CUSTOMER360_ID FROM ${p}users)`);
  await run(`CREATE OR REPLACE TABLE ${p}hist AS
    SELECT CUSTOMER360_ID, PRODUCT_ID, count(DISTINCT TX_DATE) AS N, max(TX_DATE) AS LAST_DATE, min(CATEGORY) AS CATEGORY
    FROM ${p}in_lines GROUP BY 1, 2`);
  if (global) {
    await run(`CREATE OR REPLACE TABLE ${p}pid AS SELECT * FROM ${global.pid}`);
    await run(`CREATE OR REPLACE TABLE ${p}catalog AS SELECT * FROM ${global.catalog}`);
    await run(`CREATE OR REPLACE TABLE ${p}item_sim AS SELECT * FROM ${global.itemSim}`);
  } else await buildGlobalSignals(engine, p, asOf, o, inputs);
  await run(`CREATE OR REPLACE TABLE ${p}returned AS
    SELECT DISTINCT u.UK, i.PK FROM ${inputs.returns} r JOIN ${p}uk u USING (CUSTOMER360_ID) JOIN ${p}pid i USING (PRODUCT_ID) WHERE r.TX_DATE <= ${D}`);
  await run(`CREATE OR REPLACE TABLE ${p}views AS
    SELECT CUSTOMER360_ID, PRODUCT_ID, sum(N) AS N, max(EVENT_DATE) AS LAST_DATE
    FROM ${p}in_views WHERE PRODUCT_ID IS NOT NULL GROUP BY 1, 2`);
  // A customer's share of rows (lines or events) per value: integer sums, so the same doubles as counting the rows.
  const share = (factor: string) => `${factor}CAST(sum(N) AS BIGINT) / sum(CAST(sum(N) AS BIGINT)) OVER (PARTITION BY CUSTOMER360_ID)`;
  // The per-customer signals run over batches of customers: the same rows, with one batch's intermediates (CF
  // contributions, content matches) in memory at a time. src, top and cand collect every batch.
  const customers = Number(await engine.scalar(`SELECT count(*) FROM ${p}uk`));
  const batches = Math.max(1, Math.ceil(customers / o.batchCustomers));
  for (let batch = 0; batch < batches; batch++) {
    const lo = Math.floor((customers * batch) / batches);
    const hi = Math.floor((customers * (batch + 1)) / batches);
    await run(`CREATE OR REPLACE TABLE ${p}buk AS SELECT * FROM ${p}uk WHERE UK > ${lo} AND UK <= ${hi}`);
    // What each customer's CF score starts from: products bought (decay 180 days) and viewed (last 90 days).
    await run(`CREATE OR REPLACE TABLE ${p}bsrc AS
      SELECT u.UK, i.PK AS I, s.W FROM (
        SELECT CUSTOMER360_ID, PRODUCT_ID, ln(1 + N) * exp(-date_diff('day', LAST_DATE, ${D}) / 180.0) AS W FROM ${p}hist
        UNION ALL
        SELECT CUSTOMER360_ID, PRODUCT_ID, 0.5 * ln(1 + N) * exp(-date_diff('day', LAST_DATE, ${D}) / 30.0) FROM ${p}views) s
      JOIN ${p}buk u USING (CUSTOMER360_ID) JOIN ${p}pid i USING (PRODUCT_ID)`);
    await run(`CREATE OR REPLACE TABLE ${p}cf AS
      SELECT x.UK, m.J AS PK, ${exactSum('x.W * m.SIM')} AS S
      FROM ${p}bsrc x JOIN ${p}item_sim m ON m.I = x.I GROUP BY 1, 2
      QUALIFY row_number() OVER (PARTITION BY UK ORDER BY S DESC, PK) <= ${o.candidatesPerSignal}`);
    // Affinities: shares of the customer's purchases and views per category and brand, plus stated preferences. The
    // batch's customers are picked before the per-customer windows: DuckDB cannot push the join below a window, and
    // aggregating every customer's events once per batch made this step grow with the square of the customer count.
    await run(`CREATE OR REPLACE TABLE ${p}aff AS
      WITH batch AS (SELECT CUSTOMER360_ID FROM ${p}buk),
      pl AS (SELECT CUSTOMER360_ID, CATEGORY, BRAND, N FROM ${p}in_lines WHERE CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM batch)),
      vw AS (SELECT e.CUSTOMER360_ID, coalesce(c.CATEGORY, e.CATEGORY) AS CATEGORY, c.BRAND, e.N
        FROM ${p}in_views e LEFT JOIN ${p}catalog c USING (PRODUCT_ID)
        WHERE e.CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM batch)),
      raw AS (
        SELECT CUSTOMER360_ID, 'CATEGORY' AS KIND, CATEGORY AS VALUE, 'purchase' AS SRC, ${share('')} AS W
          FROM pl WHERE CATEGORY IS NOT NULL GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT CUSTOMER360_ID, 'BRAND', BRAND, 'purchase', ${share('')} FROM pl WHERE BRAND IS NOT NULL GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT CUSTOMER360_ID, 'CATEGORY', CATEGORY, 'view', ${share('0.5 * ')} FROM vw WHERE CATEGORY IS NOT NULL GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT CUSTOMER360_ID, 'BRAND', BRAND, 'view', ${share('0.5 * ')} FROM vw WHERE BRAND IS NOT NULL GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT CUSTOMER360_ID, PREFERENCE_TYPE, PREFERENCE_VALUE, 'preference', max(STRENGTH)
          FROM ${inputs.prefs} WHERE PREFERENCE_DATE <= ${D} AND PREFERENCE_TYPE IN ('CATEGORY', 'BRAND', 'PRODUCT')
            AND CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM batch) GROUP BY 1, 2, 3, 4)
      SELECT u.UK, r.* FROM raw r JOIN ${p}buk u USING (CUSTOMER360_ID)`);
    await run(`CREATE OR REPLACE TABLE ${p}btop AS
      SELECT UK, KIND, VALUE, ${exactSum('W')} AS W, coalesce(${exactSum('W', "SRC = 'purchase'")}, 0) AS WP
      FROM ${p}aff GROUP BY 1, 2, 3
      QUALIFY KIND = 'PRODUCT' OR row_number() OVER (PARTITION BY UK, KIND ORDER BY ${exactSum('W')} DESC, VALUE) <= 3`);
    await run(`CREATE OR REPLACE TABLE ${p}content AS
      SELECT UK, PK, ${exactSum('S')} AS S, ${exactSum('CATPOP')} AS CATPOP FROM (${contentMatchSql(p, o, `${p}btop`)}) GROUP BY 1, 2`);
    // One aggregation over the union of all signals (cheaper than de-duplicating keys and joining each signal back).
    await run(`CREATE OR REPLACE TABLE ${p}bcand AS
      WITH sig AS (
        SELECT u.UK, i.PK, h.N, h.LAST_DATE,
          ln(1 + h.N) * exp(-date_diff('day', h.LAST_DATE, ${D}) / 90.0) AS R_REPEAT, 0.0 AS R_CF, 0.0 AS R_CONTENT, 0.0 AS CATPOP
          FROM ${p}hist h JOIN ${p}buk u USING (CUSTOMER360_ID) JOIN ${p}pid i USING (PRODUCT_ID)
        UNION ALL SELECT UK, PK, 0, NULL, 0.0, S, 0.0, 0.0 FROM ${p}cf
        -- Content makes candidates of its best matches (by content score, and by category popularity for the popularity
        -- baseline) only; every candidate still gets its full content score below.
        UNION ALL SELECT UK, PK, 0, NULL, 0.0, 0.0, 0.0, 0.0 FROM ${p}content
          QUALIFY row_number() OVER (PARTITION BY UK ORDER BY S DESC, PK) <= ${o.contentCandidates}
            OR row_number() OVER (PARTITION BY UK ORDER BY CATPOP DESC, PK) <= ${o.contentCandidates}
        UNION ALL SELECT u.UK, c.PK, 0, NULL, 0.0, 0.0, 0.0, 0.0 FROM ${p}buk u CROSS JOIN ${p}catalog c WHERE c.POP_RANK <= 20),
      g AS (
        SELECT UK, PK, max(N) AS N, max(LAST_DATE) AS LAST_DATE, max(R_REPEAT) AS R_REPEAT, max(R_CF) AS R_CF
        FROM sig GROUP BY 1, 2),
      raw AS (
        SELECT g.*, coalesce(t.S, 0.0) AS R_CONTENT, coalesce(t.CATPOP, 0.0) AS CATPOP, c.CATEGORY, c.POP, c.POP_NORM
        FROM g JOIN ${p}catalog c USING (PK) LEFT JOIN ${p}content t USING (UK, PK)
        ANTI JOIN ${p}returned r USING (UK, PK))
      SELECT raw.*,
        coalesce(R_REPEAT / nullif(max(R_REPEAT) OVER w, 0), 0) AS S_REPEAT,
        coalesce(R_CF / nullif(max(R_CF) OVER w, 0), 0) AS S_CF,
        coalesce(R_CONTENT / nullif(max(R_CONTENT) OVER w, 0), 0) AS S_CONTENT,
        POP_NORM AS S_POPULARITY
      FROM raw WINDOW w AS (PARTITION BY UK)`);
    for (const [all, part] of [['src', 'bsrc'], ['top', 'btop'], ['cand', 'bcand']] as const) {
      await run(batch === 0 ? `CREATE OR REPLACE TABLE ${p}${all} AS SELECT * FROM ${p}${part}` : `INSERT INTO ${p}${all} SELECT * FROM ${p}${part}`);
    }
  }
  // Intermediates the ranking does not read: freed now, as they are the bulk of an in-memory engine at scale.
  for (const t of ['in_lines', 'in_views', 'in_sessions', 'hist', 'views', 'sim_buy', 'sim_view', 'aff', 'cf', 'content', 'buk', 'bsrc', 'btop', 'bcand']) await run(`DROP TABLE IF EXISTS ${p}${t}`);
}
