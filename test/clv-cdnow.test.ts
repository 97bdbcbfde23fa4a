// Golden test: BG/NBD and Gamma-Gamma maximum likelihood on the CDNOW sample reproduce the published parameters.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { bgnbdLogLikelihood, expectedPurchases, fitBgNbd, probabilityAlive, probabilityNoPurchase, type BgNbdFit } from '../src/intelligence/bgnbd.ts';
import { trainChurn } from '../src/intelligence/churn.ts';
import { rfmOf } from '../src/intelligence/clv.ts';
import { buildSnapshot, type Snapshot } from '../src/intelligence/features.ts';
import { expectedSpend, fitGammaGamma } from '../src/intelligence/gamma-gamma.ts';
import { loadCdnow } from '../src/intelligence/input.ts';
import { hyp2f1, lgamma } from '../src/intelligence/math.ts';

const DATA = new URL('./fixtures/clv/', import.meta.url).pathname;
const sig3 = (x: number, ref: number) => expect(Math.abs(x - ref) / Math.abs(ref)).toBeLessThan(0.005);

let engine: Engine;
let snap: Snapshot;
let fit: BgNbdFit;

beforeAll(async () => {
  engine = await Engine.open();
  await loadCdnow(engine, `${DATA}CDNOW_sample.txt`);
  snap = await buildSnapshot(engine, '1997-09-30');
  fit = fitBgNbd(snap.rows.filter((r) => r.HAS_PURCHASED).map(rfmOf));
});
afterAll(() => engine.close());

describe('numerics', () => {
  it('lgamma matches known values', () => {
    expect(lgamma(1)).toBeCloseTo(0, 12);
    expect(lgamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
    expect(lgamma(10)).toBeCloseTo(Math.log(362880), 10);
    let sum = 0;
    for (let k = 2; k < 100; k++) sum += Math.log(k);
    expect(lgamma(100)).toBeCloseTo(sum, 8);
    // Recurrence Γ(x+1) = xΓ(x) at a non-integer.
    expect(lgamma(123.4) - lgamma(122.4)).toBeCloseTo(Math.log(122.4), 10);
  });
  it('hyp2f1 matches closed forms', () => {
    for (const z of [0.1, 0.5, 0.9]) {
      expect(hyp2f1(1, 1, 2, z)).toBeCloseTo(-Math.log(1 - z) / z, 10);
      expect(hyp2f1(0.5, 1, 1, z)).toBeCloseTo(Math.pow(1 - z, -0.5), 10);
    }
  });
});

describe('CDNOW golden test (39-week calibration to 1997-09-30)', () => {
  it('builds the same per-customer summary as the reference file', async () => {
    const csv = (await readFile(`${DATA}cdnow_customers_summary.csv`, 'utf8')).trim().split(/\r?\n/).slice(1);
    expect(snap.rows.filter((r) => r.HAS_PURCHASED)).toHaveLength(2357);
    const byId = new Map(snap.rows.map((r) => [r.CUSTOMER360_ID, r]));
    for (const line of csv) {
      const [id, f, rec, T] = line.split(',').map(Number) as [number, number, number, number];
      const row = byId.get(`CDNOW-${id}`)!;
      expect(row.FREQUENCY).toBe(f);
      expect(row.RECENCY_WEEKS).toBeCloseTo(rec, 1);
      expect(row.T_WEEKS).toBeCloseTo(T, 1);
    }
  });

  it('fits BG/NBD r=0.243 alpha=4.414 a=0.793 b=2.426, LL -9582.4', () => {
    sig3(fit.params.r, 0.243);
    sig3(fit.params.alpha, 4.414);
    sig3(fit.params.a, 0.793);
    sig3(fit.params.b, 2.426);
    expect(fit.logLikelihood).toBeCloseTo(-9582.4, 1);
    // The optimum: moving any parameter by 1% lowers the likelihood.
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      for (const f of [0.99, 1.01]) {
        const p = { ...fit.params, [k]: fit.params[k] * f };
        expect(bgnbdLogLikelihood(p, snap.rows.filter((r) => r.HAS_PURCHASED).map(rfmOf))).toBeLessThan(fit.logLikelihood);
      }
    }
  });

  it('fits Gamma-Gamma p=6.25 q=3.74 v=15.45 on the 946 repeat buyers', () => {
    const gg = fitGammaGamma(snap.rows.filter((r) => r.HAS_PURCHASED).map((r) => ({ x: r.FREQUENCY, m: r.MONETARY_REPEAT })));
    expect(gg.customers).toBe(946);
    sig3(gg.params.p, 6.25);
    sig3(gg.params.q, 3.74);
    sig3(gg.params.v, 15.45);
    expect(expectedSpend(gg.params, { x: 0, m: 0 })).toBeCloseTo((gg.params.p * gg.params.v) / (gg.params.q - 1), 8);
  });

  it('predicts about 1,653 repeat purchases in the 39-week holdout (published BG/NBD figure; 1,882 actual)', () => {
    const total = snap.rows.filter((r) => r.HAS_PURCHASED).reduce((s, r) => s + expectedPurchases(fit.params, rfmOf(r), 39), 0);
    expect(total).toBeGreaterThan(1640);
    expect(total).toBeLessThan(1666);
  });

  it('MBG/NBD fits CDNOW better than BG/NBD and gives one-time buyers P(alive) < 1', () => {
    const rows = snap.rows.filter((r) => r.HAS_PURCHASED).map(rfmOf);
    const m = fitBgNbd(rows, 'mbgnbd');
    expect(m.logLikelihood).toBeGreaterThan(fit.logLikelihood);
    expect(probabilityAlive(m.params, { x: 0, tx: 0, T: 30 })).toBeLessThan(1);
    // Same history, more time since the last purchase: lower P(alive), fewer expected purchases.
    expect(probabilityAlive(m.params, { x: 0, tx: 0, T: 38 })).toBeLessThan(probabilityAlive(m.params, { x: 0, tx: 0, T: 10 }));
    expect(expectedPurchases(m.params, { x: 2, tx: 5, T: 38 }, 13)).toBeLessThan(expectedPurchases(m.params, { x: 2, tx: 35, T: 38 }, 13));
  });

  it('P(alive) is 1 without repeats and falls with time since the last purchase; P(no purchase) is in 0..1', () => {
    expect(probabilityAlive(fit.params, { x: 0, tx: 0, T: 30 })).toBe(1);
    const recent = probabilityAlive(fit.params, { x: 4, tx: 30, T: 32 });
    const stale = probabilityAlive(fit.params, { x: 4, tx: 5, T: 32 });
    expect(recent).toBeGreaterThan(stale);
    const p = probabilityNoPurchase(fit.params, { x: 4, tx: 5, T: 32 }, 13);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1);
    expect(probabilityNoPurchase(fit.params, { x: 4, tx: 5, T: 32 }, 26)).toBeLessThan(p);
  });
});

describe('churn with a horizon longer than the history', () => {
  it('learns the longest horizon that fits before the as-of date and extends it by a constant hazard', async () => {
    const m = await trainChurn(engine, '1997-09-30', 273, { firstDate: '1997-01-01' });
    expect(m.kind).toBe('logistic_platt');
    expect(m.horizonDays).toBe(273);
    expect(m.labelHorizonDays).toBe(272 - 42);
    // Every label window still ends on or before the as-of date.
    expect(m.trainingWindow.end <= '1997-09-30').toBe(true);
    expect(m.metrics.calibrationAuc).toBeGreaterThan(0.6);
  });
});
