// Identity resolution end to end on one engine: standardise -> block -> compare -> estimate (u from random pairs,
// m by EM) -> score -> cluster with merge protection -> stable ids -> ledger and cluster summaries.
// Input: a table of CUSTOMERS-shaped rows with a unique integer `rid` 0..n-1. Outputs are engine tables:
//   id_result (rid, tenant_id, source_system, customer_id, customer360_id, cluster_size)
//   id_ledger (one row per candidate link at or above the threshold, and every override/deterministic link)
//   id_clusters (one row per CUSTOMER360_ID)
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';
import { appendRows } from './append.ts';
import { cluster, type ClusterOptions } from './cluster.ts';
import { estimateHousehold, estimateModel, estimateU, type HouseholdParams, type ModelParams, type Pattern } from './em.ts';
import { assignIds, keyOf, type IdChurn, type RecordKey, type RegistryRow, type RetiredRow } from './ids.ts';
import { BLOCKING_RULES, COMPARISONS, DETERMINISTIC_RULES, HOUSEHOLD, levelLabel, type BlockingRule, type Comparison } from './model.ts';
import { EMPTY_OVERRIDES, type Overrides } from './overrides.ts';
import { bestLevels, blockingSql, comparisonSql, patternByRuleSql, patternSql, randomPairsSql, scoreSql } from './sql.ts';
import { standardise } from './standardise.ts';

export interface ResolveOptions {
  runId: string;
  tenant?: string;
  /** Match probability at or above which a pair links (default 0.5: the Bayes-optimal cut under the model). */
  threshold?: number;
  overrides?: Overrides;
  registry?: readonly RegistryRow[];
  retired?: readonly RetiredRow[];
  /** Random pairs for u (default 300,000; all pairs when fewer). */
  maxRandomPairs?: number;
  cluster?: ClusterOptions;
  comparisons?: readonly Comparison[];
  blockingRules?: readonly BlockingRule[];
  /** Most pairs one blocking rule may generate; rules estimated above it are skipped (default 5 x records + 100,000). */
  maxPairsPerRule?: number;
  /** Refuse probabilistic links between unrelated first names without birth-date agreement (default true). */
  refuseNameConflicts?: boolean;
  /** Refuse probabilistic links that no field besides the names supports (default true). */
  requireCorroboration?: boolean;
  /** How a pair's prior is set (see ModelParams.priorMode); default 'global'. */
  priorMode?: 'global' | 'rule';
  /** Progress callback (step name). */
  onStep?: (step: string) => void;
}

export interface ResolveResult {
  records: number;
  params: ModelParams;
  comparisons: string[];
  blockingRules: { name: string; pairs: number }[];
  /** Rules dropped because their estimated comparisons exceeded the budget. */
  skippedRules: { name: string; estimatedPairs: number }[];
  candidatePairs: number;
  links: number;
  refusedLinks: Record<string, number>;
  clusters: number;
  churn: IdChurn;
  registry: RegistryRow[];
  retired: RetiredRow[];
  timingsMs: Record<string, number>;
}

async function present(engine: Engine, columns: readonly string[]): Promise<Set<string>> {
  const uniq = [...new Set(columns)];
  const row = (await engine.all(`SELECT ${uniq.map((c) => `count(${c}) > 0 AS ${c}`).join(', ')} FROM id_std`))[0] ?? {};
  return new Set(uniq.filter((c) => row[c] === true));
}

