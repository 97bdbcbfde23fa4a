// The Customer Health Overview's numbers: small pre-aggregated series computed by SQL over the warehouse tables of
// one as-of date (the Gold snapshot the warehouse load reads, so they equal the same queries on the warehouse), plus
// data quality over recent runs from the run manifests. Customer names in the at-risk list are masked (analyst view).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { duckType } from '../../catalogue/dataset.ts';
import { litList, type Engine } from '../../engine/duckdb.ts';
import type { Lake } from '../../lake/lake.ts';
import { maskValue } from '../../privacy/masking.ts';
import type { RunManifest } from '../../runtime/manifest.ts';
import { sourceFiles, WAREHOUSE_TABLES } from '../../warehouse/model.ts';

type Row = Record<string, unknown>;

export interface DashboardData {
  asOf: string;
  generatedAt: string;
  headline: { customers: number; activeCustomers30d: number; totalRevenue: number; atRiskCustomers: number; avgChurnRisk: number | null; predictedClv: number };
  customersOverTime: { period: string; customers: number; active: number }[];
  churnDistribution: { bin: string; customers: number }[];
  /** The ten customers with the most value at risk: churn risk × lifetime revenue. */
  atRisk: { CUSTOMER360_ID: string; FIRST_NAME: string | null; SEGMENT_LABEL: string | null; CHURN_RISK: number; PREDICTED_CLV: number | null; TOTAL_REVENUE: number }[];
  clvDeciles: { decile: number; customers: number; avgClv: number; totalClv: number }[];
  segments: { segment: string; customers: number; revenue: number; avgClv: number | null }[];
  rfmGrid: { r: number; f: number; customers: number; avgRevenue: number }[];
  funnel: { viewers: number; cartAdders: number; purchasers: number; days: number };
  campaigns: { id: string; name: string | null; spent: number; revenue: number; roi: number | null }[];
  service: { category: string; tickets: number; openTickets: number; avgResolutionMinutes: number | null; avgSatisfaction: number | null }[];
  runs: { runId: string; startedAt: string; status: string; inputRows: number; quarantinedRows: number; quarantineRate: number | null; flaggedRows: number; records: number | null; persons: number | null; merged: number | null; retired: number | null }[];
  models: { name: string; version: string; type: string | null; trainedAt: string | null; metrics: Record<string, number> }[];
}

