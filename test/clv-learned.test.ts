// The learned CLV: served only when it beats the baselines by more than noise on a validation snapshot it was not fitted on.
import { describe, expect, it } from 'vitest';
import type { LabelledSnapshot } from '../src/intelligence/churn.ts';
import { bgnbdGammaGamma, fitRidge, scoreLearnedClv, scoreLearnedClvAll, trainLearnedClv, type LearnedClv } from '../src/intelligence/clv-learned.ts';
import { NUMERIC_FEATURES, type FeatureRow } from '../src/intelligence/features.ts';
import { resampleRanks, seededRandom, sortedOrder, spearman, weightedPearson } from '../src/intelligence/math.ts';

const BG = { r: 0.5, alpha: 5, a: 0.8, b: 2.5 };

/** Purchasers whose next-quarter spend follows their last 30 days' spend, which BG/NBD x Gamma-Gamma does not see. */
function snapshot(date: string, seed: number, n = 400): LabelledSnapshot {
  const rnd = seededRandom(seed);
  const rows: FeatureRow[] = [];
  const spend: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = Object.fromEntries(NUMERIC_FEATURES.map((k) => [k, 0])) as unknown as FeatureRow;
    const frequency = Math.floor(rnd() * 6);
    Object.assign(r, {
      CUSTOMER360_ID: `C${seed}-${i}`, HAS_PURCHASED: true, FREQUENCY: frequency, PURCHASE_DAYS: frequency + 1, T_WEEKS: 20,
      RECENCY_WEEKS: frequency ? 4 + rnd() * 16 : 0, AVG_ORDER_VALUE: 20 + rnd() * 20, MONETARY_REPEAT: frequency ? 20 + rnd() * 20 : 0,
      SPEND_30D: rnd() < 0.5 ? 0 : 50 * rnd(), TENURE_DAYS: 140, DAYS_SINCE_LAST_PURCHASE: Math.floor(rnd() * 60),
    });
    r.REVENUE = r.AVG_ORDER_VALUE * r.PURCHASE_DAYS;
    rows.push(r);
    spend.push(r.SPEND_30D * 3 * (0.8 + 0.4 * rnd()));
  }
  return { date, labelHorizonDays: 90, rows, spend, bgnbd: BG, rhythm: rows.map(() => ({ N_GAPS: 0, GAP_MEAN: 0, GAP_SD: 0, DAYS_90: 0, DAYS_PREV_90: 0 })) };
}