export async function resolveIdentities(engine: Engine, input: string, options: ResolveOptions): Promise<ResolveResult> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const step = (name: string) => {
    timings[name] = Date.now() - t;
    t = Date.now();
    options.onStep?.(name);
  };
  const overrides = options.overrides ?? EMPTY_OVERRIDES;
  await standardise(engine, input, { tenant: options.tenant, blocklist: overrides.block });
  const n = Number(await engine.scalar('SELECT count(*) FROM id_std'));
  step('standardise');

  const allComparisons = options.comparisons ?? COMPARISONS;
  const allRules = options.blockingRules ?? BLOCKING_RULES;
  const have = await present(engine, [...allComparisons.flatMap((c) => c.requires), ...allRules.flatMap((r) => r.keys), 'fn', 'ln']);
  const multiSource = Number(await engine.scalar('SELECT count(DISTINCT source_system) FROM id_std')) > 1;
  const comparisons = allComparisons.filter((c) => c.requires.every((col) => have.has(col)) && (c.name !== 'source_id' || multiSource));
  const candidateRules = allRules.filter((r) => r.keys.every((k) => have.has(k)) && (!r.on || ['fn', 'ln'].every((k) => have.has(k)) || r.name === 'source_id') && (r.name !== 'source_id' || multiSource));
  const budget = options.maxPairsPerRule ?? 5 * n + 100_000;
  const skippedRules: { name: string; estimatedPairs: number }[] = [];
  const rules: BlockingRule[] = [];
  for (const rule of candidateRules) {
    const est = rule.keys.length === 0 ? 0 : Number(await engine.scalar(estimatePairsSql(rule)));
    if (est > budget) skippedRules.push({ name: rule.name, estimatedPairs: est });
    else rules.push(rule);
  }
  const deterministic = DETERMINISTIC_RULES.filter((d) => d.requires.every((col) => have.has(col)));

  await engine.run(blockingSql(rules));
  const perRule = await engine.all<{ rule: number; n: string }>('SELECT rule, count(*) AS n FROM id_pairs GROUP BY rule');
  const candidatePairs = Number(await engine.scalar('SELECT count(*) FROM id_pairs'));
  step('block');
  await engine.run(comparisonSql(comparisons, deterministic, 'id_pairs', 'id_cmp', { rules }));
  step('compare');

  const maxRandom = options.maxRandomPairs ?? 300_000;
  await engine.run(randomPairsSql(n, maxRandom));
  await engine.run(comparisonSql(comparisons, [], 'id_rand', 'id_rand_cmp', { withRule: false, withTf: false }));
  const u: Record<string, Record<number, number>> = {};
  for (const c of comparisons) {
    const rows = await engine.all<{ g: number; n: string }>(`SELECT g_${c.name} AS g, count(*) AS n FROM id_rand_cmp GROUP BY 1`);
    u[c.name] = estimateU(c, new Map(rows.map((r) => [Number(r.g), Number(r.n)])));
  }
  await engine.run('DROP TABLE id_rand; DROP TABLE id_rand_cmp');
  const patternsByRule = new Map<number, Pattern[]>();
  for (const row of await engine.all<Record<string, unknown>>(patternByRuleSql(comparisons, rules.length))) {
    const p = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as Pattern;
    const list = patternsByRule.get(p.rule!) ?? [];
    list.push(p);
    patternsByRule.set(p.rule!, list);
  }
  const allPairs = Number(await engine.scalar('SELECT sum(k * (k - 1) / 2) FROM (SELECT count(*) AS k FROM id_std GROUP BY tenant_id)'));
  const params = estimateModel(comparisons, rules, patternsByRule, u, 1 / Math.max(n, 1), { mode: options.priorMode ?? 'global', allPairs });
  if (options.refuseNameConflicts !== false && comparisons.some((c) => c.name === HOUSEHOLD.field)) {
    const all = (await engine.all<Record<string, unknown>>(patternSql(comparisons))).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])) as Pattern);
    const household = fitHousehold(comparisons, all, params);
    if (household) params.household = household;
  }
  step('estimate');
  await engine.run(scoreSql(comparisons, params));
  step('score');

  // Links: overrides first (unrefusable), then deterministic rules, then probabilistic pairs, best first.
  const threshold = options.threshold ?? 0.5;
  // Columnar read: a million row objects would cost far more memory than four arrays.
  const keyCols = (await (await engine.connection.runAndReadAll(
    `SELECT tenant_id, source_system, customer_id, date_diff('day', DATE '1970-01-01', dob) AS dob_days, email_key FROM id_std ORDER BY rid`,
  )).getColumnsObjectJS()) as Record<string, unknown[]>;
  const records: RecordKey[] = keyCols.tenant_id!.map((t, i) => ({ tenant: String(t), source: String(keyCols.source_system![i]), customerId: String(keyCols.customer_id![i]) }));
  const ridsByKey = new Map<string, number[]>();
  if (overrides.always.length || overrides.never.length) {
    records.forEach((k, i) => {
      const key = keyOf(k);
      const list = ridsByKey.get(key);
      if (list) list.push(i);
      else ridsByKey.set(key, [i]);
    });
  }
  const pairsOf = (list: [RecordKey, RecordKey][]) =>
    list.flatMap(([a, b]) => (ridsByKey.get(keyOf(a)) ?? []).flatMap((x) => (ridsByKey.get(keyOf(b)) ?? []).map((y) => [Math.min(x, y), Math.max(x, y)] as [number, number]))).filter(([a, b]) => a !== b);
  const always = pairsOf(overrides.always);
  const never = pairsOf(overrides.never);

  await engine.run(`CREATE OR REPLACE TABLE id_links AS
SELECT rid_l, rid_r, det_rule, match_probability,
  det_rule = 'same_source_record' AS always,
  ${nameConflictSql(comparisons, params)} AS name_conflict,
  ${nameOnlySql(comparisons)} AS name_only,
  ${dobTolerantSql(comparisons, params, threshold)} AS dob_tolerant
FROM id_scored WHERE det_rule IS NOT NULL OR match_probability >= ${threshold}
ORDER BY always DESC, (det_rule IS NOT NULL) DESC, match_probability DESC, rid_l, rid_r`);
  const linkCols = (await (await engine.connection.runAndReadAll('SELECT rid_l, rid_r, always, name_conflict, name_only, dob_tolerant, coalesce(CASE WHEN det_rule IS NOT NULL THEN 1.0 END, match_probability) AS p FROM id_links ORDER BY always DESC, (det_rule IS NOT NULL) DESC, match_probability DESC, rid_l, rid_r')).getColumnsObjectJS()) as Record<string, unknown[]>;
  const m0 = linkCols.rid_l!.length;
  const l = new Int32Array(m0 + always.length);
  const r = new Int32Array(m0 + always.length);
  const alwaysFlag = new Uint8Array(m0 + always.length);
  const prob = new Float64Array(m0 + always.length).fill(1);
  const nameConflict = new Uint8Array(m0 + always.length);
  const nameOnly = new Uint8Array(m0 + always.length);
  const dobTolerant = new Uint8Array(m0 + always.length);
  always.forEach(([a, b], i) => ((l[i] = a), (r[i] = b), (alwaysFlag[i] = 1)));
  for (let i = 0; i < m0; i++) {
    l[always.length + i] = Number(linkCols.rid_l![i]);
    r[always.length + i] = Number(linkCols.rid_r![i]);
    alwaysFlag[always.length + i] = linkCols.always![i] ? 1 : 0;
    prob[always.length + i] = Number(linkCols.p![i]);
    nameConflict[always.length + i] = linkCols.name_conflict![i] ? 1 : 0;
    nameOnly[always.length + i] = linkCols.name_only![i] ? 1 : 0;
    dobTolerant[always.length + i] = linkCols.dob_tolerant![i] ? 1 : 0;
  }
  const emailCode = new Map<string, number>();
  const result = cluster(
    {
      n,
      dob: keyCols.dob_days!.map((d) => (d == null ? null : Number(d))),
      email: keyCols.email_key!.map((e) => {
        if (e == null) return null;
        const key = String(e);
        if (!emailCode.has(key)) emailCode.set(key, emailCode.size);
        return emailCode.get(key)!;
      }),
      edges: { l, r, always: alwaysFlag, probability: prob, nameConflict: options.refuseNameConflicts === false ? undefined : nameConflict,
        nameOnly: options.requireCorroboration === false ? undefined : nameOnly, dobTolerant },
      never,
    },
    options.cluster,
  );
  step('cluster');

  const ids = assignIds(records, result.cluster, options.registry ?? [], options.retired ?? [], options.runId);
  await engine.run('CREATE OR REPLACE TABLE id_assign (rid BIGINT, customer360_id VARCHAR)');
  await appendRows(engine, 'id_assign', ids.ids.map((id, i) => [i, id]));
  await engine.run(`CREATE OR REPLACE TABLE id_result AS
SELECT s.rid, s.tenant_id, s.source_system, s.customer_id, a.customer360_id, count(*) OVER (PARTITION BY a.customer360_id) AS cluster_size
FROM id_std s JOIN id_assign a USING (rid)`);
  await engine.run('CREATE OR REPLACE TABLE id_decisions (rid_l BIGINT, rid_r BIGINT, override BOOLEAN, decision VARCHAR)');
  await appendRows(engine, 'id_decisions', Array.from({ length: l.length }, (_, i) => [l[i]!, r[i]!, i < always.length, result.decisions[i]!]));
  step('ids');

  await engine.run(ledgerSql(comparisons, rules, options.runId));
  await engine.run(clustersSql());
  step('ledger');

  const refused: Record<string, number> = {};
  for (const d of result.decisions) if (d.startsWith('REFUSED')) refused[d] = (refused[d] ?? 0) + 1;
  const pairsByRule = new Map(perRule.map((p) => [Number(p.rule), Number(p.n)]));
  return {
    records: n,
    params,
    comparisons: comparisons.map((c) => c.name),
    blockingRules: rules.map((rule, i) => ({ name: rule.name, pairs: pairsByRule.get(i) ?? 0 })),
    skippedRules,
    candidatePairs,
    links: result.decisions.filter((d) => d === 'LINKED').length,
    refusedLinks: refused,
    clusters: ids.churn.clusters,
    churn: ids.churn,
    registry: ids.registry,
    retired: ids.retired,
    timingsMs: timings,
  };
}

