// SQL generators for the matching pipeline (Splink-style): blocking-rule union -> comparison vectors -> scores.
// Pure functions of the model and the estimated parameters, so every statement can be asserted as text.
import { lit } from '../engine/duckdb.ts';
import { gammaOf, type BlockingRule, type Comparison } from './model.ts';
import type { ModelParams } from './em.ts';

/** Candidate pairs of one rule; the tenant is part of every rule, so tenants never meet. */
export function blockingRuleSql(rule: BlockingRule, index: number, table = 'id_std'): string {
  const conds = ['l.tenant_id = r.tenant_id', ...rule.keys.map((k) => `l.${k} = r.${k}`), 'l.rid < r.rid'];
  if (rule.on) conds.push(`(${rule.on})`);
  return `SELECT l.rid AS rid_l, r.rid AS rid_r, ${index} AS rule FROM ${table} l JOIN ${table} r ON ${conds.join(' AND ')}`;
}

/** The union of the rules, one row per pair, labelled with the first rule that produced it. */
export function blockingSql(rules: readonly BlockingRule[], table = 'id_std'): string {
  const parts = rules.map((r, i) => blockingRuleSql(r, i, table));
  // A swapped-names rule needs both orientations because rid_l < rid_r fixes one of them.
  rules.forEach((r, i) => {
    if (r.on && r.keys.length === 0) parts.push(blockingRuleSql({ ...r, on: swapSides(r.on) }, i, table));
  });
  if (parts.length === 0) return 'CREATE OR REPLACE TABLE id_pairs AS SELECT NULL::BIGINT AS rid_l, NULL::BIGINT AS rid_r, NULL::INTEGER AS rule WHERE false';
  return `CREATE OR REPLACE TABLE id_pairs AS
SELECT rid_l, rid_r, min(rule) AS rule FROM (
  ${parts.join('\n  UNION ALL\n  ')}
) GROUP BY rid_l, rid_r`;
}

/**
 * Bit k set when the pair satisfies rule k. EM trains on every pair of a rule's block, not only the pairs that rule
 * found first: otherwise a later rule's block would lack exactly the pairs that agree on an earlier rule's keys.
 */
export function ruleMaskSql(rules: readonly BlockingRule[]): string {
  return rules
    .map((r, k) => {
      const conds = r.keys.map((key) => `l.${key} = r.${key}`);
      if (r.on) conds.push(r.keys.length === 0 ? `((${r.on}) OR (${swapSides(r.on)}))` : `(${r.on})`);
      return `(CASE WHEN coalesce(${conds.join(' AND ')}, false) THEN ${2 ** k} ELSE 0 END)`;
    })
    .join(' + ') + '::BIGINT';
}

function swapSides(sql: string): string {
  return sql.replace(/\b([lr])\./g, (_m, s: string) => (s === 'l' ? 'r.' : 'l.'));
}

export function gammaSql(c: Comparison): string {
  const whens = c.levels.map((lv, i) => `WHEN ${lv.sql} THEN ${gammaOf(c, i)}`).join(' ');
  return `CASE WHEN ${c.nullSql} THEN -1 ${whens} ELSE 0 END::TINYINT AS g_${c.name}`;
}

export function tfColumns(comparisons: readonly Comparison[]): string[] {
  return [...new Set(comparisons.flatMap((c) => c.levels.filter((l) => l.tf).map((l) => l.tf!)))];
}

/** Comparison vectors for the pairs in `pairs` (rid_l, rid_r[, rule]). */
export function comparisonSql(
  comparisons: readonly Comparison[],
  deterministic: readonly { name: string; sql: string }[],
  pairs: string,
  out: string,
  options: { withRule?: boolean; withTf?: boolean; rules?: readonly BlockingRule[] } = {},
): string {
  const cols = ['p.rid_l', 'p.rid_r'];
  if (options.withRule !== false) cols.push('p.rule');
  if (options.rules) cols.push(options.rules.length ? `${ruleMaskSql(options.rules)} AS rule_mask` : '0::BIGINT AS rule_mask');
  cols.push(...comparisons.map(gammaSql));
  if (options.withTf !== false) cols.push(...tfColumns(comparisons).map((t) => `l.tf_${t} AS tf_${t}`));
  if (deterministic.length) {
    cols.push(`${detRuleSql(deterministic)} AS det_rule`);
  } else if (options.withRule !== false) {
    cols.push('NULL::VARCHAR AS det_rule');
  }
  return `CREATE OR REPLACE TABLE ${out} AS
SELECT ${cols.join(',\n  ')}
FROM ${pairs} p JOIN id_std l ON l.rid = p.rid_l JOIN id_std r ON r.rid = p.rid_r`;
}

/** The first deterministic rule a pair satisfies (its name), else NULL. */
export function detRuleSql(deterministic: readonly { name: string; sql: string }[]): string {
  return `CASE ${deterministic.map((d) => `WHEN ${d.sql} THEN ${lit(d.name)}`).join(' ')} END`;
}

/**
 * Pairs for estimating u: every pair when that is at most `max`, else `max` pseudo-random pairs from a seeded hash
 * (deterministic across runs and thread counts).
 */
