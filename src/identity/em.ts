// Fellegi-Sunter parameter estimation without truth, the way Splink trains: u (P(level | non-match)) from random
// record pairs; m (P(level | match)) by EM on the candidate pairs of each blocking rule separately, with u fixed
// and the comparisons of the rule's own keys left out (every pair in the block agrees on them, so they carry no
// information there). The m estimates are pooled across rules, then each rule's match share (its prior, lambda)
// is re-estimated with the pooled m. Only rules marked `train` are used for m. A pair is scored with the prior of the first rule that found it and the
// Bayes factors of the comparisons that rule does not block on.
import type { BlockingRule, Comparison } from './model.ts';

export interface FieldParams {
  /** gamma -> probability (gamma 0 = disagreement, >0 agreement levels; the null level -1 has none). */
  m: Record<number, number>;
  u: Record<number, number>;
}

export interface RuleParams {
  name: string;
  pairs: number;
  /** Share of matches among the rule's candidate pairs. */
  lambda: number;
  /** Comparisons left out for this rule's pairs (they are fixed by its keys). */
  excluded: string[];
  /** Whether this rule's pairs contributed to the pooled m. */
  trainedM: boolean;
}

export interface ModelParams {
  fields: Record<string, FieldParams>;
  rules: RuleParams[];
  /**
   * 'global': every pair starts from the probability that two random records match and gets the Bayes factors of
   * all comparisons (Splink's prediction). 'rule': a pair starts from its blocking rule's match share and gets the
   * factors of the comparisons that rule does not block on.
   */
  priorMode: 'global' | 'rule';
  /** Probability that two random records (of one tenant) match. */
  globalPrior: number;
  /** Match share over all candidate pairs (reporting only). */
  lambda: number;
  /** Floor for term frequencies (1 / records). */
  minTf: number;
  iterations: number;
  converged: boolean;
  /** The household class (estimateHousehold), when enough pairs share an address to fit it. */
  household?: HouseholdParams;
}

export type Pattern = { n: number } & Record<string, number>;
type Probs = Record<string, Record<number, number>>;

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
  let total = 0;
  for (let g = 1; g <= k; g++) total += Math.pow(2, g);
  const m: Record<number, number> = { 0: 0.05 };
  for (let g = 1; g <= k; g++) m[g] = (Math.pow(2, g) / total) * 0.95;
  return m;
}

export interface EmOptions {
  maxIterations?: number;
  tolerance?: number;
  lambda0?: number;
  /** Starting m (default initialM). */
  m0?: Probs;
  /** Keep m fixed and estimate lambda only. */
  fixM?: boolean;
}

export interface EmResult {
  m: Probs;
  lambda: number;
  iterations: number;
  converged: boolean;
}

/** EM over comparison patterns (rows of g_<name> gammas and a count n) for the given comparisons, u fixed. */
export function runEm(comparisons: readonly Comparison[], patterns: readonly Pattern[], u: Probs, options: EmOptions = {}): EmResult {
  const maxIt = options.maxIterations ?? 200;
  const tol = options.tolerance ?? 1e-6;
  let lambda = options.lambda0 ?? 0.1;
  const m: Probs = Object.fromEntries(comparisons.map((c) => [c.name, { ...(options.m0?.[c.name] ?? initialM(c)) }]));
  const gammas = patterns.map((p) => comparisons.map((c) => p[`g_${c.name}`] ?? -1));
  let it = 0;
  let converged = false;
  for (; it < maxIt; it++) {
    const mNum = comparisons.map((c) => new Float64Array(c.levels.length + 1));
    const mDen = new Float64Array(comparisons.length);
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
      }
    }
    let delta = 0;
    if (!options.fixM) {
      comparisons.forEach((c, f) => {
        if (mDen[f]! <= 0) return;
        for (let gv = 0; gv <= c.levels.length; gv++) {
          // A tiny floor keeps log(m/u) finite for levels no match ever reaches.
          const next = Math.max(mNum[f]![gv]! / mDen[f]!, 1e-6);
          delta = Math.max(delta, Math.abs(next - m[c.name]![gv]!));
          m[c.name]![gv] = next;
        }
      });
    }
    const nextLambda = total > 0 ? Math.min(Math.max(matchSum / total, 1e-9), 1 - 1e-9) : lambda;
    delta = Math.max(delta, Math.abs(nextLambda - lambda));
    lambda = nextLambda;
    if (delta < tol) {
      converged = true;
      it++;
      break;
    }
  }
  return { m, lambda, iterations: it, converged };
}

/** Comparisons a rule's keys fix (left out when scoring and training on that rule's pairs). */
export function excludedBy(rule: BlockingRule, comparisons: readonly Comparison[]): string[] {
  const cols = new Set([...rule.keys, ...(rule.uses ?? [])]);
  return comparisons.filter((c) => c.blockedBy.some((k) => cols.has(k))).map((c) => c.name);
}

/** Blocks smaller than this give too little to estimate m from; they still get their own lambda. */
export const MIN_TRAINING_PAIRS = 30;

