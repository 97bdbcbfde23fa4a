// How much of the grocery panel's next-quarter spend rank per-customer history can explain at all: a ridge regression
// of log(1 + holdout spend) fitted on the holdout itself (in sample: an upper bound for any linear model of these
// features learnt before the cutoff) on the learned CLV's 24 features plus 39 more (spend in 7-365-day windows,
// exponentially decayed spend and purchase days, active weeks, spread of daily spend, baskets per day, product and
// category breadth, repeat-product share), then 24 more on what the household buys and how (spend shares of the 12
// largest departments, baskets, lines and spend per basket, retail and coupon discount shares, coupon lines, stores,
// share at the main store, weekend and hour of day, unit price, product-category breadth: the product/category mix
// and basket structure). Issue 18 asks for CLV Spearman 0.05 above BG/NBD alone on this panel; this measures (README,
// "Customer intelligence on real data") that the target lies above that bound (measured 0.7205 with 63 features and
// 0.7243 with 87, vs BG/NBD alone 0.6839 + 0.05 = 0.7339; the served CLV reaches 0.7070 out of sample). And that the
// bound is the history's, not the truth's noise: two halves of the holdout's baskets rank households alike with
// Spearman 0.58, so the whole holdout's rank has split-half reliability 2r / (1 + r) = 0.73 and a predictor that knew
// every household's expected spend would reach about its square root, 0.86 (attenuation), well above the target.
import { describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { expectedPurchases } from '../src/intelligence/bgnbd.ts';
import { fitRidge, learnedClvVector } from '../src/intelligence/clv-learned.ts';
import { fitClv, rfmOf } from '../src/intelligence/clv.ts';
import { buildSnapshot, rhythmAsOf } from '../src/intelligence/features.ts';
import { addDays } from '../src/runtime/days.ts';
import { fitStandardizer, standardize } from '../src/intelligence/logistic.ts';
import { spearman } from '../src/intelligence/math.ts';
import { CUTOFF, HORIZON, historySql, loadPanel, mixFeatures, values } from './clv-panel.ts';

describe('CLV ceiling on the grocery panel (issue 18 target)', () => {
  it('a linear model of 63 history features fitted on the holdout itself stays below BG/NBD alone + 0.05', async () => {
    const engine = await Engine.open();
    try {
      await loadPanel(engine);
      const snap = await buildSnapshot(engine, CUTOFF);
      const buyers = snap.rows.filter((r) => r.HAS_PURCHASED);
      const clv = fitClv(snap.rows);
      const rhythm = await rhythmAsOf(engine, CUTOFF);
      const history = new Map((await engine.all<Record<string, unknown>>(historySql(CUTOFF))).map((r) => [String(r.CUSTOMER360_ID), r]));
      const truth = new Map((await engine.all<{ id: string; s: number }>(`SELECT CUSTOMER360_ID AS id, sum(AMOUNT) AS s FROM base_tx
        WHERE TX_DATE > DATE ${lit(CUTOFF)} AND TX_DATE <= DATE ${lit(addDays(CUTOFF, HORIZON))} GROUP BY 1`)).map((r) => [r.id, Number(r.s)]));
      const X = buyers.map((r) => [...learnedClvVector(r, clv.bgnbd.params, clv.gammaGamma.params, HORIZON, rhythm.get(r.CUSTOMER360_ID)), ...values(history.get(r.CUSTOMER360_ID), 'CUSTOMER360_ID')]);
      expect(X[0]!.length).toBe(24 + 39);
      const spend = buyers.map((r) => truth.get(r.CUSTOMER360_ID) ?? 0);
      const st = fitStandardizer(X);
      const Z = X.map((x) => standardize(st, x));
      const w = fitRidge(Z, spend.map((v) => Math.log1p(Math.max(v, 0))), 1);
      const fitted = Z.map((z) => z.reduce((a, v, j) => a + v * w[j + 1]!, w[0]!));
      const ceiling = spearman(fitted, spend);
      const bgnbd = spearman(buyers.map((r) => expectedPurchases(clv.bgnbd.params, rfmOf(r), HORIZON / 7)), spend);
      expect(bgnbd).toBeCloseTo(0.6839, 3); // the evaluation's baseline, same customers
      expect(ceiling).toBeGreaterThan(bgnbd); // the features do carry signal
      expect(ceiling).toBeLessThan(bgnbd + 0.05); // but not the target's worth, even fitted on the answer
      // The product/category mix and basket structure, from the file's own columns (department from the catalogue).
      const D = `TIMESTAMP '${CUTOFF} 23:59:59'`;
      const END = `TIMESTAMP '${addDays(CUTOFF, HORIZON)} 23:59:59'`;
      const mix = await mixFeatures(engine, CUTOFF);
      const X2 = X.map((x, i) => [...x, ...values(mix.get(buyers[i]!.CUSTOMER360_ID), 'C')]);
      expect(X2[0]!.length).toBe(63 + 24);
      const st2 = fitStandardizer(X2);
      const Z2 = X2.map((x) => standardize(st2, x));
      const w2 = fitRidge(Z2, spend.map((v) => Math.log1p(Math.max(v, 0))), 1);
      const ceiling2 = spearman(Z2.map((z) => z.reduce((a, v, j) => a + v * w2[j + 1]!, w2[0]!)), spend);
      expect(ceiling2).toBeGreaterThan(ceiling); // more features fitted on the answer can only help in sample
      expect(ceiling2).toBeLessThan(bgnbd + 0.05);
      // The truth's own noise: the holdout's baskets in two halves (by a hash of the basket id).
      const halves = new Map((await engine.all<{ C: string; A: number; B: number }>(`SELECT C,
        coalesce(sum(sales_value) FILTER (WHERE hash(basket_id) % 2 = 0), 0) AS A, coalesce(sum(sales_value) FILTER (WHERE hash(basket_id) % 2 = 1), 0) AS B
        FROM raw WHERE transaction_timestamp > ${D} AND transaction_timestamp <= ${END} GROUP BY 1`)).map((r) => [r.C, r]));
      const half = (k: 'A' | 'B') => buyers.map((r) => Number(halves.get(r.CUSTOMER360_ID)?.[k] ?? 0));
      const r = spearman(half('A'), half('B'));
      const reliability = (2 * r) / (1 + r);
      expect(Math.sqrt(reliability)).toBeGreaterThan(bgnbd + 0.05 + 0.05); // the noise in the truth leaves room for the target
    } finally {
      engine.close();
    }
  });
});
