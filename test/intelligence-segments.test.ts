// Segments: deterministic k-means++, labels that do not flip with input order, RFM naming and profiles.
import { describe, expect, it } from 'vitest';
import type { FeatureRow } from '../src/intelligence/features.ts';
import { kMeans } from '../src/intelligence/kmeans.ts';
import { seededRandom } from '../src/intelligence/math.ts';
import { buildSegments, rfmSegmentName } from '../src/intelligence/segments.ts';

function customers(n: number, seed: number): FeatureRow[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const kind = i % 3; // loyal big spenders, lapsed one-timers, recent newcomers
    const freq = kind === 0 ? 8 + Math.floor(rand() * 5) : kind === 1 ? 0 : Math.floor(rand() * 2);
    const days = kind === 0 ? Math.floor(rand() * 10) : kind === 1 ? 150 + Math.floor(rand() * 50) : Math.floor(rand() * 15);
    const aov = kind === 0 ? 120 + rand() * 30 : 30 + rand() * 20;
    const tenure = kind === 2 ? 10 + Math.floor(rand() * 20) : 300 + Math.floor(rand() * 60);
    const base = { CUSTOMER360_ID: `X${String(i).padStart(4, '0')}`, HAS_PURCHASED: i % 10 !== 9, FIRST_PURCHASE_DATE: null, LAST_PURCHASE_DATE: null } as const;
    const zero = { ORDERS_7D: 0, ORDERS_30D: 0, ORDERS_90D: 0, SPEND_7D: 0, SPEND_30D: 0, SPEND_90D: 0, SESSIONS_7D: 0, SESSIONS_30D: 0, SESSIONS_90D: 0, EVENTS_7D: 0, EVENTS_30D: 0, EVENTS_90D: 0, CART_ADDS_30D: 0, RETURNS_90D: 0, DISTINCT_PRODUCTS: 1, DISTINCT_CATEGORIES: 1, RECENCY_WEEKS: 0, T_WEEKS: 0, MONETARY_REPEAT: aov };
    return { ...base, ...zero, PURCHASE_DAYS: freq + 1, ORDERS: freq + 1, REVENUE: aov * (freq + 1), AVG_ORDER_VALUE: aov, FREQUENCY: freq, DAYS_SINCE_LAST_PURCHASE: base.HAS_PURCHASED ? days : null, TENURE_DAYS: tenure };
  });
}

describe('k-means', () => {
  it('finds well-separated clusters and is reproducible for a seed', () => {
    const rand = seededRandom(5);
    const X = Array.from({ length: 300 }, (_, i) => [(i % 3) * 10 + rand(), (i % 3) * -10 + rand()]);
    const a = kMeans(X, 3, 42);
    const b = kMeans(X, 3, 42);
    expect(a.assignment).toEqual(b.assignment);
    for (let i = 3; i < X.length; i++) expect(a.assignment[i]).toBe(a.assignment[i % 3]);
    expect(a.inertia).toBeLessThan(300 * 0.5);
  });
});

describe('segments', () => {
  const rows = customers(300, 9);
  const model = buildSegments(rows, 3);

  it('order clusters by value and name them by profile', () => {
    const p = model.profiles.filter((x) => x.SEGMENT_ID > 0);
    expect(p.map((x) => x.SEGMENT_ID)).toEqual([1, 2, 3]);
    for (let i = 1; i < p.length; i++) expect(p[i]!.AVG_REVENUE).toBeLessThanOrEqual(p[i - 1]!.AVG_REVENUE);
    expect(p[0]!.SEGMENT_LABEL).toBe('High-value loyal');
    expect(p.map((x) => x.SEGMENT_LABEL)).toContain('Lapsed occasional buyers');
    expect(model.profiles[0]).toMatchObject({ SEGMENT_ID: 0, SEGMENT_LABEL: 'Prospects (no purchase yet)', CUSTOMERS: 30 });
    expect(model.profiles.reduce((s, x) => s + x.CUSTOMERS, 0)).toBe(300);
  });

  it('keep every customer in the same segment with the same label when the input order changes', () => {
    const shuffled = [...rows].sort((a, b) => (a.CUSTOMER360_ID.split('').reverse().join() < b.CUSTOMER360_ID.split('').reverse().join() ? -1 : 1));
    const again = buildSegments(shuffled, 3);
    const key = (m: typeof model) => Object.fromEntries(m.assignments.map((a) => [a.CUSTOMER360_ID, `${a.SEGMENT_ID}:${a.SEGMENT_LABEL}:${a.RFM_CODE}`]));
    expect(key(again)).toEqual(key(model));
  });

  it('give RFM codes and named RFM segments', () => {
    for (const a of model.assignments) expect(a.RFM_CODE).toMatch(/^R[0-5]F[0-5]M[0-5]$/);
    expect(rfmSegmentName(5, 5)).toBe('Champions');
    expect(rfmSegmentName(1, 5)).toBe("Can't lose them");
    expect(rfmSegmentName(1, 1)).toBe('Hibernating');
  });
});