/** Views "SCHEMA"."TABLE" over the lake's Gold snapshot of the date, one per warehouse table that has one. */
export async function warehouseViews(engine: Engine, lake: Lake, asOf: string): Promise<string[]> {
  const missing: string[] = [];
  for (const s of new Set(WAREHOUSE_TABLES.map((t) => t.schema))) await engine.run(`CREATE SCHEMA IF NOT EXISTS "${s}"`);
  for (const t of WAREHOUSE_TABLES) {
    const files = (await sourceFiles(lake, t, asOf)).map((path) => ({ path }));
    if (files.length === 0) {
      missing.push(`${t.schema}.${t.name}`);
      const cols = t.columns.map((c) => `CAST(NULL AS ${duckType(c.type)}) AS "${c.name}"`).join(', ');
      await engine.run(`CREATE OR REPLACE VIEW "${t.schema}"."${t.name}" AS SELECT ${cols} WHERE false`);
      continue;
    }
    const local = await Promise.all(files.map((f) => lake.localPath(f.path)));
    await engine.run(`CREATE OR REPLACE VIEW "${t.schema}"."${t.name}" AS SELECT * FROM read_parquet(${litList(local)}, union_by_name = true)`);
  }
  return missing;
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Headline numbers; the browser test runs its own SQL for the same figures on the warehouse. */
export const HEADLINE_SQL = (asOf: string) => `
SELECT
  (SELECT count(*) FROM "CUSTOMER_360"."DIM_CUSTOMER")::DOUBLE AS customers,
  (SELECT count(*) FROM "CUSTOMER_360"."DIM_CUSTOMER" WHERE "ORDERS_30D" > 0 OR "SESSIONS_30D" > 0 OR "EVENTS_30D" > 0)::DOUBLE AS active,
  (SELECT COALESCE(sum("TOTAL_REVENUE"), 0) FROM "CUSTOMER_360"."DIM_CUSTOMER")::DOUBLE AS revenue,
  (SELECT count(*) FROM "CUSTOMER_360"."CUSTOMER_RISK_SCORES" WHERE "AS_OF_DATE" = DATE '${asOf}' AND "CHURN_RISK" >= 0.5)::DOUBLE AS at_risk,
  (SELECT avg("CHURN_RISK") FROM "CUSTOMER_360"."CUSTOMER_RISK_SCORES" WHERE "AS_OF_DATE" = DATE '${asOf}')::DOUBLE AS avg_risk,
  (SELECT COALESCE(sum("PREDICTED_CLV"), 0) FROM "CUSTOMER_360"."CUSTOMER_RISK_SCORES" WHERE "AS_OF_DATE" = DATE '${asOf}')::DOUBLE AS clv`;

export async function dashboardData(engine: Engine, o: { asOf: string; manifests: RunManifest[]; runs?: number }): Promise<DashboardData> {
  const asOf = o.asOf;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf)) throw new Error(`Invalid as-of date '${asOf}'`);
  const d = `DATE '${asOf}'`;
  const q = (sql: string) => engine.all<Row>(sql);
  const h = (await q(HEADLINE_SQL(asOf)))[0]!;
  const risk = `(SELECT * FROM "CUSTOMER_360"."CUSTOMER_RISK_SCORES" WHERE "AS_OF_DATE" = ${d})`;
  const seg = `(SELECT * FROM "CUSTOMER_360"."CUSTOMER_SEGMENTS" WHERE "AS_OF_DATE" = ${d})`;

  // Weekly: people known by the end of each week (first registration or purchase) and people active in it.
  const overTime = await q(`
    WITH weeks AS (
      SELECT "PERIOD_START" AS w, count(*)::DOUBLE AS active FROM "CUSTOMER_BEHAVIOR"."AGG_CUSTOMER_ACTIVITY" WHERE "GRAIN" = 'WEEK' GROUP BY 1
    ), firsts AS (
      SELECT COALESCE(LEAST("REGISTRATION_DATE", "FIRST_PURCHASE_DATE"), "REGISTRATION_DATE", "FIRST_PURCHASE_DATE") AS f FROM "CUSTOMER_360"."DIM_CUSTOMER"
    )
    SELECT strftime(w, '%Y-%m-%d') AS period, active,
      (SELECT count(*) FROM firsts WHERE f IS NOT NULL AND f < w + INTERVAL 7 DAY)::DOUBLE AS customers
    FROM weeks ORDER BY w`);
  const churn = await q(`
    SELECT b AS bin_index, count(r."CHURN_RISK")::DOUBLE AS customers
    FROM range(10) t(b) LEFT JOIN ${risk} r ON least(9, floor(r."CHURN_RISK" * 10))::BIGINT = b
    GROUP BY b ORDER BY b`);
  const atRisk = await q(`
    SELECT r."CUSTOMER360_ID", c."FIRST_NAME", s."SEGMENT_LABEL", r."CHURN_RISK"::DOUBLE AS "CHURN_RISK", r."PREDICTED_CLV"::DOUBLE AS "PREDICTED_CLV",
      COALESCE(c."TOTAL_REVENUE", 0)::DOUBLE AS "TOTAL_REVENUE"
    FROM ${risk} r LEFT JOIN "CUSTOMER_360"."DIM_CUSTOMER" c USING ("CUSTOMER360_ID") LEFT JOIN ${seg} s USING ("CUSTOMER360_ID")
    WHERE r."CHURN_RISK" IS NOT NULL AND c."TOTAL_REVENUE" > 0
    ORDER BY r."CHURN_RISK" * c."TOTAL_REVENUE" DESC, r."CUSTOMER360_ID" LIMIT 10`);
  const deciles = await q(`
    SELECT decile, count(*)::DOUBLE AS customers, avg(clv)::DOUBLE AS avg_clv, sum(clv)::DOUBLE AS total_clv
    FROM (SELECT ntile(10) OVER (ORDER BY "PREDICTED_CLV", "CUSTOMER360_ID") AS decile, "PREDICTED_CLV" AS clv FROM ${risk} WHERE "PREDICTED_CLV" IS NOT NULL)
    GROUP BY decile ORDER BY decile`);
  const segments = await q(`
    SELECT COALESCE(s."SEGMENT_LABEL", 'Unsegmented') AS segment, count(*)::DOUBLE AS customers, COALESCE(sum(c."TOTAL_REVENUE"), 0)::DOUBLE AS revenue,
      avg(r."PREDICTED_CLV")::DOUBLE AS avg_clv
    FROM "CUSTOMER_360"."DIM_CUSTOMER" c LEFT JOIN ${seg} s USING ("CUSTOMER360_ID") LEFT JOIN ${risk} r USING ("CUSTOMER360_ID")
    GROUP BY 1 ORDER BY customers DESC, segment`);
  const rfm = await q(`
    SELECT "RFM_RECENCY_SCORE"::DOUBLE AS r, "RFM_FREQUENCY_SCORE"::DOUBLE AS f, count(*)::DOUBLE AS customers, avg("TOTAL_REVENUE")::DOUBLE AS avg_revenue
    FROM "CUSTOMER_360"."DIM_CUSTOMER" WHERE "RFM_RECENCY_SCORE" IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2`);
  const funnel = (await q(`
    SELECT COALESCE(sum("VIEWERS"), 0)::DOUBLE AS v, COALESCE(sum("CART_ADDERS"), 0)::DOUBLE AS c, COALESCE(sum("PURCHASERS"), 0)::DOUBLE AS p, count(*)::DOUBLE AS days
    FROM "CUSTOMER_BEHAVIOR"."AGG_FUNNEL_DAILY" WHERE "CALENDAR_DATE" > ${d} - INTERVAL 30 DAY AND "CALENDAR_DATE" <= ${d}`))[0]!;
  const campaigns = await q(`
    SELECT "CAMPAIGN_ID" AS id, "CAMPAIGN_NAME" AS name, COALESCE("SPENT_AMOUNT", 0)::DOUBLE AS spent, COALESCE("REVENUE_LAST_TOUCH", 0)::DOUBLE AS revenue,
      "ROI_LAST_TOUCH"::DOUBLE AS roi
    FROM "CUSTOMER_BEHAVIOR"."AGG_CAMPAIGN_ROI" ORDER BY revenue DESC, id LIMIT 15`);
  const service = await q(`
    SELECT COALESCE("TICKET_CATEGORY", 'Unknown') AS category, sum("TICKETS")::DOUBLE AS tickets, sum("OPEN_TICKETS")::DOUBLE AS open_tickets,
      (sum("AVG_RESOLUTION_MINUTES" * "RESOLVED_TICKETS") / NULLIF(sum("RESOLVED_TICKETS") FILTER (WHERE "AVG_RESOLUTION_MINUTES" IS NOT NULL), 0))::DOUBLE AS resolution,
      (sum("AVG_SATISFACTION" * "TICKETS") FILTER (WHERE "AVG_SATISFACTION" IS NOT NULL) / NULLIF(sum("TICKETS") FILTER (WHERE "AVG_SATISFACTION" IS NOT NULL), 0))::DOUBLE AS satisfaction
    FROM "CUSTOMER_360"."AGG_SERVICE_SUMMARY" GROUP BY 1 ORDER BY tickets DESC, category`);
  const models = await q(`SELECT "MODEL_NAME", "MODEL_VERSION", "MODEL_TYPE", strftime("TRAINED_AT", '%Y-%m-%dT%H:%M:%SZ') AS trained, "METRICS_JSON"
    FROM "CUSTOMER_360"."MODEL_REGISTRY" ORDER BY "MODEL_NAME", "TRAINED_AT" DESC, "MODEL_VERSION"`);

  return {
    asOf,
    generatedAt: new Date().toISOString(),
    headline: {
      customers: num(h.customers), activeCustomers30d: num(h.active), totalRevenue: num(h.revenue), atRiskCustomers: num(h.at_risk),
      avgChurnRisk: numOrNull(h.avg_risk), predictedClv: num(h.clv),
    },
    customersOverTime: overTime.map((r) => ({ period: String(r.period), customers: num(r.customers), active: num(r.active) })),
    churnDistribution: churn.map((r) => ({ bin: `${Number(r.bin_index) / 10}-${(Number(r.bin_index) + 1) / 10}`, customers: num(r.customers) })),
    atRisk: atRisk.map((r) => ({
      CUSTOMER360_ID: String(r.CUSTOMER360_ID), FIRST_NAME: (maskValue('name', r.FIRST_NAME) as string | null) ?? null,
      SEGMENT_LABEL: (r.SEGMENT_LABEL as string | null) ?? null, CHURN_RISK: num(r.CHURN_RISK), PREDICTED_CLV: numOrNull(r.PREDICTED_CLV), TOTAL_REVENUE: num(r.TOTAL_REVENUE),
    })),
    clvDeciles: deciles.map((r) => ({ decile: num(r.decile), customers: num(r.customers), avgClv: num(r.avg_clv), totalClv: num(r.total_clv) })),
    segments: segments.map((r) => ({ segment: String(r.segment), customers: num(r.customers), revenue: num(r.revenue), avgClv: numOrNull(r.avg_clv) })),
    rfmGrid: rfm.map((r) => ({ r: num(r.r), f: num(r.f), customers: num(r.customers), avgRevenue: num(r.avg_revenue) })),
    funnel: { viewers: num(funnel.v), cartAdders: num(funnel.c), purchasers: num(funnel.p), days: num(funnel.days) },
    campaigns: campaigns.map((r) => ({ id: String(r.id), name: (r.name as string | null) ?? null, spent: num(r.spent), revenue: num(r.revenue), roi: numOrNull(r.roi) })),
    service: service.map((r) => ({ category: String(r.category), tickets: num(r.tickets), openTickets: num(r.open_tickets), avgResolutionMinutes: numOrNull(r.resolution), avgSatisfaction: numOrNull(r.satisfaction) })),
    runs: runQuality(o.manifests, o.runs ?? 20),
    models: models.map((r) => ({
      name: String(r.MODEL_NAME), version: String(r.MODEL_VERSION), type: (r.MODEL_TYPE as string | null) ?? null, trainedAt: (r.trained as string | null) ?? null,
      metrics: numericMetrics(r.METRICS_JSON),
    })),
  };
}