describe('learned CLV', () => {
  it('is served when it beats BG/NBD x Gamma-Gamma on the newest snapshot, and says why', () => {
    const m = trainLearnedClv([snapshot('2024-06-01', 1), snapshot('2024-05-18', 2), snapshot('2024-05-04', 3)]);
    expect(m.kind).toBe('regression');
    expect(m.validation!.snapshot).toBe('2024-06-01');
    expect(m.validation!.regression.spearman).toBeGreaterThan(m.validation!.bgnbdGammaGamma.spearman);
    // Served: the simplest candidate within one (paired bootstrap) standard error of the best validation Spearman.
    const c = m.validation!.candidates;
    expect(Object.keys(c)).toEqual(['bgnbd_gamma_gamma', 'bgnbd_x_spend^0', 'past_spend', 'bgnbd_x_spend^0.25', 'bgnbd_x_spend^0.5',
      'bgnbd_x_spend^0.75', 'regression', 'regression_blend_0.75', 'regression_blend_0.5', 'regression_blend_0.25',
      'regression_bgnbd_blend_0.75', 'regression_bgnbd_blend_0.5', 'regression_bgnbd_blend_0.25']);
    // Eligible: the baselines, and the candidates above the strongest baseline on both validation metrics.
    const baselines = ['bgnbd_gamma_gamma', 'bgnbd_x_spend^0', 'past_spend'];
    const ineligible = m.validation!.ineligible!;
    const eligible = Object.keys(c).filter((k) => !ineligible.includes(k));
    expect(eligible.filter((k) => !baselines.includes(k)).length).toBeGreaterThan(0);
    const topBaseline = Math.max(...baselines.map((k) => c[k]!.topDecileShare));
    const spearmanBaseline = Math.max(...baselines.map((k) => c[k]!.spearman));
    for (const k of eligible) if (!baselines.includes(k)) expect(c[k]!.topDecileShare >= topBaseline && c[k]!.spearman > spearmanBaseline).toBe(true);
    for (const k of ineligible) expect(baselines).not.toContain(k);
    const best = m.validation!.best!;
    expect(c[best]!.spearman).toBe(Math.max(...eligible.map((k) => c[k]!.spearman)));
    const se = m.validation!.standardErrors!;
    expect(se[best]).toBe(0);
    expect(c[m.candidate]!.spearman).toBeGreaterThanOrEqual(c[best]!.spearman - se[m.candidate]!);
    // every simpler candidate (a baseline, a spend exponent, a blend with a smaller regression weight) is further away
    const complexity = (k: string) => (k.startsWith('regression') ? 1 + Number(k.match(/[\d.]+$/)?.[0] ?? 1) : k.startsWith('bgnbd_x_spend^0.') ? 0.5 : 0);
    for (const k of eligible) if (complexity(k) < complexity(m.candidate)) expect(c[k]!.spearman).toBeLessThan(c[best]!.spearman - se[k]!);
    expect(m.kind).toBe('regression'); // the next-quarter spend follows the last 30 days', which no baseline sees: a clear win
    expect(m.reason).toContain(m.candidate);
    expect(m.trainingSnapshots).toEqual(['2024-06-01', '2024-05-18', '2024-05-04']);
    const test = snapshot('2024-06-15', 9);
    const high = test.rows.findIndex((r) => r.SPEND_30D > 40);
    const none = test.rows.findIndex((r) => r.SPEND_30D === 0);
    expect(scoreLearnedClv(m, test.rows[high]!, BG, { p: 6, q: 4, v: 15 }, 90)).toBeGreaterThan(scoreLearnedClv(m, test.rows[none]!, BG, { p: 6, q: 4, v: 15 }, 90));
    // Calibrated in total on what it was fitted on (smearing), and scaled to another horizon linearly.
    const one = scoreLearnedClv(m, test.rows[high]!, BG, { p: 6, q: 4, v: 15 }, 90);
    expect(scoreLearnedClv(m, test.rows[high]!, BG, { p: 6, q: 4, v: 15 }, 180)).toBeCloseTo(2 * one, 8);
  });

  it('serves BG/NBD x Gamma-Gamma when the validation customers are far younger than the scored ones', () => {
    const m = trainLearnedClv([snapshot('2024-06-01', 1), snapshot('2024-05-18', 2), snapshot('2024-05-04', 3)], 41);
    expect(m.kind).toBe('bgnbd_gamma_gamma');
    expect(m.reason).toMatch(/median age 20\.0 weeks\) are less than half as old as the scored ones \(41\.0 weeks\)/);
    expect(m.validation!.candidates.regression).toBeDefined();
    expect(m.ageGuard).toBe(true); // clv-training.ts then shortens the label horizon (test/intelligence-evaluate.test.ts, CDNOW)
    const ok = trainLearnedClv([snapshot('2024-06-01', 1), snapshot('2024-05-18', 2)], 40);
    expect(ok.kind).toBe('regression');
    expect(ok.ageGuard).toBeUndefined();
  });

  it('serves a baseline when no candidate beats it by more than a standard error (spend unrelated to history)', () => {
    const noisy = (date: string, seed: number) => {
      const sn = snapshot(date, seed);
      const rnd = seededRandom(seed + 100);
      return { ...sn, spend: sn.spend.map(() => (rnd() < 0.5 ? 0 : 100 * rnd())) };
    };
    const m = trainLearnedClv([noisy('2024-06-01', 1), noisy('2024-05-18', 2), noisy('2024-05-04', 3)]);
    expect(['bgnbd_gamma_gamma', 'bgnbd_x_spend^0', 'past_spend']).toContain(m.candidate);
    expect(m.reason).toMatch(/simplest candidate within one standard error/);
  });

  it('falls back to BG/NBD x Gamma-Gamma without two snapshots to fit and validate on', () => {
    const m = trainLearnedClv([snapshot('2024-06-01', 1)]);
    expect(m.kind).toBe('bgnbd_gamma_gamma');
    expect(m.reason).toMatch(/2 are needed/);
    const r = snapshot('2024-06-15', 9).rows[0]!;
    expect(scoreLearnedClv(m, r, BG, { p: 6, q: 4, v: 15 }, 90)).toBeGreaterThan(0);
  });

  it('scores each kind of served candidate, and takes the total from BG/NBD x Gamma-Gamma when validation chose that', () => {
    const GG = { p: 6, q: 4, v: 15 };
    const rows = snapshot('2024-06-15', 9).rows;
    const base: LearnedClv = { kind: 'bgnbd_gamma_gamma', candidate: 'bgnbd_gamma_gamma', labelHorizonDays: 90, features: [], trainingSnapshots: [], reason: '' };
    const bgGg = rows.map((r) => { const b = bgnbdGammaGamma(BG, GG, r, 90); return b.purchases * b.perPurchase; });
    expect(scoreLearnedClvAll(base, rows, BG, GG, 90)).toEqual(bgGg);
    // BG/NBD alone (a = 0): expected purchases times a constant.
    const alone = scoreLearnedClvAll({ ...base, kind: 'bgnbd_monetary', candidate: 'bgnbd_x_spend^0', monetaryExponent: 0, smearing: 20 }, rows, BG, GG, 90);
    rows.forEach((r, i) => expect(alone[i]).toBeCloseTo(20 * bgnbdGammaGamma(BG, GG, r, 90).purchases, 10));
    // Past spend, scaled to the horizon.
    const past = { ...base, kind: 'past_spend' as const, candidate: 'past_spend', smearing: 0.5 };
    expect(scoreLearnedClv(past, rows[0]!, BG, GG, 180)).toBeCloseTo(rows[0]!.REVENUE, 10);
    // A served regression whose total validation took from BG/NBD x Gamma-Gamma: same ranking, BG/NBD x GG's total.
    const m = trainLearnedClv([snapshot('2024-06-01', 1), snapshot('2024-05-18', 2), snapshot('2024-05-04', 3)]);
    const own = scoreLearnedClvAll({ ...m, total: 'training_spend' }, rows, BG, GG, 90);
    const anchored = scoreLearnedClvAll({ ...m, total: 'bgnbd_gamma_gamma' }, rows, BG, GG, 90);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(anchored)).toBeCloseTo(sum(bgGg), 6);
    anchored.forEach((v, i) => expect(v / sum(anchored)).toBeCloseTo(own[i]! / sum(own), 12));
    // A regression blended with log BG/NBD purchases: weight 0 is BG/NBD alone, exp(log purchases) smeared; every
    // customer keeps its place (expm1 clipped at 0 tied all those expected to buy less than once, ranked as validated).
    const toBgnbd = scoreLearnedClvAll({ ...m, blendWith: 'bgnbd', blendWeight: 0, smearing: 2, total: 'training_spend' }, rows, BG, GG, 90);
    rows.forEach((r, i) => expect(toBgnbd[i]).toBeCloseTo(2 * bgnbdGammaGamma(BG, GG, r, 90).purchases, 10));
    const half = scoreLearnedClvAll({ ...m, blendWith: 'bgnbd', blendWeight: 0.5, total: 'training_spend' }, rows, BG, GG, 90);
    expect(half.every((v) => v > 0)).toBe(true);
    expect(rows.filter((r) => bgnbdGammaGamma(BG, GG, r, 90).purchases < 1).length).toBeGreaterThan(0);
  });

  it('a bootstrap resample\'s Spearman from counts and one sort equals spearman() of the drawn items, ties included', () => {
    const rnd = seededRandom(5);
    const n = 500;
    const y = Array.from({ length: n }, () => (rnd() < 0.4 ? 0 : Math.round(rnd() * 20)));
    const x = y.map((v) => Math.round(v + rnd() * 10));
    const counts = new Int32Array(n);
    const rx = new Float64Array(n);
    const ry = new Float64Array(n);
    for (let b = 0; b < 20; b++) {
      counts.fill(0);
      const drawn: number[] = [];
      for (let i = 0; i < n; i++) {
        const j = Math.floor(rnd() * n);
        counts[j]!++;
        drawn.push(j);
      }
      resampleRanks(x, sortedOrder(x), counts, rx);
      resampleRanks(y, sortedOrder(y), counts, ry);
      expect(weightedPearson(rx, ry, counts)).toBeCloseTo(spearman(drawn.map((i) => x[i]!), drawn.map((i) => y[i]!)), 12);
    }
  });

  it('ridge regression recovers a linear relation', () => {
    const rnd = seededRandom(4);
    const X = Array.from({ length: 200 }, () => [rnd(), rnd()]);
    const w = fitRidge(X, X.map(([a, b]) => 1 + 2 * a! - 3 * b!), 1e-9);
    expect(w[0]).toBeCloseTo(1, 6);
    expect(w[1]).toBeCloseTo(2, 6);
    expect(w[2]).toBeCloseTo(-3, 6);
  });
});