/**
 * The household class on the candidate pairs' comparison patterns (HOUSEHOLD's population), with the agreement one
 * field implies of another left out as scoring leaves it out (Comparison.impliedBy).
 */
export function fitHousehold(comparisons: readonly Comparison[], patterns: readonly Pattern[], params: ModelParams): HouseholdParams | undefined {
  const field = comparisons.find((c) => c.name === HOUSEHOLD.field);
  if (!field) return undefined;
  const best = bestLevels(comparisons);
  const implied = comparisons.flatMap((c) => (c.impliedBy ?? []).filter((by) => best[by] !== undefined).map((by) => [c.name, by] as const));
  const adjusted = patterns.map((p) => {
    const q: Pattern = { ...p };
    for (const [name, by] of implied) if (q[`g_${by}`] === best[by] && (q[`g_${name}`] ?? -1) > 0) q[`g_${name}`] = -1;
    for (const c of comparisons) if (nameDerivedGammas(c).includes(q[`g_${c.name}`] ?? -1)) q[`g_${c.name}`] = -1;
    return q;
  });
  const m = Object.fromEntries(Object.entries(params.fields).map(([k, f]) => [k, f.m]));
  const u = Object.fromEntries(Object.entries(params.fields).map(([k, f]) => [k, f.u]));
  const minGamma = field.levels.length - field.levels.findIndex((l) => l.label === HOUSEHOLD.minLevel);
  return estimateHousehold(comparisons, adjusted, m, u, { field: field.name, minGamma, shared: comparisons.filter((c) => c.household === 'shared').map((c) => c.name) });
}