/** The numeric top-level metrics of a model's METRICS_JSON (what a table can show). */
function numericMetrics(raw: unknown): Record<string, number> {
  try {
    const m = JSON.parse(String(raw ?? '{}')) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)).slice(0, 8)) as Record<string, number>;
  } catch {
    return {};
  }
}

/** Per run (oldest first): Bronze rows in and quarantined, Silver rows flagged, identity records, persons, merges. */
export function runQuality(manifests: readonly RunManifest[], last: number) {
  const runs = [...manifests].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).slice(-last);
  return runs.map((m) => {
    let input = 0;
    let quarantined = 0;
    let flagged = 0;
    let records: number | null = null;
    let persons: number | null = null;
    let retired: number | null = null;
    for (const j of m.jobs) {
      for (const [k, v] of Object.entries(j.rowCounts ?? {})) {
        if (j.job.startsWith('bronze-') && k.endsWith('.input')) input += v;
        if (j.job.startsWith('bronze-') && k.endsWith('.quarantine')) quarantined += v;
        if (k === 'identity_retired_ids') retired = (retired ?? 0) + v;
      }
      for (const [k, v] of Object.entries(j.metrics ?? {})) {
        if (k.endsWith('.quality') && v && typeof v === 'object') flagged += Number((v as { flaggedRows?: number }).flaggedRows ?? 0);
        if (k === 'identity' && v && typeof v === 'object') {
          const id = v as { records?: number; customer360Ids?: number };
          if (typeof id.records === 'number') records = id.records;
          if (typeof id.customer360Ids === 'number') persons = id.customer360Ids;
        }
      }
    }
    return {
      runId: m.runId, startedAt: m.startedAt, status: m.status, inputRows: input, quarantinedRows: quarantined,
      quarantineRate: input > 0 ? quarantined / input : null, flaggedRows: flagged, records, persons,
      merged: records !== null && persons !== null ? records - persons : null, retired,
    };
  });
}

/** Run manifests: HOME/runs/*.json and the lake's _runs/ copies (Azure), one per run id. */
export async function readManifests(home: string, lake?: Lake): Promise<RunManifest[]> {
  const byId = new Map<string, RunManifest>();
  const add = (text: string) => {
    try {
      const m = JSON.parse(text) as RunManifest;
      if (m.runId && Array.isArray(m.jobs) && m.startedAt) byId.set(m.runId, m);
    } catch {
      // a manifest being written or damaged is not a run to chart
    }
  };
  const dir = join(home, 'runs');
  for (const f of (await readdir(dir).catch(() => [] as string[])).filter((x) => x.endsWith('.json'))) add(await readFile(join(dir, f), 'utf8'));
  if (lake && !lake.location.startsWith('file://')) {
    for (const f of (await lake.list('_runs')).filter((x) => x.path.endsWith('.json'))) add((await lake.read(f.path)).toString('utf8'));
  }
  return [...byId.values()];
}
