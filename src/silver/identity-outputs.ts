// The identity datasets the daily identity job writes, read from the persisted graph (attached as `g`, graph.ts)
// rather than from a full resolution's scratch tables: the crosswalk, match ledger, cluster summaries, id registry and
// retired ids as before, plus the change events of this run (identity_changes) and the retired-id redirects
// (customer_id_redirects). Queries only; the job writes them through the catalogue runner.
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';
import { appendRows } from '../identity/append.ts';
import type { ChangeEvent } from '../identity/changes.ts';
import { modelParts, readModel } from '../identity/graph.ts';
import { survivorOf } from '../identity/ids.ts';
import { COMPARISONS, levelLabel } from '../identity/model.ts';

/** Every record of the graph with its person id (crosswalk and registry rows). */
export const GRAPH_CROSSWALK_SQL = `SELECT tenant_id AS TENANT_ID, source_system AS SOURCE_SYSTEM, customer_id AS CUSTOMER_ID, customer360_id AS CUSTOMER360_ID
FROM g.records`;

/**
 * The match ledger from the graph's stored edges (every scored pair at or above the threshold, and deterministic
 * links), with level labels and weights of the comparisons the graph's model uses (others null). The graph keeps
 * decisions, not the run that made each, so RUN_ID is the run that wrote the ledger.
 */
export async function graphLedgerSql(engine: Engine, runId: string): Promise<string> {
  const model = await readModel(engine);
  if (!model) throw new Error('The identity graph has no model: it was never built');
  const { comparisons, rules } = modelParts(model);
  const used = new Set(comparisons.map((c) => c.name));
  const ruleName = rules.length ? `CASE e.rule ${rules.map((r, i) => `WHEN ${i} THEN ${lit(r.name)}`).join(' ')} END` : 'NULL::VARCHAR';
  const levels = COMPARISONS.map((c) =>
    used.has(c.name)
      ? `CASE e.g_${c.name} ${[-1, 0, ...c.levels.map((_, i) => c.levels.length - i)].map((g) => `WHEN ${g} THEN ${lit(levelLabel(c, g))}`).join(' ')} END AS LEVEL_${c.name.toUpperCase()}`
      : `NULL::VARCHAR AS LEVEL_${c.name.toUpperCase()}`,
  );
  const weights = COMPARISONS.map((c) => (used.has(c.name) ? `e.w_${c.name}` : 'NULL::DOUBLE') + ` AS WEIGHT_${c.name.toUpperCase()}`);
  return `SELECT l.tenant_id AS TENANT_ID, l.source_system AS SOURCE_SYSTEM_L, l.customer_id AS CUSTOMER_ID_L,
  r.source_system AS SOURCE_SYSTEM_R, r.customer_id AS CUSTOMER_ID_R,
  CASE WHEN e.det_rule IS NOT NULL THEN 'deterministic:' || e.det_rule ELSE 'fellegi_sunter' END AS MATCH_RULE,
  ${ruleName} AS BLOCKING_RULE,
  ${[...levels, ...weights].join(',\n  ')},
  e.match_weight AS MATCH_WEIGHT, e.match_probability AS MATCH_PROBABILITY, e.decision AS DECISION,
  l.customer360_id AS CUSTOMER360_ID, ${lit(runId)} AS RUN_ID
FROM g.edges e JOIN g.records l ON l.rid = e.rid_l JOIN g.records r ON r.rid = e.rid_r
ORDER BY SOURCE_SYSTEM_L, CUSTOMER_ID_L, SOURCE_SYSTEM_R, CUSTOMER_ID_R`;
}

/** Per person, from the graph's records and the ledger (table `ledger`). */
export const GRAPH_CLUSTERS_SQL = `WITH linked AS (
  SELECT CUSTOMER360_ID, min(MATCH_PROBABILITY) AS min_p, avg(MATCH_PROBABILITY) AS avg_p FROM ledger WHERE DECISION = 'LINKED' GROUP BY CUSTOMER360_ID
)
SELECT r.customer360_id AS CUSTOMER360_ID, any_value(r.tenant_id) AS TENANT_ID, count(*)::INTEGER AS RECORD_COUNT,
  list_sort(list_distinct(list(r.source_system))) AS SOURCE_SYSTEMS,
  count(DISTINCT r.email_key)::INTEGER AS DISTINCT_EMAILS, count(DISTINCT r.dob)::INTEGER AS DISTINCT_BIRTH_DATES,
  linked.min_p AS MIN_LINK_PROBABILITY, linked.avg_p AS AVG_LINK_PROBABILITY
FROM g.records r LEFT JOIN linked ON linked.CUSTOMER360_ID = r.customer360_id
GROUP BY r.customer360_id, linked.min_p, linked.avg_p ORDER BY CUSTOMER360_ID`;