/**
 * Levels whose agreement may come from the names alone (Comparison.nameDerivedLevels: email local parts built from
 * them). The household class leaves them out: a household's j.smith@ and k.smith@ follow from its shared surname,
 * which the class already counts, and counting both would make every household with such addresses a match.
 */
function nameDerivedGammas(c: Comparison): number[] {
  return (c.nameDerivedLevels ?? []).map((label) => c.levels.length - c.levels.findIndex((l) => l.label === label));
}

/**
 * A household, not a duplicate. Between records that share an address, with the household class fitted
 * (params.household): a probabilistic link is refused when the household class explains it better than the match
 * class (log2 odds of match against household below 0). The personal fields weigh as in the match weight (a household
 * member is a stranger there: first name, birth date), the shared ones by m against h, and the prior is the
 * household share the data showed. Elsewhere (no shared address, so no population to tell households from
 * duplicates; or fewer than MIN_TRAINING_PAIRS pairs share one; or a graph trained before the class existed): both
 * first names present and unrelated and no agreeing birth date, the pattern of a household member or a namesake
 * whom surname, city and postcode (dependent facts the model counts as independent) would otherwise link.
 */
export function nameConflictSql(comparisons: readonly Comparison[], params?: ModelParams): string {
  if (!comparisons.some((c) => c.name === 'first_name')) return 'false';
  const dob = comparisons.some((c) => c.name === 'date_of_birth') ? ' AND g_date_of_birth <= 0' : '';
  const unrelated = `(g_first_name = 0${dob})`;
  const hh = params?.household;
  if (!hh || !comparisons.some((c) => c.name === hh.field)) return unrelated;
  return `(CASE WHEN g_${hh.field} >= ${hh.minGamma} THEN det_rule IS NULL AND ${householdOddsSql(comparisons, params!)} < 0 ELSE ${unrelated} END)`;
}

