// Why two records are or are not the same person, from the graph: their match keys, the blocking rules that put them
// side by side, each field's comparison level and weight under the stored model, the prior, total weight and
// probability, the deterministic rule that fired, the decision clustering took on their link (the protection that
// refused it), and, when they share a person, the chain of links that joined them.
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';
import { modelParts, readModel } from './graph.ts';
import { levelLabel } from './model.ts';
import { nameConflictSql, nameOnlySql } from './resolve.ts';
import { comparisonSql, scoreSql } from './sql.ts';
import { TF_COLUMNS } from './standardise.ts';

export interface Explanation {
  records: { key: string; customer360Id: string; values: Record<string, unknown> }[];
  samePerson: boolean;
  candidate: string[];
  fields: { field: string; level: string; weight: number }[];
  prior: number;
  weight: number;
  probability: number;
  threshold: number;
  deterministic: string | null;
  /** The clustering decision on the pair's own link, if it was scored at or above the threshold. */
  decision: string | null;
  /** Protections that apply to the pair itself (refused before merge-protection checks). */
  protections: string[];
  /** Links (best path) joining the two when they share a person. */
  path: { from: string; to: string; rule: string; probability: number }[];
}

const SHOWN = ['fn', 'fn_canon', 'ln', 'dob', 'email_addr', 'email_key', 'phone_e164', 'addr', 'city', 'zip'];

/** Finds a record by 'SOURCE:CUSTOMER_ID' or by a CUSTOMER_ID unique in the tenant. */
async function findRecord(engine: Engine, ref: string, tenant: string): Promise<Record<string, unknown>> {
  const i = ref.indexOf(':');
  const where = i > 0 ? `source_system = ${lit(ref.slice(0, i))} AND customer_id = ${lit(ref.slice(i + 1))}` : `customer_id = ${lit(ref)}`;
  const rows = await engine.all(`SELECT * FROM g.records WHERE tenant_id = ${lit(tenant)} AND ${where}`);
  if (rows.length === 0) throw new UsageError(`No record '${ref}' in tenant '${tenant}' of the identity graph (give SOURCE_SYSTEM:CUSTOMER_ID)`);
  if (rows.length > 1) throw new UsageError(`'${ref}' names ${rows.length} records in tenant '${tenant}': give SOURCE_SYSTEM:CUSTOMER_ID`);
  return rows[0]!;
}

export async function explainPair(engine: Engine, refA: string, refB: string, tenant: string): Promise<Explanation> {
  const model = await readModel(engine);
  if (!model) throw new UsageError('The identity graph is empty: resolve records into it first (c360 resolve --incremental --state DIR --input F)');
  const { comparisons, rules, deterministic } = modelParts(model);
  const a = await findRecord(engine, refA, tenant);
  const b = await findRecord(engine, refB, tenant);
  const [ra, rb] = [Number(a.rid), Number(b.rid)].sort((x, y) => x - y) as [number, number];
  if (ra === rb) throw new UsageError(`'${refA}' and '${refB}' are the same record`);
  // Score the pair now, with the stored model and the graph's current term frequencies.
  const tfJoins = TF_COLUMNS.map((c, i) => `LEFT JOIN (SELECT tenant_id, ${c}, count(*) AS n FROM g.records WHERE ${c} IS NOT NULL GROUP BY ALL) t${i} ON t${i}.tenant_id = s.tenant_id AND t${i}.${c} = s.${c}`);
  await engine.run(`CREATE OR REPLACE TABLE id_std AS
SELECT s.* EXCLUDE (customer360_id), ${TF_COLUMNS.map((c, i) => `t${i}.n / tot.n AS tf_${c}`).join(', ')}
FROM (SELECT * FROM g.records WHERE rid IN (${ra}, ${rb})) s
JOIN (SELECT tenant_id, count(*)::DOUBLE AS n FROM g.records GROUP BY ALL) tot ON tot.tenant_id = s.tenant_id
${tfJoins.join('\n')}`);
  await engine.run(`CREATE OR REPLACE TABLE id_pairs AS SELECT ${ra}::BIGINT AS rid_l, ${rb}::BIGINT AS rid_r, NULL::INTEGER AS rule`);
  await engine.run(comparisonSql(comparisons, deterministic, 'id_pairs', 'id_cmp', { rules }));
  await engine.run(scoreSql(comparisons, model.params));
  const s = (await engine.all<Record<string, unknown>>(`SELECT *, ${nameConflictSql(comparisons, model.params)} AS name_conflict, ${nameOnlySql(comparisons)} AS name_only FROM id_scored`))[0]!;
  const mask = BigInt(String(s.rule_mask ?? 0));
  const candidate = rules.filter((_, k) => (mask >> BigInt(k)) & 1n).map((r) => r.name);
  const stored = (await engine.all<{ decision: string | null }>(`SELECT decision FROM g.edges WHERE rid_l = ${ra} AND rid_r = ${rb}`))[0];
  const protections: string[] = [];
  if (!s.det_rule && s.name_conflict === true) {
    protections.push(model.params.household
      ? 'REFUSED:HOUSEHOLD (the pair shares an address and the household class explains it better than a match)'
      : 'REFUSED:HOUSEHOLD (first names unrelated and no birth date agrees)');
  }
  if (!s.det_rule && s.name_only === true) protections.push('REFUSED:NAME_ONLY (nothing but the names agrees)');
  const never = await engine.all(`SELECT 1 FROM g.overrides o WHERE o.KIND = 'never_match' AND o.TENANT_ID = ${lit(tenant)} AND (
    (o.SOURCE_SYSTEM_L = ${lit(String(a.source_system))} AND o.CUSTOMER_ID_L = ${lit(String(a.customer_id))} AND o.SOURCE_SYSTEM_R = ${lit(String(b.source_system))} AND o.CUSTOMER_ID_R = ${lit(String(b.customer_id))})
    OR (o.SOURCE_SYSTEM_L = ${lit(String(b.source_system))} AND o.CUSTOMER_ID_L = ${lit(String(b.customer_id))} AND o.SOURCE_SYSTEM_R = ${lit(String(a.source_system))} AND o.CUSTOMER_ID_R = ${lit(String(a.customer_id))}))`);
  if (never.length) protections.push('REFUSED:NEVER_MATCH (a never-match override names this pair)');
  const key = (r: Record<string, unknown>) => `${String(r.source_system)}:${String(r.customer_id)}`;
  const samePerson = a.customer360_id === b.customer360_id;
  return {
    records: [a, b].map((r) => ({ key: key(r), customer360Id: String(r.customer360_id), values: Object.fromEntries(SHOWN.map((c) => [c, r[c] ?? null])) })),
    samePerson,
    candidate,
    fields: comparisons.map((c) => ({ field: c.name, level: levelLabel(c, Number(s[`g_${c.name}`])), weight: Number(s[`w_${c.name}`]) })),
    prior: Number(s.w_prior),
    weight: Number(s.match_weight),
    probability: s.det_rule ? 1 : Number(s.match_probability),
    threshold: model.threshold,
    deterministic: (s.det_rule as string | null) ?? null,
    decision: stored?.decision ?? null,
    protections,
    path: samePerson ? await linkPath(engine, String(a.customer360_id), Number(a.rid), Number(b.rid)) : [],
  };
}

