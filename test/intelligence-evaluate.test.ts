// Temporal-holdout evaluation: the targets of the issue, measured on the CDNOW sample (real retail data) and on a
// seeded synthetic world with products; plus input robustness on dirty exports.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/index.ts';
import { evaluate, formatEvaluation } from '../src/intelligence/evaluate.ts';
import { buildSnapshot } from '../src/intelligence/features.ts';
import { loadCdnow, loadSilver } from '../src/intelligence/input.ts';
import { recommend, scoreCustomers, segmentCustomers } from '../src/intelligence/models.ts';
import { DEFAULT_SYNTHETIC, generateWorld, writeSilver, type SyntheticWorld } from '../src/intelligence/synthetic.ts';

const CDNOW = new URL('./fixtures/clv/CDNOW_sample.txt', import.meta.url).pathname;

describe('evaluation on CDNOW (the published split: train to 1997-09-30, 39-week holdout)', () => {
  it('CLV ranks holdout spend better than past spend; churn beats recency and P(alive) alone; floors of the issue', async () => {
    const engine = await Engine.open();
    try {
      await loadCdnow(engine, CDNOW);
      const e = await evaluate(engine, '1998-06-30', 273, { samples: 50 });
      expect(e.cutoff).toBe('1997-09-30');
      expect(e.recommendations).toBeUndefined(); // one product: nothing to recommend
      expect(e.clv.spearman).toBeGreaterThan(e.clv.baselinePastSpendSpearman);
      // (top-decile share: past spend 0.4811 is above the served BG/NBD alone, 0.4790; see below)
      const clv = e.comparisons.find((c) => c.task === 'clv')!;
      const metric = (name: string, m: string) => clv.rows.find((r) => r.name === name)!.metrics[m]!.value;
      expect(metric('clv', 'topDecileShare')).toBeGreaterThanOrEqual(metric('bgnbd', 'topDecileShare'));
      // The churn snapshots (39-week labels before the cutoff) hold a cohort a few weeks old, which cannot validate for
      // the scoring date (CDNOW is one cohort): the CLV's label horizon is shortened until the validation snapshot's
      // purchasers are at least half as old as the scored ones, and the choice says so.
      expect(e.clv.choice).toMatch(/label horizon shortened to \d+ days/);
      expect(e.clv.validation!.snapshot > '1997-05-01').toBe(true);
      // No served model below its strongest baseline (issue 18). On validation BG/NBD alone leads on Spearman and
      // BG/NBD x Gamma-Gamma on top-decile share, and no candidate leads both: the baseline with the best validation
      // Spearman is served, so the CLV ties it on the holdout (0.4441; top decile 0.4790 vs BG/NBD x GG's 0.5012).
      const v = e.clv.validation!;
      const baselines = ['bgnbd_gamma_gamma', 'bgnbd_x_spend^0', 'past_spend'];
      const leadsBoth = Object.entries(v.candidates).filter(([k, m]) => !baselines.includes(k) &&
        m.spearman > Math.max(...baselines.map((b) => v.candidates[b]!.spearman)) && m.topDecileShare >= Math.max(...baselines.map((b) => v.candidates[b]!.topDecileShare)));
      expect(leadsBoth).toEqual([]);
      expect(v.ineligible).toHaveLength(10);
      expect(e.clv.candidate).toBe('bgnbd_x_spend^0');
      expect(metric('clv', 'spearman')).toBe(metric('bgnbd', 'spearman'));
      expect(metric('clv', 'spearman')).toBeGreaterThanOrEqual(Math.max(metric('bgnbd', 'spearman'), metric('bgnbd_gamma_gamma', 'spearman'), metric('past_spend', 'spearman')));
      // The total over the 39 weeks is BG/NBD x Gamma-Gamma's (the candidate only ranks): measured -21%, the baseline's own
      // (a linear extension of the 105-day window gave +31%).
      expect(Math.abs(e.clv.predictedSpend / e.clv.actualSpend - 1)).toBeLessThan(0.25);
      expect(e.clv.baselineSpend).toBeCloseTo(e.clv.predictedSpend, 6);
      // Calibration by decile of the served CLV: every decile gets spend.
      expect(e.clv.deciles).toHaveLength(10);
      expect(e.clv.deciles.reduce((t, d) => t + d.customers, 0)).toBe(e.clv.customers);
      expect(e.clv.deciles.reduce((t, d) => t + d.predictedSpend, 0)).toBeCloseTo(e.clv.predictedSpend, 4);
      expect(e.clv.deciles.every((d) => d.predictedSpend > 0)).toBe(true);
      expect(e.clv.deciles[0]!.predictedSpend / e.clv.deciles[0]!.actualSpend).toBeLessThan(1.25);
      expect(e.churn.model).toBe('logistic_platt');
      expect(e.churn.auc).toBeGreaterThan(e.churn.baselineRecencyAuc);
      expect(e.churn.auc).toBeGreaterThan(e.churn.pAliveAuc);
      // On CDNOW the likelihood prefers MBG/NBD (one-time buyers may drop out) over classic BG/NBD.
      expect(e.clv.model).toBe('mbgnbd');
      expect(Math.abs(e.churn.meanPredicted - e.churn.churnRate)).toBeLessThan(0.05);
      expect(e.churn.ece).toBeLessThan(0.05);
      expect(formatEvaluation(e).join('\n')).toMatch(/\| p_alive \| 0\.\d{4} \[/);
      expect(e.comparisons.map((c) => c.task)).toEqual(['clv', 'churn']);
    } finally {
      engine.close();
    }
  });
});

describe('evaluation on a synthetic retail world', () => {
  it('hybrid beats both baselines on NDCG@10; CLV beats past spend; churn beats recency', async () => {
    const lake = new LocalLake(join(await mkdtemp(join(tmpdir(), 'eval-')), 'lake'));
    const engine = await Engine.open();
    try {
      await writeSilver(engine, lake, generateWorld(DEFAULT_SYNTHETIC));
      await loadSilver(engine, lake);
      const e = await evaluate(engine, '2026-08-28', 60);
      const r = e.recommendations!;
      expect(r.hybrid.users).toBeGreaterThan(100);
      expect(r.tunedOn!.until).toBe(e.cutoff); // weights never see the evaluation window
      expect(r.hybrid.ndcg).toBeGreaterThan(r.repeat_purchase.ndcg);
      expect(r.hybrid.ndcg).toBeGreaterThan(r.popularity.ndcg);
      expect(r.hybrid.hitRate).toBeGreaterThanOrEqual(r.repeat_purchase.hitRate);
      expect(e.clv.spearman).toBeGreaterThan(e.clv.baselinePastSpendSpearman);
      const clv = e.comparisons.find((c) => c.task === 'clv')!;
      const spearmanOf = (name: string) => clv.rows.find((x) => x.name === name)!.metrics.spearman!.value;
      // No served CLV below its strongest baseline (issue 18); measured: BG/NBD x Gamma-Gamma itself served, 0.5175.
      expect(spearmanOf('clv')).toBeGreaterThanOrEqual(Math.max(spearmanOf('bgnbd'), spearmanOf('bgnbd_gamma_gamma'), spearmanOf('past_spend')));
      expect(e.churn.auc).toBeGreaterThan(e.churn.baselineRecencyAuc);
    } finally {
      engine.close();
    }
  });
});

describe('input robustness', () => {
  it('excludes cancellations, returns, bad quantities and amounts, missing customers and non-product lines by documented reason', async () => {
    const w: SyntheticWorld = generateWorld({ customers: 80, days: 120, start: '2026-01-01', seed: 5 });
    const t = (id: string, extra: Record<string, string | number | null>) => w.transactions.push({ TRANSACTION_ID: id, CUSTOMER_ID: 'C000001', CUSTOMER360_ID: 'C360-000001', TRANSACTION_DATE: '2026-02-01 10:00:00', TRANSACTION_TYPE: 'PURCHASE', TRANSACTION_STATUS: 'COMPLETED', TOTAL_AMOUNT: 10, ...extra });
    const i = (id: string, tx: string, extra: Record<string, string | number | null>) => w.items.push({ ITEM_ID: id, TRANSACTION_ID: tx, PRODUCT_ID: 'P0001', CATEGORY: 'ELECTRONICS', QUANTITY: 1, UNIT_PRICE: 10, TOTAL_PRICE: 10, ITEM_STATUS: 'SOLD', ...extra });
    t('X-NEG', { TOTAL_AMOUNT: -5 });
    t('X-NULLAMT', { TOTAL_AMOUNT: null });
    t('X-REFUND', { TRANSACTION_TYPE: 'REFUND' });
    t('X-PENDING', { TRANSACTION_STATUS: 'PENDING' });
    t('X-NODATE', { TRANSACTION_DATE: null });
    t('X-OK', {});
    i('Y-ZERO', 'X-OK', { QUANTITY: 0 });
    i('Y-NEG', 'X-OK', { QUANTITY: -2 });
    i('Y-NOPROD', 'X-OK', { PRODUCT_ID: null });
    i('Y-FEE', 'X-OK', { PRODUCT_ID: 'FEE1', CATEGORY: 'Fee' });
    i('Y-FREE', 'X-OK', { UNIT_PRICE: 0, TOTAL_PRICE: 0 });
    i('Y-ORPHAN', 'NO-SUCH-TX', {});
    i('Y-REFUND', 'X-REFUND', {});
    i('Y-EXCH', 'X-OK', { ITEM_STATUS: 'EXCHANGED' });
    w.events = []; // no clickstream at all
    w.sessions = [];
    w.preferences = [];
    const lake = new LocalLake(join(await mkdtemp(join(tmpdir(), 'dirty-')), 'lake'));
    const engine = await Engine.open();
    try {
      await writeSilver(engine, lake, w);
      const load = await loadSilver(engine, lake, '2026-04-30');
      expect(load.excluded).toMatchObject({
        'transactions.negative_amount': 1, 'transactions.missing_amount': 1, 'transactions.not_a_purchase': 1, 'transactions.missing_date': 1,
        'transactions.missing_customer': 1, 'items.unknown_transaction': 1, 'items.zero_or_negative_quantity': 2, 'items.status_exchanged': 1,
      });
      expect(load.excluded['items.returned']).toBeGreaterThanOrEqual(1);
      expect(load.excluded['transactions.not_completed']).toBeGreaterThanOrEqual(1);
      expect(load.excluded['items.non_product_line']).toBeGreaterThanOrEqual(3);
      expect(load.rowCounts.base_events).toBe(0);
      const snap = await buildSnapshot(engine, '2026-04-30');
      const s = await scoreCustomers(engine, '2026-04-30', 30, snap);
      expect(s.scores.every((x) => x.CHURN_RISK >= 0 && x.CHURN_RISK <= 1 && Number.isFinite(x.PREDICTED_CLV))).toBe(true);
      const seg = segmentCustomers(snap, 4, 42, '2026-01-01');
      expect(seg.model.assignments).toHaveLength(snap.rows.length);
      const r = await recommend(engine, snap, 30, 10, '2026-01-01');
      const ids = (await engine.all<{ P: string }>(`SELECT DISTINCT PRODUCT_ID AS P FROM ${r.tables.hybrid}`)).map((x) => x.P);
      expect(ids).not.toContain('FEE1');
      expect(ids).not.toContain('SHIP-STD');
      expect(ids.every((p) => p !== null)).toBe(true);
    } finally {
      engine.close();
    }
  });

  it('fails with a clear message when there are no purchases', async () => {
    const lake = new LocalLake(join(await mkdtemp(join(tmpdir(), 'empty-')), 'lake'));
    const engine = await Engine.open();
    try {
      await loadSilver(engine, lake);
      await expect(scoreCustomers(engine, '2026-01-01', 30)).rejects.toThrow(/No purchases in the input.*CUSTOMER_TRANSACTIONS/);
    } finally {
      engine.close();
    }
  });
});