/** log2 odds of match against household for a pair in the household population (see nameConflictSql). */
export function householdOddsSql(comparisons: readonly Comparison[], params: ModelParams): string {
  const hh = params.household!;
  const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(12) : '0');
  const best = bestLevels(comparisons);
  const terms = comparisons.map((c) => {
    if (hh.share[c.name] === undefined) return `w_${c.name}`;
    const m = hh.m[c.name] ?? {};
    const h = hh.h[c.name] ?? {};
    const levels = Object.keys(h).map(Number).sort((a, b) => b - a);
    const derived = nameDerivedGammas(c);
    const guard = (c.impliedBy ?? []).filter((by) => best[by] !== undefined).map((by) => `WHEN g_${by} = ${best[by]} AND g_${c.name} > 0 THEN 0.0 `).join('') +
      (derived.length ? `WHEN g_${c.name} IN (${derived.join(', ')}) THEN 0.0 ` : '');
    return `CASE ${guard}WHEN g_${c.name} < 0 THEN 0.0 ${levels.map((g) => `WHEN g_${c.name} = ${g} THEN ${num(Math.log2((m[g] ?? 1e-6) / (h[g] ?? 1e-6)))}`).join(' ')} ELSE 0.0 END`;
  });
  return `(${[num(Math.log2((1 - hh.lambda) / hh.lambda)), ...terms].join(' + ')})`;
}

/**
 * The link stays at or above the threshold under the model with its birth-date comparison at the disagreement level
 * (its weight less the pair's birth-date weight plus the disagreement's): the model would link these records whatever
 * their birth dates say, so clustering does not refuse it for a birth-date conflict between the two clusters (see
 * ClusterInput.edges.dobTolerant). One constant from the stored model and threshold; no parameter of its own.
 */
export function dobTolerantSql(comparisons: readonly Comparison[], params: ModelParams, threshold: number): string {
  const f = params.fields.date_of_birth;
  if (!f || !comparisons.some((c) => c.name === 'date_of_birth')) return 'false';
  const wElse = Math.log2((f.m[0] ?? 1e-6) / (f.u[0] ?? 1));
  const cut = Math.log2(threshold / (1 - threshold));
  return `(match_weight - w_date_of_birth >= ${(cut - wElse).toPrecision(12)})`;
}

/** Fields that identify a person by themselves; names do not. */
const NAME_FIELDS = new Set(['first_name', 'last_name']);

/**
 * A probabilistic link with no agreeing field besides the names (a positive weight on an agreement level with positive weight on at least one other field is
 * corroboration). Deterministic links are exempt (they rest on a shared email or phone); with no other field in the
 * data there is nothing to require.
 */
export function nameOnlySql(comparisons: readonly Comparison[]): string {
  const others = comparisons.filter((c) => !NAME_FIELDS.has(c.name));
  if (others.length === 0 || others.length === comparisons.length) return 'false';
  const agrees = (c: Comparison) => {
    const derived = (c.nameDerivedLevels ?? []).map((label) => c.levels.length - c.levels.findIndex((l) => l.label === label));
    return `(g_${c.name} > 0${derived.length ? ` AND g_${c.name} NOT IN (${derived.join(', ')})` : ''} AND w_${c.name} > 0)`;
  };
  const names = new Set(comparisons.map((c) => c.name));
  const corroborates = (c: Comparison) => {
    const finer = (c.finer ?? []).filter((f) => names.has(f));
    return finer.length ? `(${agrees(c)} AND ${finer.map((f) => `g_${f} < 0`).join(' AND ')})` : agrees(c);
  };
  return `(det_rule IS NULL AND NOT (${others.map(corroborates).join(' OR ')}))`;
}

