// Recommendations on a hand-built fixture: signals, exclusions, cold start, reasons, and the top-N metrics.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/index.ts';
import { buildSnapshot } from '../src/intelligence/features.ts';
import { loadSilver } from '../src/intelligence/input.ts';
import { buildCandidates, rank, recMetrics, setUsers, weightGrid, DEFAULT_WEIGHTS } from '../src/intelligence/recommend.ts';
import { DEFAULT_SIGNAL_OPTIONS, exactSum } from '../src/intelligence/recommend-signals.ts';
import { writeSilver, type SyntheticWorld } from '../src/intelligence/synthetic.ts';

type Rec = Record<string, string | number | boolean | null>;
const AS_OF = '2026-03-31';
const PRODUCTS: Record<string, [string, string]> = {
  A1: ['TOYS', 'BX'], A2: ['TOYS', 'BX'], A3: ['TOYS', 'BY'], B1: ['BOOKS', 'BZ'], B2: ['BOOKS', 'BZ'], OLD1: ['TOYS', 'BX'], SHIP: ['SHIPPING', ''],
};

function world(): SyntheticWorld {
  const w: SyntheticWorld = { transactions: [], items: [], events: [], sessions: [], preferences: [], customers: [] };
  let t = 0;
  const buy = (c: string, date: string, lines: [string, string?][], extra: Rec = {}) => {
    const id = `T${t++}`;
    w.transactions.push({ TRANSACTION_ID: id, CUSTOMER_ID: c, CUSTOMER360_ID: c, TRANSACTION_DATE: `${date} 12:00:00`, TRANSACTION_TYPE: 'PURCHASE', TRANSACTION_STATUS: 'COMPLETED', TOTAL_AMOUNT: 20 * lines.length, ...extra });
    lines.forEach(([p, status], i) =>
      w.items.push({ ITEM_ID: `${id}-${i}`, TRANSACTION_ID: id, PRODUCT_ID: p, PRODUCT_NAME: `Name ${p}`, CATEGORY: PRODUCTS[p]![0], BRAND: PRODUCTS[p]![1] || null, QUANTITY: 1, UNIT_PRICE: 20, TOTAL_PRICE: 20, ITEM_STATUS: status ?? 'SOLD' }),
    );
  };
  for (const c of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']) w.customers.push({ CUSTOMER_ID: c, CUSTOMER360_ID: c, REGISTRATION_DATE: '2025-01-01' });
  buy('c1', '2025-01-01', [['OLD1']]);
  buy('c1', '2026-02-01', [['A1'], ['A2', 'RETURNED'], ['SHIP']]);
  buy('c1', '2026-03-01', [['A1']]);
  for (const c of ['c2', 'c3', 'c4', 'c5']) buy(c, '2026-03-10', [['A1'], ['B1']]);
  buy('c5', '2026-03-12', [['A2']]);
  buy('c8', '2026-03-15', [['A3'], ['B2']]);
  // A cancelled order of c7 must not turn c7 into a buyer.
  buy('c7', '2026-03-20', [['B2']], { TRANSACTION_STATUS: 'CANCELLED' });
  w.preferences.push({ PREFERENCE_ID: 'p1', CUSTOMER_ID: 'c6', CUSTOMER360_ID: 'c6', PREFERENCE_TYPE: 'CATEGORY', PREFERENCE_VALUE: 'Books', PREFERENCE_STRENGTH: 0.9, PREFERENCE_DATE: '2026-01-01', PREFERENCE_STATUS: 'ACTIVE' });
  return w;
}

let engine: Engine;
const recs = new Map<string, { PRODUCT_ID: string; RANK: number; REASON: string; SCORE: number }[]>();

beforeAll(async () => {
  const home = await mkdtemp(join(tmpdir(), 'rec-'));
  const lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  await writeSilver(engine, lake, world());
  await loadSilver(engine, lake, AS_OF);
  const snap = await buildSnapshot(engine, AS_OF);
  await setUsers(engine, 'x_', snap.table);
  await buildCandidates(engine, 'x_', AS_OF);
  const table = await rank(engine, 'x_', 'hybrid', DEFAULT_WEIGHTS, 10);
  for (const r of await engine.all<{ CUSTOMER360_ID: string; PRODUCT_ID: string; RANK: number; REASON: string; SCORE: number }>(`SELECT * FROM ${table} ORDER BY CUSTOMER360_ID, RANK`)) {
    if (!recs.has(r.CUSTOMER360_ID)) recs.set(r.CUSTOMER360_ID, []);
    recs.get(r.CUSTOMER360_ID)!.push(r);
  }
});
afterAll(() => engine.close());

describe('hybrid recommendations', () => {
  it('ranks the same whatever the customer batch size of candidate generation', async () => {
    await engine.run(`CREATE OR REPLACE TABLE y_users AS SELECT * FROM x_users`);
    await buildCandidates(engine, 'y_', AS_OF, { ...DEFAULT_SIGNAL_OPTIONS, batchCustomers: 2 });
    expect(Number(await engine.scalar(`SELECT count(*) FROM x_uk`))).toBeGreaterThan(4); // several batches of 2
    const single = await rank(engine, 'x_', 'hybrid', DEFAULT_WEIGHTS, 10);
    const batched = await rank(engine, 'y_', 'hybrid', DEFAULT_WEIGHTS, 10);
    const rows = (t: string) => engine.all(`SELECT * FROM ${t} ORDER BY CUSTOMER360_ID, RANK`);
    const a = await rows(single);
    expect(a.length).toBeGreaterThan(0);
    expect(await rows(batched)).toEqual(a);
  });

  it('never recommends returned items, non-product lines or products out of the catalogue', () => {
    const c1 = recs.get('c1')!.map((r) => r.PRODUCT_ID);
    expect(c1).not.toContain('A2'); // returned by c1
    for (const list of recs.values()) {
      const ids = list.map((r) => r.PRODUCT_ID);
      expect(ids).not.toContain('SHIP');
      expect(ids).not.toContain('OLD1'); // last sold > 180 days before the as-of date
    }
  });

  it('re-recommends what a customer buys repeatedly and explains it', () => {
    const a1 = recs.get('c1')!.find((r) => r.PRODUCT_ID === 'A1')!;
    expect(a1.RANK).toBe(1);
    expect(a1.REASON).toMatch(/^REPEAT_PURCHASE: bought 2 times, last on 2026-03-01/);
  });

  it('recommends what is bought together (item-item CF) with the item that explains it', () => {
    const b1 = recs.get('c1')!.find((r) => r.PRODUCT_ID === 'B1')!;
    expect(b1).toBeDefined();
    expect(b1.REASON).toBe('ALSO_BOUGHT: often bought or viewed with Name A1');
  });

  it('handles cold start: stated preferences first, else popularity', () => {
    const c6 = recs.get('c6')!;
    expect(['B1', 'B2']).toContain(c6[0]!.PRODUCT_ID);
    expect(c6[0]!.REASON).toMatch(/^MATCHES_INTEREST: your interest in category books/);
    const c7 = recs.get('c7')!;
    expect(c7[0]!.PRODUCT_ID).toBe('A1'); // the best seller
    expect(c7[0]!.REASON).toMatch(/^POPULAR/);
  });

  it('gives every known customer ranked, reasoned recommendations', () => {
    expect([...recs.keys()].sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8']);
    for (const list of recs.values()) {
      expect(list.map((r) => r.RANK)).toEqual(list.map((_, i) => i + 1));
      for (let i = 1; i < list.length; i++) expect(list[i]!.SCORE).toBeLessThanOrEqual(list[i - 1]!.SCORE);
      for (const r of list) expect(r.REASON).toMatch(/^[A-Z_]+: /);
    }
  });

  it('baselines: repeat purchase ranks own purchases by count; popularity stays in the customer categories', async () => {
    const rep = await rank(engine, 'x_', 'repeat_purchase', DEFAULT_WEIGHTS, 10);
    const top = await engine.all<{ PRODUCT_ID: string; REASON: string }>(`SELECT PRODUCT_ID, REASON FROM ${rep} WHERE CUSTOMER360_ID = 'c5' ORDER BY RANK`);
    expect(top.slice(0, 3).map((r) => r.PRODUCT_ID).sort()).toEqual(['A1', 'A2', 'B1']);
    const pop = await rank(engine, 'x_', 'popularity', DEFAULT_WEIGHTS, 10);
    const c8 = await engine.all<{ PRODUCT_ID: string; REASON: string }>(`SELECT PRODUCT_ID, REASON FROM ${pop} WHERE CUSTOMER360_ID = 'c8' ORDER BY RANK`);
    expect(c8[0]!.REASON).toMatch(/^POPULAR_IN_CATEGORY/);
  });
});

describe('score sums', () => {
  it('do not depend on the order DuckDB adds their terms in (plain double sums do)', async () => {
    await engine.run(`CREATE OR REPLACE TABLE sum_terms AS SELECT i, i % 10 AS g, (hash(i, 'x') % 1000000000) / 1e9 * exp(-(i % 97) / 7.0) AS x FROM range(300000) r(i)`);
    const sums = async (order: string) => {
      await engine.run(`CREATE OR REPLACE TABLE sum_ordered AS SELECT g, x FROM sum_terms ORDER BY ${order}`);
      return engine.all<{ g: number; plain: number; exact: number }>(`SELECT g, sum(x) AS plain, ${exactSum('x')} AS exact FROM sum_ordered GROUP BY g ORDER BY g`);
    };
    const [a, b] = [await sums('i'), await sums('x DESC')];
    expect(a.map((r) => r.plain)).not.toEqual(b.map((r) => r.plain));
    expect(a.map((r) => r.exact)).toEqual(b.map((r) => r.exact));
  });
});

describe('reasons', () => {
  it('fall back to popularity when the winning signal has no weight', async () => {
    const t = await rank(engine, 'x_', 'hybrid', { repeat: 0, cf: 0, content: 0, popularity: 0 }, 10);
    const reasons = await engine.all<{ REASON: string | null }>(`SELECT REASON FROM ${t}`);
    expect(reasons.length).toBeGreaterThan(0);
    for (const r of reasons) expect(r.REASON).toMatch(/^POPULAR: a best seller/);
  });
});

describe('top-N metrics', () => {
  it('computes precision, recall, NDCG and hit rate exactly', async () => {
    await engine.run(`CREATE OR REPLACE TABLE m_users AS SELECT * FROM (VALUES ('u1'), ('u2'), ('u3')) t(CUSTOMER360_ID)`);
    await engine.run(`CREATE OR REPLACE TABLE m_relevant AS SELECT * FROM (VALUES ('u1', 'a'), ('u1', 'b'), ('u2', 'z'), ('x9', 'a')) t(CUSTOMER360_ID, PRODUCT_ID)`);
    await engine.run(`CREATE OR REPLACE TABLE m_recs AS SELECT * FROM (VALUES ('u1', 'a', 1), ('u1', 'c', 2), ('u1', 'b', 3), ('u2', 'y', 1)) t(CUSTOMER360_ID, PRODUCT_ID, RANK)`);
    const m = await recMetrics(engine, 'm_', 'm_recs', 10);
    // Users with holdout purchases among the known users: u1 (2 relevant, hits at 1 and 3) and u2 (0 hits).
    expect(m.users).toBe(2);
    expect(m.precision).toBeCloseTo((2 / 10 + 0) / 2, 12);
    expect(m.recall).toBeCloseTo((1 + 0) / 2, 12);
    const ndcgU1 = (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3));
    expect(m.ndcg).toBeCloseTo(ndcgU1 / 2, 12);
    expect(m.hitRate).toBeCloseTo(0.5, 12);
  });

  it('searches weights on the simplex', () => {
    const g = weightGrid(5);
    expect(g).toHaveLength(56);
    for (const w of g) expect(w.repeat + w.cf + w.content + w.popularity).toBeCloseTo(1, 12);
  });
});
