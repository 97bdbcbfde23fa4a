// Comparison vectors, Fellegi-Sunter scores and the stored edge columns of candidate pairs, computed in TypeScript
// from the very SQL the batch path runs (sql.ts comparisonSql/scoreSql, incremental.ts edgeSelectSql), compiled once
// per model by sql-eval.ts. The in-memory graph scores a stream batch with it: no DuckDB statement per pair table.
// Levels, deterministic rules and flags are identical; weights and probabilities use V8's Math.log2/Math.pow, which
// round the last bit differently from the C library DuckDB calls on about 1% of arguments (relative 1e-16): the
// order of two links of exactly equal probability could then differ from the SQL path's (test/identity-ts-path.test.ts).
import type { ModelParams } from './em.ts';
import { edgeSelectSql } from './incremental.ts';
import { dobTolerantSql } from './resolve.ts';
import type { ModelParts } from './graph.ts';
import { compileSql, compileSqlList, type EvalContext, type Val } from './sql-eval.ts';
import { bestLevels, detRuleSql, gammaSql, matchProbabilitySql, matchWeightSql, priorSql, tfColumns, weightSql } from './sql.ts';

type Fn = (c: EvalContext) => Val;

export interface ScoredEdge {
  /** The edge's columns, in edgeSelectSql order (`columns`). */
  values: Val[];
  rid_l: number;
  rid_r: number;
  always: boolean;
  det: string | null;
  conflict: boolean;
  nameOnly: boolean;
  /** resolve.ts dobTolerantSql over the scored row (not stored: derived from match_weight and w_date_of_birth). */
  dobTolerant: boolean;
  p: number;
}

export class PairScorer {
  /** The stored edge columns, in order (g.edges without decision). */
  readonly columns: string[];
  /** The record columns the model reads (l./r. references). */
  readonly reads = new Set<string>();
  private readonly steps: { slot: number; fn: Fn }[] = [];
  private readonly width: number;
  private readonly pSlot: number;
  private readonly detSlot: number;
  private readonly edge: { name: string; fn: Fn }[];
  private readonly at: Record<string, number>;
  private readonly dobTolerant: Fn;

  /**
   * `recordColumns`: the layout of the record arrays passed to score() (standardised columns, then tf_<col> term
   * frequencies).
   */
  constructor(parts: ModelParts, params: ModelParams, private readonly threshold: number, recordColumns: readonly string[]) {
    const { comparisons, deterministic } = parts;
    const index = new Map(recordColumns.map((c, i) => [c, i]));
    // The row's columns get slots as they are defined; an expression may read only columns defined before it.
    const slots = new Map<string, number>([['rid_l', 0], ['rid_r', 1], ['rule', 2]]);
    const column = (q: 'l' | 'r' | null, name: string): Fn => {
      if (q === null) {
        const slot = slots.get(name);
        if (slot === undefined) throw new Error(`The model's SQL reads ${name} before it is computed`);
        return (c) => c.row[slot] ?? null;
      }
      const i = index.get(name);
      if (i === undefined) throw new Error(`The model reads ${q}.${name}, which the in-memory graph does not hold`);
      this.reads.add(name);
      return q === 'l' ? (c) => c.l[i] ?? null : (c) => c.r[i] ?? null;
    };
    const add = (sql: string, name?: string) => {
      const compiled = compileSql(sql, column);
      const as = name ?? compiled.alias;
      if (!as) throw new Error(`No column name for: ${sql}`);
      slots.set(as, slots.size);
      this.steps.push({ slot: slots.get(as)!, fn: compiled.fn });
    };
    // comparisonSql's columns, then scoreSql's, in their order (later ones read earlier ones).
    for (const c of comparisons) add(gammaSql(c));
    for (const t of tfColumns(comparisons)) add(`l.tf_${t}`, `tf_${t}`);
    if (deterministic.length) add(detRuleSql(deterministic), 'det_rule');
    else {
      slots.set('det_rule', slots.size);
      this.steps.push({ slot: slots.get('det_rule')!, fn: () => null });
    }
    add(priorSql(params), 'w_prior');
    for (const c of comparisons) add(weightSql(c, params, bestLevels(comparisons)));
    add(matchWeightSql(comparisons), 'match_weight');
    add(matchProbabilitySql(comparisons), 'match_probability');
    this.edge = compileSqlList(edgeSelectSql(comparisons, params), column).map((c) => {
      if (!c.alias) throw new Error('edgeSelectSql has an unnamed column');
      return { name: c.alias, fn: c.fn };
    });
    this.dobTolerant = compileSql(dobTolerantSql(comparisons, params, threshold), column).fn;
    this.columns = this.edge.map((e) => e.name);
    this.width = slots.size;
    this.pSlot = slots.get('match_probability')!;
    this.detSlot = slots.get('det_rule')!;
    this.at = Object.fromEntries(this.columns.map((c, i) => [c, i]));
  }

  /** The pair's edge when it links (deterministic, or at or above the threshold), else null. l is the lower rid. */
  score(ridL: number, l: readonly Val[], ridR: number, r: readonly Val[], rule: number): ScoredEdge | null {
    const row: Val[] = new Array<Val>(this.width);
    row[0] = ridL;
    row[1] = ridR;
    row[2] = rule;
    const ctx: EvalContext = { l, r, row };
    for (const s of this.steps) row[s.slot] = s.fn(ctx);
    const p = row[this.pSlot] as number | null;
    if (row[this.detSlot] === null && !(p !== null && p >= this.threshold)) return null;
    const values = this.edge.map((e) => e.fn(ctx));
    const at = this.at;
    return {
      values, rid_l: ridL, rid_r: ridR, always: values[at.always!] === true, det: (values[at.det_rule!] ?? null) as string | null,
      conflict: values[at.name_conflict!] === true, nameOnly: values[at.name_only!] === true, dobTolerant: this.dobTolerant(ctx) === true,
      p: values[at.match_probability!] as number,
    };
  }
}
