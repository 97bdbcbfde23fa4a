// Issue 18's grocery CLV target (Spearman 0.05 above BG/NBD alone = 0.7339) against model classes other than the
// served ridge (test/clv-ceiling.test.ts bounds linear models of 87 features in sample). Two genuinely different CLV
// models that use the line-level history a per-household regression discards, each with its few choices made on the
// validation split (history to 2017-06-30, spend in the next 92 days), scored at the cutoff:
// - a hierarchical Poisson-Gamma spend rate: lines arrive as Poisson with a Gamma-distributed rate per household
//   (the panel keeps a random ~5% of lines, a thinning that keeps a Poisson a Poisson), counts discounted with an
//   e-fold chosen on validation, times Gamma-Gamma's shrunk mean line value;
// - a bottom-up item-level model: per household x product expected lines from the pair's own (discounted) history,
//   pooled by how often the pair was bought and how many households buy the product (hierarchical shrinkage by
//   pooling), times the pair's price, plus the household's rate of lines on products new to it times its line value.
// And nonlinear models learnt on the holdout's own spend (5-fold cross-fitting over households: no temporal drift
// between fit and truth, so more than any model learnt before the cutoff can expect): gradient-boosted trees and the
// ridge on 97 features (the learned CLV's 24, 39 history, 24 mix and basket, 10 line-rate). Measured (README): Poisson-
// Gamma 0.7031 (e-fold 120 days), item-level 0.6867, cross-fitted trees 0.7043 and ridge 0.6992, all below 0.7339 (the
// served CLV: 0.7070); 11% of the holdout's spend is on products the household had bought before, all an item-level
// model can add to a household rate.
import { describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { expectedPurchases } from '../src/intelligence/bgnbd.ts';
import { fitRidge, learnedClvVector } from '../src/intelligence/clv-learned.ts';
import { fitClv, rfmOf } from '../src/intelligence/clv.ts';
import { buildSnapshot, rhythmAsOf } from '../src/intelligence/features.ts';
import { expectedSpend, fitGammaGamma } from '../src/intelligence/gamma-gamma.ts';
import { fitStandardizer, standardize } from '../src/intelligence/logistic.ts';
import { seededRandom, spearman } from '../src/intelligence/math.ts';
import { addDays } from '../src/runtime/days.ts';
import { CUTOFF, HORIZON, historySql, lineRateSql, loadPanel, mixFeatures, values } from './clv-panel.ts';

const VALIDATION = '2017-06-30';
/** Discounting e-folds (days) tried on validation; Infinity = a stationary rate. */
const EFOLDS = [30, 60, 120, 240, Infinity];

/** Spend per purchaser in (d, d + HORIZON]. */
async function spendAfter(engine: Engine, d: string): Promise<Map<string, number>> {
  return new Map((await engine.all<{ id: string; s: number }>(`SELECT CUSTOMER360_ID AS id, sum(AMOUNT) AS s FROM base_lines
    WHERE TX_DATE > DATE ${lit(d)} AND TX_DATE <= DATE ${lit(addDays(d, HORIZON))} GROUP BY 1`)).map((r) => [r.id, Number(r.s)]));
}

const discount = (d: string, efold: number) => (Number.isFinite(efold) ? `exp(-date_diff('day', TX_DATE, DATE ${lit(d)}) / ${efold})` : '1');

/**
 * Poisson-Gamma line rate x Gamma-Gamma line value as of `d`. Every household is in the panel for the same time, so the
 * Gamma posterior mean rate (r + n) / (alpha + T) ranks households as their discounted line count n does: no fit of r,
 * alpha changes a rank. The value: Gamma-Gamma fitted on (lines, mean line value).
 */
async function poissonGamma(engine: Engine, d: string, efold: number, ids: readonly string[]): Promise<number[]> {
  const rows = await engine.all<{ id: string; n: number; lines: number; m: number }>(`SELECT CUSTOMER360_ID AS id, sum(${discount(d, efold)}) AS n,
    count(*) AS lines, avg(AMOUNT) AS m FROM base_lines WHERE TX_DATE <= DATE ${lit(d)} GROUP BY 1`);
  const gg = fitGammaGamma(rows.map((r) => ({ x: Number(r.lines), m: Number(r.m) }))).params;
  const by = new Map(rows.map((r) => [r.id, Number(r.n) * expectedSpend(gg, { x: Number(r.lines), m: Number(r.m) })]));
  return ids.map((id) => by.get(id) ?? 0);
}

/** Household x product history as of `d` (discounted lines, mean line value) and the product's number of households. */
async function pairs(engine: Engine, d: string, efold: number): Promise<void> {
  await engine.run(`CREATE OR REPLACE TABLE hp AS SELECT CUSTOMER360_ID AS C, PRODUCT_ID AS P, count(*) AS N, avg(AMOUNT) AS V, sum(${discount(d, efold)}) AS NW
    FROM base_lines WHERE TX_DATE <= DATE ${lit(d)} GROUP BY 1, 2`);
  await engine.run(`CREATE OR REPLACE TABLE hp_class AS SELECT hp.*, least(N, 4) || '_' || CASE WHEN HH >= 20 THEN 'many' WHEN HH >= 5 THEN 'some' ELSE 'few' END AS K
    FROM hp JOIN (SELECT P, count(*) AS HH FROM hp GROUP BY 1) USING (P)`);
  // per household: discounted lines on products new to it at the time, and its mean line value
  await engine.run(`CREATE OR REPLACE TABLE hh_new AS SELECT CUSTOMER360_ID AS C, sum(CASE WHEN K = 1 THEN ${discount(d, efold)} ELSE 0 END) AS NEWW, avg(AMOUNT) AS VAL
    FROM (SELECT *, row_number() OVER (PARTITION BY CUSTOMER360_ID, PRODUCT_ID ORDER BY TX_DATE, TRANSACTION_ID) AS K FROM base_lines WHERE TX_DATE <= DATE ${lit(d)}) GROUP BY 1`);
  await engine.run(`CREATE OR REPLACE TABLE fut AS SELECT CUSTOMER360_ID AS C, PRODUCT_ID AS P, count(*) AS M, sum(AMOUNT) AS S FROM base_lines
    WHERE TX_DATE > DATE ${lit(d)} AND TX_DATE <= DATE ${lit(addDays(d, HORIZON))} GROUP BY 1, 2`);
}

/** The item-level model's two pooled rates, learnt on the validation split (its label window ends at the cutoff). */
async function fitItemLevel(engine: Engine, efold: number): Promise<{ repeat: Map<string, number>; fresh: number }> {
  await pairs(engine, VALIDATION, efold);
  const repeat = new Map((await engine.all<{ k: string; r: number }>(`SELECT K AS k, sum(coalesce(M, 0)) / sum(NW) AS r FROM hp_class LEFT JOIN fut USING (C, P) GROUP BY 1`))
    .map((x) => [x.k, Number(x.r)]));
  const fresh = Number(await engine.scalar(`SELECT (SELECT sum(M) FROM fut ANTI JOIN hp USING (C, P)) / (SELECT sum(NEWW) FROM hh_new)`));
  return { repeat, fresh };
}

async function scoreItemLevel(engine: Engine, m: { repeat: Map<string, number>; fresh: number }, efold: number, ids: readonly string[]): Promise<number[]> {
  await pairs(engine, CUTOFF, efold);
  const rate = `CASE K ${[...m.repeat].map(([k, r]) => `WHEN ${lit(k)} THEN ${r}`).join(' ')} ELSE 0 END`;
  const by = new Map((await engine.all<{ C: string; v: number }>(`SELECT C, ${m.fresh} * NEWW * VAL + coalesce(SEEN, 0) AS v FROM hh_new
    LEFT JOIN (SELECT C, sum(${rate} * NW * V) AS SEEN FROM hp_class GROUP BY 1) USING (C)`)).map((r) => [r.C, Number(r.v)]));
  return ids.map((id) => by.get(id) ?? 0);
}

type Node = { j: number; b: number; l: Node; r: Node } | { v: number };

/** Gradient-boosted regression trees (squared loss) on 32 quantile bins per feature; fixed, textbook settings. */
function boostedTrees(X: number[][], y: number[], trees = 100, depth = 3, rate = 0.05, minLeaf = 20): (x: number[]) => number {
  const n = X.length;
  const d = X[0]!.length;
  const cuts = Array.from({ length: d }, (_, j) => {
    const v = X.map((x) => x[j]!).sort((a, b) => a - b);
    return [...new Set(Array.from({ length: 31 }, (_, k) => v[Math.floor(((k + 1) * n) / 32)]!))];
  });
  const bin = (j: number, v: number) => {
    let lo = 0;
    let hi = cuts[j]!.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v <= cuts[j]![mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const B = X.map((x) => x.map((v, j) => bin(j, v)));
  const base = y.reduce((a, v) => a + v, 0) / n;
  const grow = (idx: number[], res: number[], left: number): Node => {
    const sum = idx.reduce((a, i) => a + res[i]!, 0);
    let best = { gain: 0, j: -1, b: -1 };
    if (left > 0 && idx.length >= 2 * minLeaf) {
      for (let j = 0; j < d; j++) {
        const s = new Float64Array(cuts[j]!.length + 1);
        const c = new Int32Array(cuts[j]!.length + 1);
        for (const i of idx) {
          s[B[i]![j]!]! += res[i]!;
          c[B[i]![j]!]!++;
        }
        let sl = 0;
        let cl = 0;
        for (let b = 0; b < cuts[j]!.length; b++) {
          sl += s[b]!;
          cl += c[b]!;
          const cr = idx.length - cl;
          if (cl < minLeaf || cr < minLeaf) continue;
          const gain = (sl * sl) / cl + (sum - sl) ** 2 / cr - (sum * sum) / idx.length;
          if (gain > best.gain) best = { gain, j, b };
        }
      }
    }
    if (best.j < 0) return { v: sum / idx.length };
    const { j, b } = best;
    return { j, b, l: grow(idx.filter((i) => B[i]![j]! <= b), res, left - 1), r: grow(idx.filter((i) => B[i]![j]! > b), res, left - 1) };
  };
  const at = (t: Node, bx: number[]): number => ('v' in t ? t.v : at(bx[t.j]! <= t.b ? t.l : t.r, bx));
  const forest: Node[] = [];
  const pred = new Array<number>(n).fill(base);
  const rnd = seededRandom(18);
  for (let k = 0; k < trees; k++) {
    const res = y.map((v, i) => v - pred[i]!);
    const t = grow([...Array(n).keys()].filter(() => rnd() < 0.8), res, depth);
    forest.push(t);
    for (let i = 0; i < n; i++) pred[i]! += rate * at(t, B[i]!);
  }
  return (x) => {
    const bx = x.map((v, j) => bin(j, v));
    return forest.reduce((a, t) => a + rate * at(t, bx), base);
  };
}

function ridge(X: number[][], y: number[]): (x: number[]) => number {
  const st = fitStandardizer(X);
  const w = fitRidge(X.map((x) => standardize(st, x)), y, 1);
  return (x) => standardize(st, x).reduce((a, v, j) => a + v * w[j + 1]!, w[0]!);
}

/** Out-of-fold predictions: each fifth of the households scored by a model fitted on the other four. */
function crossFit(X: number[][], y: number[], fit: (X: number[][], y: number[]) => (x: number[]) => number, folds = 5): number[] {
  const out = new Array<number>(X.length).fill(0);
  for (let f = 0; f < folds; f++) {
    const train = X.map((_, i) => i).filter((i) => i % folds !== f);
    const model = fit(train.map((i) => X[i]!), train.map((i) => y[i]!));
    for (let i = f; i < X.length; i += folds) out[i] = model(X[i]!);
  }
  return out;
}

describe('CLV on the grocery panel: other model classes against the +0.05 target (issue 18)', () => {
  it('Poisson-Gamma line rate, item-level bottom-up and trees cross-fitted on the holdout all stay below BG/NBD alone + 0.05', async () => {
    const engine = await Engine.open();
    try {
      await loadPanel(engine);
      const valBuyers = (await buildSnapshot(engine, VALIDATION)).rows.filter((r) => r.HAS_PURCHASED).map((r) => r.CUSTOMER360_ID);
      const valSpend = await spendAfter(engine, VALIDATION);
      const valTruth = valBuyers.map((id) => valSpend.get(id) ?? 0);
      const snap = await buildSnapshot(engine, CUTOFF);
      const buyers = snap.rows.filter((r) => r.HAS_PURCHASED);
      const ids = buyers.map((r) => r.CUSTOMER360_ID);
      const holdout = await spendAfter(engine, CUTOFF);
      const spend = ids.map((id) => holdout.get(id) ?? 0);
      const clv = fitClv(snap.rows);
      const bgnbd = spearman(buyers.map((r) => expectedPurchases(clv.bgnbd.params, rfmOf(r), HORIZON / 7)), spend);
      expect(bgnbd).toBeCloseTo(0.6839, 3); // the evaluation's baseline, same customers
      const target = bgnbd + 0.05;

      // Poisson-Gamma: the e-fold with the best validation Spearman, then scored at the cutoff.
      const byEfold = new Map<number, number>();
      for (const e of EFOLDS) byEfold.set(e, spearman(await poissonGamma(engine, VALIDATION, e, valBuyers), valTruth));
      const efold = [...byEfold].sort((a, b) => b[1] - a[1])[0]![0];
      expect(Number.isFinite(efold)).toBe(true); // recent lines count more: the rate drifts
      const pg = spearman(await poissonGamma(engine, CUTOFF, efold, ids), spend);
      expect(pg).toBeGreaterThan(bgnbd); // the line-level rate beats purchase days
      expect(pg).toBeLessThan(target);

      // Item-level bottom-up, with the same e-fold; its pooled rates learnt on the validation split.
      const item = await fitItemLevel(engine, efold);
      expect(item.repeat.get('4_many')!).toBeGreaterThan(item.repeat.get('1_few')!); // habits repeat, one-offs rarely
      const il = spearman(await scoreItemLevel(engine, item, efold, ids), spend);
      expect(il).toBeLessThan(target);
      // Products the household had bought before carry a ninth of the holdout's spend: all an item-level model adds to a rate.
      const seenShare = Number(await engine.scalar(`SELECT sum(CASE WHEN hp.C IS NOT NULL THEN S ELSE 0 END) / sum(S) FROM fut LEFT JOIN hp USING (C, P)`));
      expect(seenShare).toBeLessThan(0.15);

      // Nonlinear and linear models learnt on the holdout's own spend (cross-fitted over households), 97 features.
      const rhythm = await rhythmAsOf(engine, CUTOFF);
      const history = new Map((await engine.all<Record<string, unknown>>(historySql(CUTOFF))).map((r) => [String(r.CUSTOMER360_ID), r]));
      const mix = await mixFeatures(engine, CUTOFF);
      const lines = new Map((await engine.all<Record<string, unknown>>(lineRateSql(CUTOFF))).map((r) => [String(r.CUSTOMER360_ID), r]));
      const X = buyers.map((r) => [...learnedClvVector(r, clv.bgnbd.params, clv.gammaGamma.params, HORIZON, rhythm.get(r.CUSTOMER360_ID)),
        ...values(history.get(r.CUSTOMER360_ID), 'CUSTOMER360_ID'), ...values(mix.get(r.CUSTOMER360_ID), 'C'), ...values(lines.get(r.CUSTOMER360_ID), 'CUSTOMER360_ID')]);
      expect(X[0]!.length).toBe(24 + 39 + 24 + 10);
      const y = spend.map((v) => Math.log1p(v));
      const trees = spearman(crossFit(X, y, (a, b) => boostedTrees(a, b)), spend);
      const linear = spearman(crossFit(X, y, ridge), spend);
      expect(trees).toBeGreaterThan(bgnbd);
      expect(trees).toBeLessThan(target);
      expect(linear).toBeLessThan(target);
    } finally {
      engine.close();
    }
  });
});
