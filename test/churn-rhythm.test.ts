// Churn rhythm features: each purchaser's gaps between purchase days (regularity, how overdue), and the trend.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { rhythmVector } from '../src/intelligence/churn.ts';
import { rhythmAsOf, type FeatureRow } from '../src/intelligence/features.ts';

describe('rhythm', () => {
  it('measures gaps between purchase days up to the as-of date only, and the 90-day trend', async () => {
    const engine = await Engine.open();
    try {
      await engine.run(`CREATE TABLE base_tx AS SELECT * FROM (VALUES
        ('A', 't1', DATE '2024-01-01', 1.0), ('A', 't2', DATE '2024-01-01', 1.0), ('A', 't3', DATE '2024-01-11', 1.0),
        ('A', 't4', DATE '2024-01-31', 1.0), ('A', 't5', DATE '2024-04-20', 1.0), ('A', 't6', DATE '2024-08-01', 1.0),
        ('B', 'u1', DATE '2024-03-01', 1.0)) t(CUSTOMER360_ID, TRANSACTION_ID, TX_DATE, AMOUNT)`);
      const r = await rhythmAsOf(engine, '2024-06-30');
      // A: purchase days 01-01, 01-11, 01-31, 04-20 -> gaps 10, 20, 80 (the 08-01 purchase is after the as-of date).
      expect(r.get('A')!.N_GAPS).toBe(3);
      expect(r.get('A')!.GAP_MEAN).toBeCloseTo(110 / 3, 10);
      expect(r.get('A')!.GAP_SD).toBeCloseTo(Math.sqrt((100 + 400 + 6400) / 3 - (110 / 3) ** 2), 10);
      expect(r.get('A')).toMatchObject({ DAYS_90: 1, DAYS_PREV_90: 2 }); // (04-01, 06-30] and (01-02, 04-01]
      expect(r.get('B')).toMatchObject({ N_GAPS: 0, GAP_MEAN: 0, GAP_SD: 0, DAYS_90: 0, DAYS_PREV_90: 1 });
      const row = { DAYS_SINCE_LAST_PURCHASE: 71 } as FeatureRow;
      const [cv, overdue, trend, mean] = rhythmVector(row, r.get('A'));
      expect(cv).toBeCloseTo(Math.log1p(r.get('A')!.GAP_SD / r.get('A')!.GAP_MEAN), 10);
      expect(overdue).toBeCloseTo((71 - 110 / 3) / r.get('A')!.GAP_SD, 10);
      expect(trend).toBeCloseTo(Math.log(2) - Math.log(3), 10);
      expect(mean).toBeCloseTo(Math.log1p(110 / 3), 10);
      // One-time buyers: no gaps, only the trend speaks.
      expect(rhythmVector(row, r.get('B'))).toEqual([0, 0, Math.log(1) - Math.log(2), 0]);
    } finally {
      engine.close();
    }
  });
});
