// Incremental identity resolution against the persisted graph (graph.ts). A batch of new or changed records is
// standardised, blocked against the stored records with the stored model's blocking rules, compared and scored with
// the stored m/u (term frequencies from the graph's current values), and the people it touches are re-clustered
// with the same clustering as a full run (cluster.ts: overrides, deterministic links, merge protection), over the
// stored edges among their records plus the new ones. Ids then follow the same rules as a full run (ids.ts): a
// record joining a person gets its id, a merge keeps one id and retires the other, a split leaves the id with the
// larger part. Everything the batch changes, and its change events, is written in one transaction.
//
// A full refresh (or the first batch) resolves every stored record and the batch from scratch, retrains the model
// and reuses the stored ids wherever a cluster survives.
//
// Where the outcome can depend on arrival order: the model is the one trained at the last full refresh; term
// frequencies are those of the graph when a record arrives; ties between equally scored links go by record number
// (arrival order); and only the people a batch touches (with their direct neighbours in the edge graph) are
// re-clustered, so a link that a full run would reconsider through a longer chain is not. bench/identity.bench.ts
// measures the difference against full re-resolution.
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit } from '../engine/duckdb.ts';
import { appendRows } from './append.ts';
import { deriveChanges, type ChangeEvent, type TouchedRecord } from './changes.ts';
import { cluster, type ClusterOptions, type Decision } from './cluster.ts';
import { writeModelSql, hasRecords, modelParts, readModel, RAW_COLUMNS, type GraphModel } from './graph.ts';
import { assignIds, keyOf, type RecordKey, type RegistryRow, type RetiredRow } from './ids.ts';
import type { BlockingRule, Comparison } from './model.ts';
import type { ModelParams } from './em.ts';
import { EMPTY_OVERRIDES, type Overrides } from './overrides.ts';
import { dobTolerantSql, nameConflictSql, nameOnlySql, resolveIdentities } from './resolve.ts';
import { blockingSql, comparisonSql, scoreSql } from './sql.ts';
import { standardise, TF_COLUMNS } from './standardise.ts';

export interface UpdateOptions {
  runId: string;
  /** Tenant of records without a TENANT_ID. */
  tenant?: string;
  /** Overrides to apply from now on (default: the ones stored with the graph). */
  overrides?: Overrides;
  /** Resolve everything again (retrains the model); ids are kept wherever a cluster survives. */
  fullRefresh?: boolean;
  /**
   * Ids to inherit when the graph is built for the first time (a lake whose earlier runs kept only an id registry and
   * retired-id pointers): the first build keeps them wherever a person survives, as a full refresh keeps the graph's.
   */
  seed?: { registry: readonly RegistryRow[]; retired: readonly RetiredRow[] };
  /** Match probability for a link when the model is (re)trained (default: the stored one, else 0.5). */
  threshold?: number;
  /** Event time (default now). */
  at?: string;
  cluster?: ClusterOptions;
  onStep?: (step: string) => void;
  /**
   * Statements run inside the commit transaction after the graph writes (e.g. a stream consumer's checkpoint), so
   * the graph and whatever records how far input was consumed can never disagree.
   */
  commitSql?: string[];
}

export interface UpdateResult {
  mode: 'full' | 'incremental';
  /** Records in the batch (after de-duplication by key: the last row of a key wins). */
  batch: number;
  newRecords: number;
  changedRecords: number;
  unchangedRecords: number;
  candidates: number;
  newEdges: number;
  /** Records re-clustered (the people the batch touched). */
  reclustered: number;
  events: ChangeEvent[];
  /** Records in the graph after the update. */
  graphRecords: number;
  timingsMs: Record<string, number>;
}

const TF_EXCLUDE = TF_COLUMNS.map((c) => `tf_${c}`).join(', ');

/** The columns stored per edge: the link flags clustering needs and the evidence explain and the ledger show. */
export function edgeSelectSql(comparisons: readonly Comparison[], params: ModelParams): string {
  return [
    'rid_l', 'rid_r', 'rule', 'det_rule', "det_rule IS NOT DISTINCT FROM 'same_source_record' AS always",
    `${nameConflictSql(comparisons, params)} AS name_conflict`, `${nameOnlySql(comparisons)} AS name_only`,
    ...comparisons.map((c) => `g_${c.name}`), 'w_prior', ...comparisons.map((c) => `w_${c.name}`), 'match_weight', 'match_probability',
  ].join(', ');
}