export function estimateModel(
  comparisons: readonly Comparison[],
  rules: readonly BlockingRule[],
  patternsByRule: ReadonlyMap<number, Pattern[]>,
  u: Probs,
  minTf: number,
  prior: { mode: 'global' | 'rule'; allPairs: number } = { mode: 'rule', allPairs: 0 },
): ModelParams {
  const pooledNum: Record<string, Record<number, number>> = {};
  const pooledW: Record<string, number> = {};
  let iterations = 0;
  let converged = true;
  const trained = new Set<number>();
  rules.forEach((rule, k) => {
    const patterns = patternsByRule.get(k) ?? [];
    const pairs = patterns.reduce((a, p) => a + p.n, 0);
    const excluded = new Set(excludedBy(rule, comparisons));
    const used = comparisons.filter((c) => !excluded.has(c.name));
    if (!rule.train || pairs < MIN_TRAINING_PAIRS || used.length === 0) return;
    const res = runEm(used, patterns, u);
    iterations = Math.max(iterations, res.iterations);
    converged &&= res.converged;
    trained.add(k);
    // Each training session counts once (as in Splink); a large block must not outvote the others.
    const w = 1;
    for (const c of used) {
      pooledW[c.name] = (pooledW[c.name] ?? 0) + w;
      const acc = (pooledNum[c.name] ??= {});
      for (const [g, p] of Object.entries(res.m[c.name]!)) acc[Number(g)] = (acc[Number(g)] ?? 0) + w * p;
    }
  });
  const m: Probs = Object.fromEntries(
    comparisons.map((c) => {
      const w = pooledW[c.name] ?? 0;
      if (w <= 0) return [c.name, initialM(c)];
      return [c.name, Object.fromEntries(Object.entries(pooledNum[c.name]!).map(([g, v]) => [g, Math.max(v / w, 1e-6)]))];
    }),
  );
  let matches = 0;
  let total = 0;
  const ruleParams: RuleParams[] = rules.map((rule, k) => {
    const patterns = patternsByRule.get(k) ?? [];
    const pairs = patterns.reduce((a, p) => a + p.n, 0);
    const excluded = excludedBy(rule, comparisons);
    const used = comparisons.filter((c) => !excluded.includes(c.name));
    const lambda = pairs > 0 ? runEm(used, patterns, u, { m0: m, fixM: true }).lambda : 0;
    matches += lambda * pairs;
    total += pairs;
    return { name: rule.name, pairs, lambda, excluded, trainedM: trained.has(k) };
  });
  return {
    fields: Object.fromEntries(comparisons.map((c) => [c.name, { m: m[c.name]!, u: u[c.name]! }])),
    rules: ruleParams,
    priorMode: prior.mode,
    globalPrior: estimateGlobalPrior(comparisons, [...patternsByRule.values()].flat(), m, u, prior.allPairs),
    lambda: total ? matches / total : 0,
    minTf,
    iterations,
    converged,
  };
}

/**
 * The probability that two random records match, by EM over all pairs with m and u fixed: pairs outside the
 * candidate set are taken as non-matches (blocking keeps nearly every match), so the expected number of matches is
 * the sum of the candidates' posteriors, and the prior is that sum over all pairs, iterated to a fixed point.
 */
export function estimateGlobalPrior(comparisons: readonly Comparison[], patterns: readonly Pattern[], m: Probs, u: Probs, allPairs: number): number {
  if (allPairs <= 0 || patterns.length === 0) return 1e-6;
  const bf = patterns.map((p) => {
    let b = 1;
    for (const c of comparisons) {
      const g = p[`g_${c.name}`] ?? -1;
      if (g >= 0) b *= m[c.name]![g]! / u[c.name]![g]!;
    }
    return b;
  });
  let lambda = 1e-4;
  for (let it = 0; it < 500; it++) {
    let expected = 0;
    patterns.forEach((p, i) => {
      const odds = (lambda / (1 - lambda)) * bf[i]!;
      expected += p.n * (odds / (1 + odds));
    });
    const next = Math.min(Math.max(expected / allPairs, 1e-12), 0.5);
    if (Math.abs(next - lambda) < lambda * 1e-6) return next;
    lambda = next;
  }
  return lambda;
}

/**
 * The household class: records of two different people who share a home (address, surname, phone, a family email)
 * are neither a match nor a random pair, and an independence model fitted to matches and random pairs scores them as
 * matches. Among the pairs that share an address (the population: `field` at gamma >= `minGamma`) EM fits two
 * classes: matches, with the model's m, and households. A household is two strangers who may share each of the
 * shared fields: its personal fields (first name, birth date) are distributed as between random people (u), and a
 * shared field f is the same value with probability s_f, then looking like a match's (typos included: each record
 * is entered on its own), else like a random pair's: h_f = s_f m_f + (1 - s_f) u_f. The household share and each
 * s_f come from the data (m and u fixed, both restricted to the population on its own field): where no one shares
 * a home (FEBRL) the class stays nearly empty, where households are common (the sample generator's) it takes them.
 */
