// Churn building blocks: logistic regression, Platt calibration, and leakage-safe training dates.
import { describe, expect, it } from 'vitest';
import { trainingDates } from '../src/intelligence/churn.ts';
import { addDays } from '../src/runtime/days.ts';
import { applyPlatt, fitLogistic, fitPlatt, fitStandardizer, logit, standardize } from '../src/intelligence/logistic.ts';
import { auc, seededRandom, sigmoid, spearman, topDecileShare } from '../src/intelligence/math.ts';

function data(n: number, w: number[], seed: number) {
  const rand = seededRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const X: number[][] = [];
  const y: (0 | 1)[] = [];
  for (let i = 0; i < n; i++) {
    const x = [normal(), normal()];
    X.push(x);
    y.push(rand() < sigmoid(w[0]! + w[1]! * x[0]! + w[2]! * x[1]!) ? 1 : 0);
  }
  return { X, y };
}

describe('logistic regression', () => {
  it('recovers the coefficients that generated the data', () => {
    const { X, y } = data(6000, [-0.5, 1.5, -2], 1);
    const m = fitLogistic(X, y, 1e-6);
    expect(m.weights[0]).toBeCloseTo(-0.5, 0);
    expect(Math.abs(m.weights[1]! - 1.5)).toBeLessThan(0.15);
    expect(Math.abs(m.weights[2]! + 2)).toBeLessThan(0.15);
  });

  it('standardises (constant columns stay finite) and ranks well', () => {
    const { X, y } = data(2000, [0, 2, 0], 2);
    const Xc = X.map((x) => [...x, 7]);
    const s = fitStandardizer(Xc);
    const m = fitLogistic(Xc.map((x) => standardize(s, x)), y, 1);
    const scores = Xc.map((x) => logit(m, standardize(s, x)));
    expect(scores.every(Number.isFinite)).toBe(true);
    expect(auc(scores, y)).toBeGreaterThan(0.8);
  });

  it('Platt scaling turns mis-scaled scores into calibrated probabilities', () => {
    const { X, y } = data(5000, [1, 1, 0], 3);
    const raw = X.map((x) => 3 * x[0]! - 4); // right order, wrong scale and offset
    const platt = fitPlatt(raw, y);
    const p = raw.map((r) => applyPlatt(platt, r));
    const mean = p.reduce((a, b) => a + b, 0) / p.length;
    const rate = y.filter((v) => v === 1).length / y.length;
    expect(Math.abs(mean - rate)).toBeLessThan(0.01);
    // Within deciles of predicted probability, the observed rate matches the prediction.
    const order = p.map((v, i) => [v, y[i]!] as const).sort((a, b) => a[0] - b[0]);
    for (let d = 0; d < 10; d++) {
      const slice = order.slice((d * order.length) / 10, ((d + 1) * order.length) / 10);
      const pm = slice.reduce((a, b) => a + b[0], 0) / slice.length;
      const om = slice.reduce((a, b) => a + b[1], 0) / slice.length;
      expect(Math.abs(pm - om)).toBeLessThan(0.06);
    }
  });
});

describe('training snapshots', () => {
  it('only use label windows that end on or before the scoring date', () => {
    const dates = trainingDates('2026-06-30', 30, { firstDate: '2026-01-01', snapshots: 6, stepDays: 14 });
    expect(dates).toHaveLength(6);
    expect(dates[0]).toBe('2026-05-31');
    for (const d of dates) expect(addDays(d, 30) <= '2026-06-30').toBe(true);
    // Not before there is history to learn from.
    expect(trainingDates('2026-03-01', 30, { firstDate: '2026-01-01', stepDays: 14 })).toEqual(['2026-01-30', '2026-01-16']);
    expect(trainingDates('2026-01-20', 30, { firstDate: '2026-01-01' })).toEqual([]);
  });
});

describe('rank metrics', () => {
  it('AUC, Spearman and top-decile share on known cases', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auc([1, 1, 1, 1], [0, 1, 0, 1])).toBeCloseTo(0.5, 12);
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    const score = Array.from({ length: 20 }, (_, i) => i);
    const actual = score.map((i) => (i >= 18 ? 10 : 1));
    expect(topDecileShare(score, actual)).toBeCloseTo(20 / 38, 12);
  });
});