/** Comparisons a rule would generate: sum over its key values of k(k-1)/2. */
export function estimatePairsSql(rule: BlockingRule): string {
  const keys = ['tenant_id', ...rule.keys];
  return `SELECT coalesce(sum(k * (k - 1) / 2), 0) FROM (SELECT count(*) AS k FROM id_std WHERE ${rule.keys.map((k) => `${k} IS NOT NULL`).join(' AND ')} GROUP BY ${keys.join(', ')})`;
}

/** The match ledger: one row per link decision, with the evidence behind it. */
export function ledgerSql(comparisons: readonly Comparison[], rules: readonly BlockingRule[], runId: string): string {
  const ruleName = rules.length ? `CASE s.rule ${rules.map((r, i) => `WHEN ${i} THEN ${lit(r.name)}`).join(' ')} END` : 'NULL::VARCHAR';
  const levels = comparisons.map(
    (c) => `CASE s.g_${c.name} ${[-1, 0, ...c.levels.map((_, i) => c.levels.length - i)].map((g) => `WHEN ${g} THEN ${lit(levelLabel(c, g))}`).join(' ')} END AS LEVEL_${c.name.toUpperCase()}`,
  );
  const weights = comparisons.map((c) => `s.w_${c.name} AS WEIGHT_${c.name.toUpperCase()}`);
  return `CREATE OR REPLACE TABLE id_ledger AS
SELECT l.tenant_id AS TENANT_ID,
  l.source_system AS SOURCE_SYSTEM_L, l.customer_id AS CUSTOMER_ID_L,
  r.source_system AS SOURCE_SYSTEM_R, r.customer_id AS CUSTOMER_ID_R,
  CASE WHEN d.override THEN 'override:always_match' WHEN s.det_rule IS NOT NULL THEN 'deterministic:' || s.det_rule ELSE 'fellegi_sunter' END AS MATCH_RULE,
  ${ruleName} AS BLOCKING_RULE,
  ${[...levels, ...weights].map((x) => `${x},`).join('\n  ')}
  s.match_weight AS MATCH_WEIGHT,
  CASE WHEN d.override THEN 1.0 ELSE s.match_probability END AS MATCH_PROBABILITY,
  d.decision AS DECISION,
  ra.customer360_id AS CUSTOMER360_ID,
  ${lit(runId)} AS RUN_ID
FROM id_decisions d
JOIN id_std l ON l.rid = d.rid_l
JOIN id_std r ON r.rid = d.rid_r
LEFT JOIN id_scored s ON s.rid_l = d.rid_l AND s.rid_r = d.rid_r
JOIN id_result ra ON ra.rid = d.rid_l`;
}

export function clustersSql(): string {
  return `CREATE OR REPLACE TABLE id_clusters AS
WITH linked AS (
  SELECT CUSTOMER360_ID, min(MATCH_PROBABILITY) AS min_p, avg(MATCH_PROBABILITY) AS avg_p
  FROM id_ledger WHERE DECISION = 'LINKED' GROUP BY CUSTOMER360_ID
)
SELECT r.customer360_id AS CUSTOMER360_ID, any_value(r.tenant_id) AS TENANT_ID, count(*)::INTEGER AS RECORD_COUNT,
  list_sort(list_distinct(list(r.source_system))) AS SOURCE_SYSTEMS,
  count(DISTINCT s.email_key)::INTEGER AS DISTINCT_EMAILS,
  count(DISTINCT s.dob)::INTEGER AS DISTINCT_BIRTH_DATES,
  linked.min_p AS MIN_LINK_PROBABILITY, linked.avg_p AS AVG_LINK_PROBABILITY
FROM id_result r JOIN id_std s USING (rid) LEFT JOIN linked ON linked.CUSTOMER360_ID = r.customer360_id
GROUP BY r.customer360_id, linked.min_p, linked.avg_p`;
}