export interface HouseholdParams {
  /** The comparison whose agreement defines the population, and the lowest gamma counted as sharing it. */
  field: string;
  minGamma: number;
  /** Share of households among the population's pairs. */
  lambda: number;
  /** Pairs in the population. */
  pairs: number;
  /** Per shared field: the probability that a household shares it. The other fields are personal (h = u). */
  share: Record<string, number>;
  /** P(level | household) of the shared fields (the population field: its levels >= minGamma only). */
  h: Probs;
  /** m of the shared fields as the class compares it (the population field's renormalised to the population). */
  m: Probs;
  iterations: number;
  converged: boolean;
}

/**
 * Estimates the household class on the candidate pairs' comparison patterns (m and u fixed); callers pass the
 * patterns with implied agreement already left out (see Comparison.impliedBy). Undefined when fewer than
 * MIN_TRAINING_PAIRS pairs are in the population.
 */
export function estimateHousehold(
  comparisons: readonly Comparison[],
  patterns: readonly Pattern[],
  m: Probs,
  u: Probs,
  population: { field: string; minGamma: number; shared: readonly string[] },
  options: { maxIterations?: number; tolerance?: number } = {},
): HouseholdParams | undefined {
  const field = comparisons.find((c) => c.name === population.field);
  if (!field || !m[field.name] || !u[field.name]) return undefined;
  const pop = patterns.filter((p) => (p[`g_${field.name}`] ?? -1) >= population.minGamma);
  const pairs = pop.reduce((a, p) => a + p.n, 0);
  if (pairs < MIN_TRAINING_PAIRS) return undefined;
  const restrict = (probs: Record<number, number>) => {
    let total = 0;
    for (let g = population.minGamma; g <= field.levels.length; g++) total += probs[g] ?? 0;
    const out: Record<number, number> = {};
    for (let g = population.minGamma; g <= field.levels.length; g++) out[g] = (probs[g] ?? 0) / Math.max(total, 1e-12);
    return out;
  };
  const names = comparisons.map((c) => c.name);
  const mc: Probs = Object.fromEntries(names.map((n) => [n, n === field.name ? restrict(m[n]!) : m[n] ?? {}]));
  const uc: Probs = Object.fromEntries(names.map((n) => [n, n === field.name ? restrict(u[n]!) : u[n] ?? {}]));
  const isShared = names.map((n) => population.shared.includes(n));
  const share: Record<string, number> = Object.fromEntries(names.filter((_, f) => isShared[f]).map((n) => [n, 0.5]));
  const gammas = pop.map((p) => names.map((n) => p[`g_${n}`] ?? -1));
  const hOf = (f: number, g: number) => {
    const name = names[f]!;
    const mv = mc[name]![g] ?? 1e-6;
    const uv = uc[name]![g] ?? 1;
    return isShared[f] ? share[name]! * mv + (1 - share[name]!) * uv : uv;
  };
  let lambda = 0.5;
  const maxIt = options.maxIterations ?? 500;
  const tol = options.tolerance ?? 1e-7;
  let it = 0;
  let converged = false;
  for (; it < maxIt; it++) {
    const num = new Float64Array(names.length);
    const den = new Float64Array(names.length);
    let hSum = 0;
    for (let i = 0; i < pop.length; i++) {
      const n = pop[i]!.n;
      const g = gammas[i]!;
      let pm = 1 - lambda;
      let ph = lambda;
      for (let f = 0; f < names.length; f++) {
        const gf = g[f]!;
        if (gf < 0) continue;
        pm *= mc[names[f]!]![gf] ?? 1e-6;
        ph *= hOf(f, gf);
      }
      const post = ph / (pm + ph);
      hSum += n * post;
      for (let f = 0; f < names.length; f++) {
        const gf = g[f]!;
        if (gf < 0 || !isShared[f]) continue;
        const sm = share[names[f]!]! * (mc[names[f]!]![gf] ?? 1e-6);
        num[f] += n * post * (sm / hOf(f, gf));
        den[f] += n * post;
      }
    }
    let delta = 0;
    names.forEach((name, f) => {
      if (!isShared[f] || den[f]! <= 0) return;
      const next = Math.min(Math.max(num[f]! / den[f]!, 1e-6), 1 - 1e-6);
      delta = Math.max(delta, Math.abs(next - share[name]!));
      share[name] = next;
    });
    const next = Math.min(Math.max(hSum / pairs, 1e-9), 1 - 1e-9);
    delta = Math.max(delta, Math.abs(next - lambda));
    lambda = next;
    if (delta < tol) {
      converged = true;
      it++;
      break;
    }
  }
  const h: Probs = {};
  const mOut: Probs = {};
  names.forEach((name, f) => {
    if (!isShared[f]) return;
    h[name] = Object.fromEntries(Object.keys(mc[name]!).map((g) => [g, hOf(f, Number(g))]));
    mOut[name] = { ...mc[name]! };
  });
  return { field: field.name, minGamma: population.minGamma, lambda, pairs, share, h, m: mOut, iterations: it, converged };
}