/** The strongest chain of linked edges between two records of one person (widest path: best weakest link). */
async function linkPath(engine: Engine, person: string, from: number, to: number) {
  const recs = await engine.all<{ rid: string; source_system: string; customer_id: string }>(`SELECT rid, source_system, customer_id FROM g.records WHERE customer360_id = ${lit(person)}`);
  const name = new Map(recs.map((r) => [Number(r.rid), `${r.source_system}:${r.customer_id}`]));
  const edges = await engine.all<{ rid_l: string; rid_r: string; det_rule: string | null; p: number }>(`SELECT rid_l, rid_r, det_rule, CASE WHEN det_rule IS NOT NULL THEN 1.0 ELSE match_probability END AS p
    FROM g.edges WHERE decision = 'LINKED' AND rid_l IN (SELECT rid FROM g.records WHERE customer360_id = ${lit(person)})`);
  const adj = new Map<number, { to: number; rule: string; p: number }[]>();
  for (const e of edges) {
    const [l, r] = [Number(e.rid_l), Number(e.rid_r)];
    const rule = e.det_rule ? `deterministic:${e.det_rule}` : 'fellegi_sunter';
    adj.set(l, [...(adj.get(l) ?? []), { to: r, rule, p: Number(e.p) }]);
    adj.set(r, [...(adj.get(r) ?? []), { to: l, rule, p: Number(e.p) }]);
  }
  // Widest path by repeated relaxation (a person has few records).
  const best = new Map<number, { w: number; prev?: number; rule?: string; p?: number }>([[from, { w: Infinity }]]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [u, st] of best) for (const e of adj.get(u) ?? []) {
      const w = Math.min(st.w, e.p);
      if (w > (best.get(e.to)?.w ?? -1)) ((changed = true), best.set(e.to, { w, prev: u, rule: e.rule, p: e.p }));
    }
  }
  const path: { from: string; to: string; rule: string; probability: number }[] = [];
  for (let cur = to; best.get(cur)?.prev !== undefined; cur = best.get(cur)!.prev!) {
    const st = best.get(cur)!;
    path.unshift({ from: name.get(st.prev!) ?? String(st.prev), to: name.get(cur) ?? String(cur), rule: st.rule!, probability: st.p! });
  }
  if (path.length === 0) path.push({ from: name.get(from) ?? '', to: name.get(to) ?? '', rule: 'override:always_match', probability: 1 });
  return path;
}

export function formatExplanation(x: Explanation): string[] {
  const [a, b] = x.records as [Explanation['records'][number], Explanation['records'][number]];
  const out = [`${a.key} (${a.customer360Id}) and ${b.key} (${b.customer360Id}): ${x.samePerson ? 'the same person' : 'different people'}`];
  out.push('  values:');
  for (const k of Object.keys(a.values)) out.push(`    ${k.padEnd(11)} ${String(a.values[k] ?? '-').padEnd(30)} ${String(b.values[k] ?? '-')}`);
  out.push(`  candidate pair: ${x.candidate.length ? `yes, blocking rules ${x.candidate.join(', ')}` : 'no (no blocking rule shares a key: never compared)'}`);
  out.push('  comparison (level, log2 Bayes factor):');
  for (const f of x.fields) out.push(`    ${f.field.padEnd(14)} ${f.level.padEnd(22)} ${f.weight >= 0 ? '+' : ''}${f.weight.toFixed(2)}`);
  out.push(`  prior ${x.prior.toFixed(2)}, match weight ${x.weight.toFixed(2)}, probability ${x.probability.toFixed(4)} (threshold ${x.threshold})`);
  out.push(`  deterministic rule: ${x.deterministic ?? 'none'}`);
  out.push(`  decision on this link: ${x.decision ?? (x.probability >= x.threshold ? 'not decided yet' : 'below the threshold (no link)')}`);
  if (x.protections.length) out.push(`  protections: ${x.protections.join('; ')}`);
  if (x.path.length) out.push('  joined through:', ...x.path.map((p) => `    ${p.from} -> ${p.to}  ${p.rule} ${p.probability.toFixed(4)}`));
  return out;
}