export function randomPairsSql(n: number, max: number, seed = 42): string {
  if ((n * (n - 1)) / 2 <= max) {
    return `CREATE OR REPLACE TABLE id_rand AS SELECT l.rid AS rid_l, r.rid AS rid_r FROM id_std l JOIN id_std r ON l.rid < r.rid`;
  }
  return `CREATE OR REPLACE TABLE id_rand AS
SELECT DISTINCT least(a, b) AS rid_l, greatest(a, b) AS rid_r FROM (
  SELECT CAST(hash(i * 2 + ${seed}) % ${n} AS BIGINT) AS a, CAST(hash(i * 2 + 1 + ${seed}) % ${n} AS BIGINT) AS b FROM range(${max}) t(i)
) WHERE a <> b`;
}

/** Distinct comparison-vector patterns with their counts: EM iterates over these, not over pairs. */
export function patternSql(comparisons: readonly Comparison[], table = 'id_cmp'): string {
  const g = comparisons.map((c) => `g_${c.name}`);
  return `SELECT ${g.join(', ')}, count(*)::DOUBLE AS n FROM ${table} GROUP BY ${g.join(', ')}`;
}

const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(12) : '0');

/**
 * Per-field log2 Bayes factor; exact levels with term frequencies scale u by the value's frequency relative to the
 * average agreement rate among random pairs (rare values weigh more). Zero for rules that block on the field.
 */
export function weightSql(c: Comparison, params: ModelParams, implied?: Record<string, number>): string {
  const p = params.fields[c.name];
  if (!p) return `0.0::DOUBLE AS w_${c.name}`;
  const whens = c.levels.map((lv, i) => {
    const g = gammaOf(c, i);
    const m = p.m[g] ?? 1e-6;
    const u = p.u[g] ?? 1;
    if (lv.tf) return `WHEN ${g} THEN log2(${num(m)} / greatest(coalesce(tf_${lv.tf}, ${num(u)}), ${num(params.minTf)}))`;
    return `WHEN ${g} THEN ${num(Math.log2(m / u))}`;
  });
  const excludedRules = params.rules.map((r, i) => (r.excluded.includes(c.name) ? i : -1)).filter((i) => i >= 0);
  let guard = excludedRules.length && params.priorMode === 'rule' ? `WHEN rule IN (${excludedRules.join(', ')}) THEN 0.0 ` : '';
  // Agreement implied by another field's best level adds nothing (see Comparison.impliedBy).
  for (const [name, best] of Object.entries(implied ?? {})) if (c.impliedBy?.includes(name)) guard += `WHEN g_${name} = ${best} AND g_${c.name} > 0 THEN 0.0 `;
  return `CASE ${guard}WHEN g_${c.name} < 0 THEN 0.0 ${whens.map((w) => w.replace(/^WHEN (\d+)/, `WHEN g_${c.name} = $1`)).join(' ')} ELSE ${num(Math.log2((p.m[0] ?? 1e-6) / (p.u[0] ?? 1)))} END::DOUBLE AS w_${c.name}`;
}

/** Prior log2 odds of a pair: the match share of the first blocking rule that found it. */
export function priorSql(params: ModelParams): string {
  const logit = (l: number) => Math.log2(Math.max(l, 1e-12) / Math.max(1 - l, 1e-12));
  if (params.priorMode === 'global' || params.rules.length === 0) return `${num(logit(params.priorMode === 'global' ? params.globalPrior : params.lambda || 1e-9))}::DOUBLE`;
  return `CASE rule ${params.rules.map((r, i) => `WHEN ${i} THEN ${num(logit(r.lambda))}`).join(' ')} ELSE ${num(logit(params.lambda || 1e-9))} END::DOUBLE`;
}

/** Scores every compared pair: per-field weights, prior, total match weight and match probability. */
export function scoreSql(comparisons: readonly Comparison[], params: ModelParams, table = 'id_cmp', out = 'id_scored'): string {
  return `CREATE OR REPLACE TABLE ${out} AS
WITH w AS (
  SELECT *, ${priorSql(params)} AS w_prior,
    ${comparisons.map((c) => weightSql(c, params, bestLevels(comparisons))).join(',\n    ')}
  FROM ${table}
)
SELECT *, ${matchWeightSql(comparisons)} AS match_weight,
  ${matchProbabilitySql(comparisons)} AS match_probability
FROM w`;
}

/** Each comparison's best level (the gamma of an exact agreement), for weightSql's implied agreement. */
export function bestLevels(comparisons: readonly Comparison[]): Record<string, number> {
  return Object.fromEntries(comparisons.map((o) => [o.name, o.levels.length]));
}

/** The total match weight over the weight columns: the prior plus each field's log2 Bayes factor. */
export function matchWeightSql(comparisons: readonly Comparison[]): string {
  return ['w_prior', ...comparisons.map((c) => `w_${c.name}`)].join(' + ');
}

export function matchProbabilitySql(comparisons: readonly Comparison[]): string {
  return `1.0 / (1.0 + pow(2.0, -(${matchWeightSql(comparisons)})))`;
}

/** Comparison patterns of every rule's whole block (EM trains per rule); a pair counts in each block it is in. */
export function patternByRuleSql(comparisons: readonly Comparison[], ruleCount: number, table = 'id_cmp'): string {
  const g = comparisons.map((c) => `g_${c.name}`);
  return `SELECT ${['k AS rule', ...g].join(', ')}, count(*)::DOUBLE AS n
FROM ${table} JOIN range(${ruleCount}) t(k) ON (rule_mask >> k) & 1 = 1
GROUP BY ${['k', ...g].join(', ')}`;
}
