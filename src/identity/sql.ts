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
  return `CREATE OR REPLACE TABLE id_pairs AS
SELECT rid_l, rid_r, min(rule) AS rule FROM (
  ${parts.join('\n  UNION ALL\n  ')}
) GROUP BY rid_l, rid_r`;
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
  options: { withRule?: boolean; withTf?: boolean } = {},
): string {
  const cols = ['p.rid_l', 'p.rid_r'];
  if (options.withRule !== false) cols.push('p.rule');
  cols.push(...comparisons.map(gammaSql));
  if (options.withTf !== false) cols.push(...tfColumns(comparisons).map((t) => `l.tf_${t} AS tf_${t}`));
  if (deterministic.length) {
    cols.push(`CASE ${deterministic.map((d) => `WHEN ${d.sql} THEN ${lit(d.name)}`).join(' ')} END AS det_rule`);
  }
  return `CREATE OR REPLACE TABLE ${out} AS
SELECT ${cols.join(',\n  ')}
FROM ${pairs} p JOIN id_std l ON l.rid = p.rid_l JOIN id_std r ON r.rid = p.rid_r`;
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

/** Per-field log2 Bayes factor; exact levels with term frequencies use m / tf(value) instead of m / u. */
export function weightSql(c: Comparison, params: ModelParams): string {
  const p = params.fields[c.name];
  if (!p) return `0.0::DOUBLE AS w_${c.name}`;
  const whens = c.levels.map((lv, i) => {
    const g = gammaOf(c, i);
    const m = p.m[g] ?? 0;
    const u = p.u[g] ?? 1;
    // Term frequency relative to the average agreement rate among random pairs scales u up for common values
    // and down for rare ones.
    const base = p.uRandom[g] ?? u;
    if (lv.tf) return `WHEN ${g} THEN log2(${num(m)} / (${num(u)} * greatest(coalesce(tf_${lv.tf}, ${num(base)}), ${num(params.minTf)}) / ${num(base)}))`;
    return `WHEN ${g} THEN ${num(Math.log2(m / u))}`;
  });
  return `CASE g_${c.name} ${whens.join(' ')} WHEN 0 THEN ${num(Math.log2((p.m[0] ?? 0) / (p.u[0] ?? 1)))} ELSE 0.0 END::DOUBLE AS w_${c.name}`;
}

/** Scores every compared pair: per-field weights, total match weight and match probability. */
export function scoreSql(comparisons: readonly Comparison[], params: ModelParams, table = 'id_cmp', out = 'id_scored'): string {
  const prior = Math.log2(params.lambda / (1 - params.lambda));
  const w = comparisons.map((c) => `w_${c.name}`);
  return `CREATE OR REPLACE TABLE ${out} AS
WITH w AS (
  SELECT *, ${comparisons.map((c) => weightSql(c, params)).join(',\n    ')}
  FROM ${table}
)
SELECT *, ${num(prior)} + ${w.join(' + ')} AS match_weight,
  1.0 / (1.0 + pow(2.0, -(${num(prior)} + ${w.join(' + ')}))) AS match_probability
FROM w`;
}