/** The batch as raw text columns with resolved keys; the last row of a key wins; a missing id is a hash of the row. */
export async function prepareBatch(engine: Engine, input: string, tenant: string): Promise<number> {
  const cols = new Set((await engine.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${input})`)).map((c) => c.column_name));
  const col = (c: string) => (cols.has(c) ? `nullif(trim(CAST(${ident(c)} AS VARCHAR)), '')` : 'NULL::VARCHAR');
  const other = RAW_COLUMNS.filter((c) => !['TENANT_ID', 'SOURCE_SYSTEM', 'CUSTOMER_ID'].includes(c));
  await engine.run(`CREATE OR REPLACE TABLE id_batch AS
SELECT * EXCLUDE (pos) FROM (
  SELECT coalesce(${col('TENANT_ID')}, ${lit(tenant)}) AS TENANT_ID, coalesce(${col('SOURCE_SYSTEM')}, 'DEFAULT') AS SOURCE_SYSTEM,
    coalesce(${col('CUSTOMER_ID')}, 'ROW-' || left(md5(concat_ws('|', ${other.map(col).join(', ')})), 16)) AS CUSTOMER_ID,
    ${other.map((c) => `${col(c)} AS ${c}`).join(', ')}, rid AS pos
  FROM ${input}
) QUALIFY row_number() OVER (PARTITION BY TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID ORDER BY pos DESC) = 1
ORDER BY pos`);
  return Number(await engine.scalar('SELECT count(*) FROM id_batch'));
}

const overrideRows = (o: Overrides) => [
  ...o.never.map(([l, r]) => ['never_match', l.tenant, l.source, l.customerId, r.source, r.customerId]),
  ...o.always.map(([l, r]) => ['always_match', l.tenant, l.source, l.customerId, r.source, r.customerId]),
];

export async function storedOverrides(engine: Engine, block: string[]): Promise<Overrides> {
  const rows = await engine.all<Record<string, string>>('SELECT * FROM g.overrides');
  const pair = (r: Record<string, string>): [RecordKey, RecordKey] => [
    { tenant: r.TENANT_ID!, source: r.SOURCE_SYSTEM_L!, customerId: r.CUSTOMER_ID_L! },
    { tenant: r.TENANT_ID!, source: r.SOURCE_SYSTEM_R!, customerId: r.CUSTOMER_ID_R! },
  ];
  return { never: rows.filter((r) => r.KIND === 'never_match').map(pair), always: rows.filter((r) => r.KIND === 'always_match').map(pair), block };
}

async function writeOverridesSql(engine: Engine, o: Overrides): Promise<string[]> {
  await engine.run('CREATE OR REPLACE TABLE id_overrides_new (KIND VARCHAR, TENANT_ID VARCHAR, SOURCE_SYSTEM_L VARCHAR, CUSTOMER_ID_L VARCHAR, SOURCE_SYSTEM_R VARCHAR, CUSTOMER_ID_R VARCHAR)');
  await appendRows(engine, 'id_overrides_new', overrideRows(o));
  return ['DELETE FROM g.overrides', 'INSERT INTO g.overrides SELECT * FROM id_overrides_new'];
}

export async function writeEventsSql(engine: Engine, events: readonly ChangeEvent[]): Promise<string[]> {
  await engine.run('CREATE OR REPLACE TABLE id_events_new (N BIGINT, EVENT_ID VARCHAR, TYPE VARCHAR, TENANT_ID VARCHAR, RUN_ID VARCHAR, EVENT_AT TIMESTAMP, EVENT VARCHAR)');
  await appendRows(engine, 'id_events_new', events.map((e, i) => [i, e.eventId, e.type, e.tenantId, e.runId, e.at, JSON.stringify(e)]));
  return ['INSERT INTO g.changes SELECT (SELECT coalesce(max(SEQ), 0) FROM g.changes) + N + 1, EVENT_ID, TYPE, TENANT_ID, RUN_ID, EVENT_AT, EVENT FROM id_events_new'];
}

export async function writeRetiredSql(engine: Engine, rows: readonly RetiredRow[], at: string): Promise<string[]> {
  await engine.run('CREATE OR REPLACE TABLE id_retired_new (TENANT_ID VARCHAR, RETIRED_ID VARCHAR, SURVIVOR_ID VARCHAR, RUN_ID VARCHAR, REASON VARCHAR, RETIRED_AT TIMESTAMP)');
  await appendRows(engine, 'id_retired_new', rows.map((r) => [r.TENANT_ID, r.RETIRED_ID, r.SURVIVOR_ID, r.RUN_ID, r.REASON, at]));
  return ['INSERT INTO g.retired SELECT * FROM id_retired_new'];
}

export async function commit(engine: Engine, statements: readonly string[]): Promise<void> {
  await engine.run('BEGIN TRANSACTION');
  try {
    for (const s of statements) await engine.run(s);
    await engine.run('COMMIT');
  } catch (e) {
    await engine.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Ledger rows for events: the decided links touching the given records, best first. */
export type LedgerEdge = { l: TouchedRecord; r: TouchedRecord; rule: string; p: number; decision: Decision };
export function ledgerFor(edges: readonly LedgerEdge[]) {
  // Edges by record, so each event looks only at its own records' links (a full run has one event per person).
  const byRecord = new Map<TouchedRecord, number[]>();
  edges.forEach((e, i) => {
    if (e.decision === 'SAME_CLUSTER') return;
    for (const x of e.l === e.r ? [e.l] : [e.l, e.r]) {
      const list = byRecord.get(x);
      if (list) list.push(i);
      else byRecord.set(x, [i]);
    }
  });
  return (records: readonly TouchedRecord[]) => {
    const found = new Set<number>();
    for (const r of records) for (const i of byRecord.get(r) ?? []) found.add(i);
    // In link order, then best first (a stable sort keeps link order among equals).
    return [...found]
      .sort((a, b) => a - b)
      .map((i) => edges[i]!)
      .sort((a, b) => b.p - a.p)
      .slice(0, 50)
      .map((e) => ({
        SOURCE_SYSTEM_L: e.l.source, CUSTOMER_ID_L: e.l.customerId, SOURCE_SYSTEM_R: e.r.source, CUSTOMER_ID_R: e.r.customerId,
        MATCH_RULE: e.rule, MATCH_PROBABILITY: e.p, DECISION: e.decision,
      }));
  };
}

export const matchRule = (det: unknown, override: boolean) => (override ? 'override:always_match' : det ? `deterministic:${String(det)}` : 'fellegi_sunter');

/** Resolves every stored record plus the batch from scratch (retraining the model), keeping ids where clusters survive. */
async function fullUpdate(engine: Engine, options: UpdateOptions, batch: number, t0: number, timings: Record<string, number>): Promise<UpdateResult> {
  const tenant = options.tenant ?? 'default';
  const stored = await hasRecords(engine);
  const prevModel = await readModel(engine);
  const overrides = options.overrides ?? (stored ? await storedOverrides(engine, prevModel?.block ?? []) : EMPTY_OVERRIDES);
  const at = options.at ?? new Date().toISOString();
  // Every record: stored ones not superseded by the batch, in record order, then the batch; renumbered 0..n-1.
  const rawCols = RAW_COLUMNS.join(', ');
  await engine.run(`CREATE OR REPLACE TABLE id_all AS
SELECT (row_number() OVER (ORDER BY o, pos) - 1)::BIGINT AS rid, ${rawCols}, changed FROM (
  ${stored ? `SELECT 0 AS o, rid AS pos, ${rawCols}, false AS changed FROM g.raw r
  WHERE NOT EXISTS (SELECT 1 FROM id_batch b WHERE b.TENANT_ID = r.TENANT_ID AND b.SOURCE_SYSTEM = r.SOURCE_SYSTEM AND b.CUSTOMER_ID = r.CUSTOMER_ID)
  UNION ALL ` : ''}SELECT 1 AS o, row_number() OVER () AS pos, ${rawCols}, ${stored ? `NOT EXISTS (SELECT 1 FROM g.raw r WHERE ${RAW_COLUMNS.map((c) => `r.${c} IS NOT DISTINCT FROM b.${c}`).join(' AND ')})` : 'true'} AS changed FROM id_batch b
)`);
  const registry = stored ? await engine.all<RegistryRow>('SELECT tenant_id AS TENANT_ID, source_system AS SOURCE_SYSTEM, customer_id AS CUSTOMER_ID, customer360_id AS CUSTOMER360_ID FROM g.records') : [...(options.seed?.registry ?? [])];
  const retiredInGraph = await engine.all<RetiredRow>('SELECT TENANT_ID, RETIRED_ID, SURVIVOR_ID, RUN_ID, REASON FROM g.retired');
  // Seeded pointers are written with the graph (they are not in it yet): only those already stored are skipped.
  const retiredBefore = [...retiredInGraph, ...(stored ? [] : options.seed?.retired ?? [])];
  const threshold = options.threshold ?? prevModel?.threshold ?? 0.5;
  const res = await resolveIdentities(engine, 'id_all', { runId: options.runId, tenant, threshold, overrides, registry, retired: retiredBefore, cluster: options.cluster, onStep: options.onStep });
  timings.resolve = Date.now() - t0;

  const model: GraphModel = {
    params: res.params, comparisons: res.comparisons, blockingRules: res.blockingRules.map((r) => r.name),
    deterministic: await detNames(engine), threshold, trainedAt: at, trainedRecords: res.records, block: overrides.block,
  };
  const { comparisons } = modelParts(model);
  // Events: each record's id before (registry) and after.
  const prior = new Map(registry.map((r) => [keyOf({ tenant: r.TENANT_ID, source: r.SOURCE_SYSTEM, customerId: r.CUSTOMER_ID }), r.CUSTOMER360_ID]));
  const rows = (await (await engine.connection.runAndReadAll('SELECT r.tenant_id, r.source_system, r.customer_id, r.customer360_id, a.changed FROM id_result r JOIN id_all a USING (rid) ORDER BY rid')).getColumnsObjectJS()) as Record<string, unknown[]>;
  const touched: TouchedRecord[] = rows.tenant_id!.map((tn, i) => {
    const k = { tenant: String(tn), source: String(rows.source_system![i]), customerId: String(rows.customer_id![i]) };
    return { ...k, before: prior.get(keyOf(k)), after: String(rows.customer360_id![i]), changed: Boolean(rows.changed![i]) };
  });
  const ledgerRows = (await (await engine.connection.runAndReadAll(`SELECT d.rid_l, d.rid_r, d.override, d.decision, s.det_rule, coalesce(CASE WHEN d.override OR s.det_rule IS NOT NULL THEN 1.0 END, s.match_probability) AS p
    FROM id_decisions d LEFT JOIN id_scored s USING (rid_l, rid_r) WHERE d.decision <> 'SAME_CLUSTER'`)).getColumnsObjectJS()) as Record<string, unknown[]>;
  const ledgerEdges: LedgerEdge[] = ledgerRows.rid_l!.map((l, i) => ({
    l: touched[Number(l)]!, r: touched[Number(ledgerRows.rid_r![i])]!, rule: matchRule(ledgerRows.det_rule![i], Boolean(ledgerRows.override![i])),
    p: Number(ledgerRows.p![i]), decision: ledgerRows.decision![i] as Decision,
  }));
  const events = deriveChanges(touched, options.runId, at, ledgerFor(ledgerEdges));
  timings.events = Date.now() - t0 - timings.resolve;

  const statements = [
    `CREATE OR REPLACE TABLE g.raw AS SELECT a.rid, ${RAW_COLUMNS.map((c) => (['TENANT_ID', 'SOURCE_SYSTEM', 'CUSTOMER_ID'].includes(c) ? `s.${c.toLowerCase()} AS ${c}` : `a.${c}`)).join(', ')} FROM id_all a JOIN id_std s USING (rid) ORDER BY rid`,
    `CREATE OR REPLACE TABLE g.records AS SELECT s.* EXCLUDE (${TF_EXCLUDE}), r.customer360_id FROM id_std s JOIN id_result r USING (rid) ORDER BY rid`,
    `CREATE OR REPLACE TABLE g.edges AS SELECT ${edgeSelectSql(comparisons, model.params)}, d.decision FROM id_scored s
      LEFT JOIN (SELECT rid_l, rid_r, decision FROM id_decisions WHERE NOT override) d USING (rid_l, rid_r)
      WHERE det_rule IS NOT NULL OR match_probability >= ${threshold} ORDER BY rid_l, rid_r`,
    writeModelSql(model),
    ...(await writeOverridesSql(engine, overrides)),
    ...(await writeRetiredSql(engine, res.retired.slice(retiredInGraph.length), at)),
    ...(await writeEventsSql(engine, events)),
    ...(options.commitSql ?? []),
  ];
  await commit(engine, statements);
  timings.commit = Date.now() - t0 - timings.resolve - timings.events;
  const changedRecords = touched.filter((t) => t.changed && t.before !== undefined).length;
  const newRecords = touched.filter((t) => t.before === undefined).length;
  return {
    mode: 'full', batch, newRecords, changedRecords, unchangedRecords: batch - newRecords - changedRecords,
    candidates: res.candidatePairs, newEdges: res.links, reclustered: res.records, events, graphRecords: res.records, timingsMs: timings,
  };
}

async function detNames(engine: Engine): Promise<string[]> {
  // The deterministic rules whose columns carry data (as resolveIdentities chose them): a rule is usable when its
  // required id_std columns are present.
  const { DETERMINISTIC_RULES } = await import('./model.ts');
  const present = (await engine.all<Record<string, boolean>>(`SELECT ${[...new Set(DETERMINISTIC_RULES.flatMap((d) => d.requires))].map((c) => `count(${c}) > 0 AS ${c}`).join(', ')} FROM id_std`))[0] ?? {};
  return DETERMINISTIC_RULES.filter((d) => d.requires.every((c) => present[c] === true)).map((d) => d.name);
}

/** Candidate stored records for the delta: any record sharing a blocking key (the tenant is part of every rule). */
function candidateSql(rules: readonly BlockingRule[]): string {
  const parts = rules.map((rule) => {
    const conds = ['r.tenant_id = n.tenant_id', ...rule.keys.map((k) => `r.${k} = n.${k}`)];
    // A key-less rule (swapped names) is symmetric in its two sides: the new record takes the place of l.
    if (rule.keys.length === 0 && rule.on) conds.push(`(${rule.on.replace(/\bl\./g, 'n.')})`);
    return `SELECT r.rid FROM g.records r JOIN id_delta_std n ON ${conds.join(' AND ')}`;
  });
  return `CREATE OR REPLACE TABLE id_cand AS SELECT DISTINCT rid FROM (${parts.length ? parts.join(' UNION ALL ') : 'SELECT NULL::BIGINT AS rid WHERE false'})
WHERE rid NOT IN (SELECT rid FROM id_delta_std)`;
}

/** Term frequencies of the working records from the graph's current values (stored minus changed, plus the delta). */
function tfSql(): string {
  const joins = TF_COLUMNS.map(
    (c, i) => `LEFT JOIN (SELECT tenant_id, ${c}, count(*) AS n FROM (
    SELECT tenant_id, ${c} FROM g.records WHERE ${c} IN (SELECT ${c} FROM id_work_base) AND rid NOT IN (SELECT rid FROM id_delta_std)
    UNION ALL SELECT tenant_id, ${c} FROM id_delta_std) WHERE ${c} IS NOT NULL GROUP BY ALL) t${i} ON t${i}.tenant_id = s.tenant_id AND t${i}.${c} = s.${c}`,
  );
  return `CREATE OR REPLACE TABLE id_std AS
SELECT s.*, ${TF_COLUMNS.map((c, i) => `t${i}.n / tot.n AS tf_${c}`).join(', ')}
FROM id_work_base s
JOIN (SELECT tenant_id, count(*)::DOUBLE AS n FROM (SELECT tenant_id FROM g.records WHERE rid NOT IN (SELECT rid FROM id_delta_std) UNION ALL SELECT tenant_id FROM id_delta_std) GROUP BY ALL) tot ON tot.tenant_id = s.tenant_id
${joins.join('\n')}
ORDER BY s.rid`;
}

/**
 * Applies a batch of CUSTOMERS-shaped records (table `input` with an integer `rid` giving row order) to the graph
 * attached as `g` (openGraph). The first batch, or `fullRefresh`, resolves everything; later batches link incrementally.
 */
export async function updateGraph(engine: Engine, input: string, options: UpdateOptions): Promise<UpdateResult> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const t0 = t;
  const step = (name: string) => {
    timings[name] = Date.now() - t;
    t = Date.now();
    options.onStep?.(name);
  };
  const tenant = options.tenant ?? 'default';
  const batch = await prepareBatch(engine, input, tenant);
  const model = (await hasRecords(engine)) ? await readModel(engine) : undefined;
  if (!model || options.fullRefresh) return fullUpdate(engine, options, batch, t0, timings);
  const { comparisons, rules, deterministic } = modelParts(model);
  const at = options.at ?? new Date().toISOString();
  const stored = await storedOverrides(engine, model.block);
  const overrides = options.overrides ?? stored;

  // New records take the next record numbers; changed records keep theirs; unchanged ones are dropped.
  await engine.run(`CREATE OR REPLACE TABLE id_delta_raw AS
SELECT coalesce(r.rid, (SELECT coalesce(max(rid), -1) FROM g.raw) + row_number() OVER (PARTITION BY r.rid IS NULL ORDER BY b.pos))::BIGINT AS rid,
  ${RAW_COLUMNS.map((c) => `b.${c}`).join(', ')}, r.rid IS NOT NULL AS existed
FROM (SELECT *, row_number() OVER () AS pos FROM id_batch) b
LEFT JOIN g.raw r ON r.TENANT_ID = b.TENANT_ID AND r.SOURCE_SYSTEM = b.SOURCE_SYSTEM AND r.CUSTOMER_ID = b.CUSTOMER_ID
WHERE r.rid IS NULL OR NOT (${RAW_COLUMNS.map((c) => `r.${c} IS NOT DISTINCT FROM b.${c}`).join(' AND ')})
ORDER BY rid`);
  const newRecords = Number(await engine.scalar('SELECT count(*) FILTER (WHERE NOT existed) FROM id_delta_raw'));
  const changedRecords = Number(await engine.scalar('SELECT count(*) FILTER (WHERE existed) FROM id_delta_raw'));
  // Records named by an override that was added or removed: their people are re-clustered.
  const key = (k: RecordKey) => keyOf(k);
  const sig = (o: Overrides) => new Set(overrideRows(o).map((r) => JSON.stringify(r)));
  const before = sig(stored);
  const now = sig(overrides);
  const overrideKeys = [...now].filter((s) => !before.has(s)).concat([...before].filter((s) => !now.has(s))).flatMap((s) => {
    const [, tn, sl, cl, sr, cr] = JSON.parse(s) as string[];
    return [{ tenant: tn!, source: sl!, customerId: cl! }, { tenant: tn!, source: sr!, customerId: cr! }];
  });
  step('prepare');
  if (newRecords + changedRecords === 0 && overrideKeys.length === 0) {
    await commit(engine, options.commitSql ?? []);
    return { mode: 'incremental', batch, newRecords: 0, changedRecords: 0, unchangedRecords: batch, candidates: 0, newEdges: 0, reclustered: 0, events: [], graphRecords: await graphCount(engine), timingsMs: timings };
  }

  await standardise(engine, `(SELECT * EXCLUDE (existed) FROM id_delta_raw)`, { tenant, blocklist: [...new Set([...model.block, ...overrides.block])] });
  await engine.run(`CREATE OR REPLACE TABLE id_delta_std AS SELECT * EXCLUDE (${TF_EXCLUDE}) FROM id_std`);
  step('standardise');
  await engine.run(candidateSql(rules));
  const candidates = Number(await engine.scalar('SELECT count(*) FROM id_cand'));
  await engine.run(`CREATE OR REPLACE TABLE id_work_base AS
SELECT * EXCLUDE (customer360_id) FROM g.records WHERE rid IN (SELECT rid FROM id_cand)
UNION ALL BY NAME SELECT * FROM id_delta_std`);
  await engine.run(tfSql());
  await engine.run(blockingSql(rules));
  await engine.run('DELETE FROM id_pairs WHERE rid_l NOT IN (SELECT rid FROM id_delta_std) AND rid_r NOT IN (SELECT rid FROM id_delta_std)');
  step('block');
  await engine.run(comparisonSql(comparisons, deterministic, 'id_pairs', 'id_cmp', { rules }));
  await engine.run(scoreSql(comparisons, model.params));
  await engine.run(`CREATE OR REPLACE TABLE id_new_edges AS SELECT ${edgeSelectSql(comparisons, model.params)} FROM id_scored WHERE det_rule IS NOT NULL OR match_probability >= ${model.threshold}`);
  const newEdges = Number(await engine.scalar('SELECT count(*) FROM id_new_edges'));
  step('score');

  // The people touched: those of stored records the new edges reach, of changed records, and of records an
  // override change names; then their direct neighbours over stored edges (a refused link may now be allowed).
  await engine.run('CREATE OR REPLACE TABLE id_override_keys (tenant_id VARCHAR, source_system VARCHAR, customer_id VARCHAR)');
  await appendRows(engine, 'id_override_keys', overrideKeys.map((k) => [k.tenant, k.source, k.customerId]));
  await engine.run(`CREATE OR REPLACE TABLE id_touched_ids AS
SELECT DISTINCT customer360_id FROM g.records WHERE rid IN (
  SELECT rid_l FROM id_new_edges UNION SELECT rid_r FROM id_new_edges UNION SELECT rid FROM id_delta_std
) OR EXISTS (SELECT 1 FROM id_override_keys k WHERE k.tenant_id = g.records.tenant_id AND k.source_system = g.records.source_system AND k.customer_id = g.records.customer_id)`);
  await engine.run(`INSERT INTO id_touched_ids
SELECT DISTINCT o.customer360_id FROM g.records m
JOIN g.edges e ON e.rid_l = m.rid OR e.rid_r = m.rid
JOIN g.records o ON o.rid = CASE WHEN e.rid_l = m.rid THEN e.rid_r ELSE e.rid_l END
WHERE m.customer360_id IN (SELECT customer360_id FROM id_touched_ids) AND o.customer360_id NOT IN (SELECT customer360_id FROM id_touched_ids)`);
  // Always-match partners of touched records join too (an override is never refused, so it pulls its partner in).
  const always = overrides.always;
  if (always.length) {
    await engine.run('CREATE OR REPLACE TABLE id_always_keys (tenant_id VARCHAR, source_l VARCHAR, id_l VARCHAR, source_r VARCHAR, id_r VARCHAR)');
    await appendRows(engine, 'id_always_keys', always.map(([l, r]) => [l.tenant, l.source, l.customerId, r.source, r.customerId]));
    for (let i = 0; i < 3; i++) {
      await engine.run(`INSERT INTO id_touched_ids SELECT DISTINCT b.customer360_id FROM id_always_keys k
JOIN g.records a ON a.tenant_id = k.tenant_id AND ((a.source_system = k.source_l AND a.customer_id = k.id_l) OR (a.source_system = k.source_r AND a.customer_id = k.id_r))
JOIN g.records b ON b.tenant_id = k.tenant_id AND ((b.source_system = k.source_l AND b.customer_id = k.id_l) OR (b.source_system = k.source_r AND b.customer_id = k.id_r))
WHERE a.customer360_id IN (SELECT customer360_id FROM id_touched_ids) AND b.customer360_id NOT IN (SELECT customer360_id FROM id_touched_ids)`);
    }
  }
  // The working set: the touched people's stored records (changed ones with their new values) and the new records.
  await engine.run(`CREATE OR REPLACE TABLE id_set AS
SELECT rid, tenant_id, source_system, customer_id, date_diff('day', DATE '1970-01-01', dob) AS dob_days, email_key, customer360_id AS before_id, false AS delta
FROM g.records WHERE customer360_id IN (SELECT customer360_id FROM id_touched_ids) AND rid NOT IN (SELECT rid FROM id_delta_std)
UNION ALL
SELECT d.rid, d.tenant_id, d.source_system, d.customer_id, date_diff('day', DATE '1970-01-01', d.dob), d.email_key, o.customer360_id, true
FROM id_delta_std d LEFT JOIN g.records o USING (rid)
ORDER BY rid`);
  await engine.run(`CREATE OR REPLACE TABLE id_set_edges AS
SELECT rid_l, rid_r, always, det_rule, name_conflict, name_only, ${dobTolerantSql(comparisons, model.params, model.threshold)} AS dob_tolerant,
  coalesce(CASE WHEN det_rule IS NOT NULL THEN 1.0 END, match_probability) AS p
FROM (
  SELECT * EXCLUDE (decision) FROM g.edges WHERE rid_l IN (SELECT rid FROM id_set WHERE NOT delta) AND rid_r IN (SELECT rid FROM id_set WHERE NOT delta)
  UNION ALL BY NAME SELECT * FROM id_new_edges
) WHERE rid_l IN (SELECT rid FROM id_set) AND rid_r IN (SELECT rid FROM id_set)
ORDER BY always DESC, (det_rule IS NOT NULL) DESC, match_probability DESC, rid_l, rid_r`);
  step('gather');

  const set = (await (await engine.connection.runAndReadAll('SELECT * FROM id_set ORDER BY rid')).getColumnsObjectJS()) as Record<string, unknown[]>;
  const n = set.rid!.length;
  const indexOf = new Map<number, number>();
  set.rid!.forEach((r, i) => indexOf.set(Number(r), i));
  const records: RecordKey[] = set.tenant_id!.map((tn, i) => ({ tenant: String(tn), source: String(set.source_system![i]), customerId: String(set.customer_id![i]) }));
  const byKey = new Map(records.map((k, i) => [key(k), i]));
  const pairsOf = (list: [RecordKey, RecordKey][]) =>
    list.flatMap(([a, b]) => {
      const x = byKey.get(key(a));
      const y = byKey.get(key(b));
      return x === undefined || y === undefined || x === y ? [] : [[Math.min(x, y), Math.max(x, y)] as [number, number]];
    });
  const alwaysPairs = pairsOf(overrides.always);
  const never = pairsOf(overrides.never);
  const ec = (await (await engine.connection.runAndReadAll('SELECT * FROM id_set_edges')).getColumnsObjectJS()) as Record<string, unknown[]>;
  const m0 = ec.rid_l!.length;
  const m = m0 + alwaysPairs.length;
  const l = new Int32Array(m);
  const r = new Int32Array(m);
  const alwaysFlag = new Uint8Array(m);
  const prob = new Float64Array(m).fill(1);
  const nameConflict = new Uint8Array(m);
  const nameOnly = new Uint8Array(m);
  const dobTolerant = new Uint8Array(m);
  alwaysPairs.forEach(([a, b], i) => ((l[i] = a), (r[i] = b), (alwaysFlag[i] = 1)));
  for (let i = 0; i < m0; i++) {
    const j = alwaysPairs.length + i;
    l[j] = indexOf.get(Number(ec.rid_l![i]))!;
    r[j] = indexOf.get(Number(ec.rid_r![i]))!;
    alwaysFlag[j] = ec.always![i] ? 1 : 0;
    prob[j] = Number(ec.p![i]);
    nameConflict[j] = ec.name_conflict![i] ? 1 : 0;
    nameOnly[j] = ec.name_only![i] ? 1 : 0;
    dobTolerant[j] = ec.dob_tolerant![i] ? 1 : 0;
  }
  const emailCode = new Map<string, number>();
  const result = cluster({
    n,
    dob: set.dob_days!.map((d) => (d == null ? null : Number(d))),
    email: set.email_key!.map((e) => {
      if (e == null) return null;
      if (!emailCode.has(String(e))) emailCode.set(String(e), emailCode.size);
      return emailCode.get(String(e))!;
    }),
    edges: { l, r, always: alwaysFlag, probability: prob, nameConflict, nameOnly, dobTolerant },
    never,
  }, options.cluster);

  // Ids: the same rules as a full run, over the touched people; an id minted here must not be one in use elsewhere.
  const prior: RegistryRow[] = [];
  records.forEach((k, i) => {
    if (set.before_id![i] != null) prior.push({ TENANT_ID: k.tenant, SOURCE_SYSTEM: k.source, CUSTOMER_ID: k.customerId, CUSTOMER360_ID: String(set.before_id![i]) });
  });
  const tenants = [...new Set(records.map((k) => k.tenant))];
  const retired = await engine.all<RetiredRow>(`SELECT TENANT_ID, RETIRED_ID, SURVIVOR_ID, RUN_ID, REASON FROM g.retired WHERE TENANT_ID IN (${tenants.map(lit).join(', ')})`);
  const reserved: RetiredRow[] = [];
  let ids = assignIds(records, result.cluster, prior, retired, options.runId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const fresh = [...new Set(ids.ids)].filter((id) => !prior.some((p) => p.CUSTOMER360_ID === id));
    if (fresh.length === 0) break;
    const clash = await engine.all<{ id: string }>(`SELECT customer360_id AS id FROM g.records WHERE customer360_id IN (${fresh.map(lit).join(', ')}) AND rid NOT IN (SELECT rid FROM id_set)
      UNION SELECT RETIRED_ID FROM g.retired WHERE RETIRED_ID IN (${fresh.map(lit).join(', ')})`);
    if (clash.length === 0) break;
    reserved.push(...clash.map((c) => ({ TENANT_ID: '', RETIRED_ID: c.id, SURVIVOR_ID: c.id, RUN_ID: '', REASON: 'RESERVED' })));
    ids = assignIds(records, result.cluster, prior, [...retired, ...reserved], options.runId);
  }
  const newRetired = ids.retired.slice(retired.length + reserved.length);
  step('cluster');

  const touched: TouchedRecord[] = records.map((k, i) => ({ ...k, before: set.before_id![i] == null ? undefined : String(set.before_id![i]), after: ids.ids[i]!, changed: Boolean(set.delta![i]) }));
  const ledgerEdges: LedgerEdge[] = [];
  for (let i = 0; i < m; i++) {
    const d = result.decisions[i]!;
    if (d === 'SAME_CLUSTER') continue;
    ledgerEdges.push({ l: touched[l[i]!]!, r: touched[r[i]!]!, rule: matchRule(i >= alwaysPairs.length ? ec.det_rule![i - alwaysPairs.length] : null, i < alwaysPairs.length), p: prob[i]!, decision: d });
  }
  const events = deriveChanges(touched, options.runId, at, ledgerFor(ledgerEdges));

  await engine.run('CREATE OR REPLACE TABLE id_assign (rid BIGINT, customer360_id VARCHAR)');
  await appendRows(engine, 'id_assign', records.map((_, i) => [Number(set.rid![i]), ids.ids[i]!]));
  await engine.run('CREATE OR REPLACE TABLE id_edge_decision (rid_l BIGINT, rid_r BIGINT, decision VARCHAR)');
  await appendRows(engine, 'id_edge_decision', Array.from({ length: m0 }, (_, i) => [Number(ec.rid_l![i]), Number(ec.rid_r![i]), result.decisions[alwaysPairs.length + i]!]));
  const delta = 'SELECT rid FROM id_delta_std';
  const statements = [
    `DELETE FROM g.edges WHERE rid_l IN (${delta}) OR rid_r IN (${delta})`,
    `DELETE FROM g.raw WHERE rid IN (${delta})`,
    `DELETE FROM g.records WHERE rid IN (${delta})`,
    `INSERT INTO g.raw BY NAME SELECT * EXCLUDE (existed) FROM id_delta_raw`,
    `INSERT INTO g.records BY NAME SELECT d.*, a.customer360_id FROM id_delta_std d JOIN id_assign a USING (rid)`,
    `UPDATE g.records SET customer360_id = a.customer360_id FROM id_assign a WHERE g.records.rid = a.rid AND g.records.customer360_id <> a.customer360_id`,
    `INSERT INTO g.edges BY NAME SELECT e.*, d.decision FROM id_new_edges e LEFT JOIN id_edge_decision d USING (rid_l, rid_r)`,
    `UPDATE g.edges SET decision = d.decision FROM id_edge_decision d WHERE g.edges.rid_l = d.rid_l AND g.edges.rid_r = d.rid_r AND g.edges.decision IS DISTINCT FROM d.decision`,
    ...(options.overrides ? await writeOverridesSql(engine, overrides) : []),
    ...(await writeRetiredSql(engine, newRetired, at)),
    ...(await writeEventsSql(engine, events)),
    ...(options.commitSql ?? []),
  ];
  await commit(engine, statements);
  step('commit');
  return {
    mode: 'incremental', batch, newRecords, changedRecords, unchangedRecords: batch - newRecords - changedRecords, candidates, newEdges,
    reclustered: n, events, graphRecords: await graphCount(engine), timingsMs: timings,
  };
}

async function graphCount(engine: Engine): Promise<number> {
  return Number(await engine.scalar('SELECT count(*) FROM g.records'));
}

/** One row per record of the graph with its CUSTOMER360_ID (rid = record number). */
export const GRAPH_IDS_SQL = 'SELECT rid, tenant_id, source_system, customer_id, customer360_id FROM g.records';

/** Deterministic run id for content (a stream batch): the same input always maps to the same id. */
export function contentRunId(prefix: string, content: string): string {
  return `${prefix}-${createHash('sha256').update(content).digest('hex').slice(0, 16)}`;
}