export const GRAPH_RETIRED_SQL = 'SELECT TENANT_ID, RETIRED_ID, SURVIVOR_ID, RUN_ID, REASON FROM g.retired ORDER BY ALL';

/**
 * Creates table `redirects`: each retired id with the person that holds its records now (pointer chains followed:
 * an id retired into one that was itself retired later points at the last survivor), when it was first retired and why.
 */
export async function buildRedirects(engine: Engine): Promise<void> {
  const rows = await engine.all<{ RETIRED_ID: string; SURVIVOR_ID: string; REASON: string; RETIRED_AT: string }>(
    'SELECT RETIRED_ID, SURVIVOR_ID, REASON, CAST(RETIRED_AT AS VARCHAR) AS RETIRED_AT FROM g.retired ORDER BY RETIRED_AT, RETIRED_ID',
  );
  const pointer = new Map<string, string>();
  const first = new Map<string, { at: string; reason: string }>();
  for (const r of rows) {
    pointer.set(r.RETIRED_ID, r.SURVIVOR_ID);
    if (!first.has(r.RETIRED_ID)) first.set(r.RETIRED_ID, { at: r.RETIRED_AT, reason: r.REASON });
  }
  await engine.run('CREATE OR REPLACE TABLE redirects (RETIRED_ID VARCHAR, CUSTOMER360_ID VARCHAR, RETIRED_AT TIMESTAMP, REASON VARCHAR)');
  await appendRows(engine, 'redirects', [...first].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, f]) => [id, survivorOf(id, pointer), f.at, f.reason]));
  // Survivors are live when retired (ids.ts) and chains end at a live id; a pointer to an id no record holds would
  // redirect to a 404, so such a row (a graph edited by hand) is left out rather than served.
  await engine.run('DELETE FROM redirects WHERE CUSTOMER360_ID NOT IN (SELECT customer360_id FROM g.records) OR CUSTOMER360_ID = RETIRED_ID');
}

/** Why a change happened, in a line: its strongest ledger row, else what moved. */
export function changeReason(e: ChangeEvent): string {
  const top = e.ledger[0] as Record<string, unknown> | undefined;
  if (top) {
    const p = Number(top.MATCH_PROBABILITY);
    return `${String(top.MATCH_RULE)} ${String(top.DECISION)} ${String(top.SOURCE_SYSTEM_L)}:${String(top.CUSTOMER_ID_L)} ~ ${String(top.SOURCE_SYSTEM_R)}:${String(top.CUSTOMER_ID_R)}${Number.isFinite(p) ? ` p=${p.toFixed(3)}` : ''}`;
  }
  if (e.type === 'linked') return e.before.length ? 'record joined the person' : 'new person';
  return 'no link holds the records together any more';
}

/** Creates table `changes` (identity_changes rows) from the graph's change events with SEQ above `afterSeq`. */
export async function buildChanges(engine: Engine, afterSeq: number): Promise<number> {
  const rows = await engine.all<{ SEQ: string; EVENT: string }>(`SELECT SEQ, EVENT FROM g.changes WHERE SEQ > ${afterSeq} ORDER BY SEQ`);
  await engine.run(`CREATE OR REPLACE TABLE changes (SEQ BIGINT, EVENT_ID VARCHAR, CHANGE_TYPE VARCHAR, TENANT_ID VARCHAR, RUN_ID VARCHAR, EVENT_AT TIMESTAMP,
    IDS_BEFORE VARCHAR[], IDS_AFTER VARCHAR[], RECORDS VARCHAR[], REASON VARCHAR, LEDGER VARCHAR)`);
  await engine.run('CREATE OR REPLACE TABLE changes_json (SEQ BIGINT, REASON VARCHAR, EVENT VARCHAR)');
  await appendRows(engine, 'changes_json', rows.map((r) => [Number(r.SEQ), changeReason(JSON.parse(r.EVENT) as ChangeEvent), r.EVENT]));
  await engine.run(`INSERT INTO changes SELECT SEQ, EVENT->>'eventId', EVENT->>'type', EVENT->>'tenantId', EVENT->>'runId', CAST(EVENT->>'at' AS TIMESTAMP),
    CAST(EVENT->'before' AS VARCHAR[]), CAST(EVENT->'after' AS VARCHAR[]),
    list_transform(CAST(EVENT->'records' AS STRUCT(sourceSystem VARCHAR, customerId VARCHAR)[]), x -> x.sourceSystem || ':' || x.customerId),
    REASON, CAST(EVENT->'ledger' AS VARCHAR)
  FROM changes_json ORDER BY SEQ`);
  return rows.length;
}

/** Highest change sequence in the graph (0 when none). */
export async function lastChangeSeq(engine: Engine): Promise<number> {
  return Number(await engine.scalar('SELECT coalesce(max(SEQ), 0) FROM g.changes'));
}
