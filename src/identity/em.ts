// Fellegi-Sunter parameter estimation. u (P(level | non-match)) comes from random record pairs, which are almost
// all non-matches; m (P(level | match)) and the match share lambda come from EM over the blocked pairs' comparison
// patterns with u held fixed (as Splink does), so no truth is needed.
import type { Comparison } from './model.ts';

export interface FieldParams {
  /** gamma -> probability (gamma 0 = disagreement, >0 agreement levels; null level -1 has none). */
  m: Record<number, number>;
  u: Record<number, number>;
  /** u among random pairs (the term-frequency baseline; equals u when u is not re-estimated). */
  uRandom: Record<number, number>;
}

export interface ModelParams {
  fields: Record<string, FieldParams>;
  /** Share of matches among the candidate pairs (the prior). */
  lambda: number;
  /** Floor for term frequencies (1 / records). */
  minTf: number;
  iterations: number;
  converged: boolean;
}

export type Pattern = { n: number } & Record<string, number>;

/** u per level from counts of levels among random pairs, with add-one smoothing so no level has u = 0. */
export function estimateU(c: Comparison, counts: ReadonlyMap<number, number>): Record<number, number> {
  const k = c.levels.length;
  let total = 0;
  for (let g = 0; g <= k; g++) total += counts.get(g) ?? 0;
  const u: Record<number, number> = {};
  for (let g = 0; g <= k; g++) u[g] = ((counts.get(g) ?? 0) + 1) / (total + k + 1);
  return u;
}

/** Starting m: most mass on the best levels (EM is insensitive to the exact start, not to its shape). */
export function initialM(c: Comparison): Record<number, number> {
  const k = c.levels.length;
  const m: Record<number, number> = {};
  let total = 0;
  for (let g = 0; g <= k; g++) total += (m[g] = g === 0 ? 0.05 : Math.pow(2, g));
  for (let g = 0; g <= k; g++) m[g] = g === 0 ? 0.05 : (m[g]! / total) * 0.95;
  return m;
}

export interface EmOptions {
  maxIterations?: number;
  tolerance?: number;
  lambda0?: number;
  /**
   * Re-estimate u by EM too (default true). The candidate pairs are not a random sample: their non-matches agree on
   * the blocking keys far more often than random pairs do, so u from random pairs overstates the evidence of those
   * agreements. Random-pair u is the starting point and the term-frequency baseline.
   */
  estimateU?: boolean;
}

/**
 * EM over comparison patterns. `patterns` rows hold g_<name> gammas and a count n. Returns m for every field,
 * u as given, and lambda.
 */
export function runEm(
  comparisons: readonly Comparison[],
  patterns: readonly Pattern[],
  u: Record<string, Record<number, number>>,
  minTf: number,
  options: EmOptions = {},
): ModelParams {
  const maxIt = options.maxIterations ?? 100;
  const tol = options.tolerance ?? 1e-6;
  let lambda = options.lambda0 ?? 0.3;
  const fitU = options.estimateU ?? true;
  const m: Record<string, Record<number, number>> = Object.fromEntries(comparisons.map((c) => [c.name, initialM(c)]));
  const uRandom = u;
  u = Object.fromEntries(Object.entries(u).map(([k, v]) => [k, { ...v }]));
  const gammas = patterns.map((p) => comparisons.map((c) => p[`g_${c.name}`] ?? -1));
  let it = 0;
  let converged = false;
  for (; it < maxIt; it++) {
    const mNum = comparisons.map((c) => new Float64Array(c.levels.length + 1));
    const mDen = new Float64Array(comparisons.length);
    const uNum = comparisons.map((c) => new Float64Array(c.levels.length + 1));
    const uDen = new Float64Array(comparisons.length);
    let matchSum = 0;
    let total = 0;
    for (let i = 0; i < patterns.length; i++) {
      const n = patterns[i]!.n;
      let pm = lambda;
      let pu = 1 - lambda;
      const g = gammas[i]!;
      for (let f = 0; f < comparisons.length; f++) {
        const gf = g[f]!;
        if (gf < 0) continue;
        pm *= m[comparisons[f]!.name]![gf]!;
        pu *= u[comparisons[f]!.name]![gf]!;
      }
      const post = pm / (pm + pu);
      matchSum += n * post;
      total += n;
      for (let f = 0; f < comparisons.length; f++) {
        const gf = g[f]!;
        if (gf < 0) continue;
        mNum[f]![gf]! += n * post;
        mDen[f]! += n * post;
        uNum[f]![gf]! += n * (1 - post);
        uDen[f]! += n * (1 - post);
      }
    }
    let delta = 0;
    comparisons.forEach((c, f) => {
      if (mDen[f]! <= 0) return;
      for (let gv = 0; gv <= c.levels.length; gv++) {
        // A tiny floor keeps log(m/u) finite for levels no match ever reaches.
        const next = Math.max(mNum[f]![gv]! / mDen[f]!, 1e-6);
        delta = Math.max(delta, Math.abs(next - m[c.name]![gv]!));
        m[c.name]![gv] = next;
        if (fitU && uDen[f]! > 0) {
          const nextU = Math.max(uNum[f]![gv]! / uDen[f]!, 1e-6);
          delta = Math.max(delta, Math.abs(nextU - u[c.name]![gv]!));
          u[c.name]![gv] = nextU;
        }
      }
    });
    const nextLambda = total > 0 ? Math.min(Math.max(matchSum / total, 1e-6), 1 - 1e-6) : lambda;
    delta = Math.max(delta, Math.abs(nextLambda - lambda));
    lambda = nextLambda;
    if (delta < tol) {
      converged = true;
      it++;
      break;
    }
  }
  return {
    fields: Object.fromEntries(comparisons.map((c) => [c.name, { m: m[c.name]!, u: u[c.name]!, uRandom: uRandom[c.name]! }])),
    lambda,
    minTf,
    iterations: it,
    converged,
  };
}
