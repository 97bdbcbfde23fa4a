// EASE (src/intelligence/ease.ts): the Cholesky inverse against the definition (A A^-1 = I), the closed form's
// defining properties (zero diagonal; B solves the ridge regression of each item column on the others), and the
// ranking of a small basket matrix; a stored blend that weighs EASE refits it on the scoring date and explains it.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { easeTop, easeWeights, gramOf, spdInverse, type ItemSets } from '../src/intelligence/ease.ts';
import { buildSnapshot } from '../src/intelligence/features.ts';
import { loadSilver } from '../src/intelligence/input.ts';
import { seededRandom } from '../src/intelligence/math.ts';
import { recommend } from '../src/intelligence/models.ts';
import { generateWorld, writeSilver } from '../src/intelligence/synthetic.ts';
import { LocalLake } from '../src/lake/index.ts';

function randomSets(users: number, items: number, seed: number): ItemSets {
  const rnd = seededRandom(seed);
  const start = [0];
  const idx: number[] = [];
  for (let u = 0; u < users; u++) {
    for (let i = 0; i < items; i++) if (rnd() < 0.15 + 0.3 * (i % 3 === u % 3 ? 1 : 0)) idx.push(i);
    start.push(idx.length);
  }
  return { start: Int32Array.from(start), idx: Int32Array.from(idx) };
}

describe('EASE', () => {
  it('inverts a symmetric positive definite matrix (A A^-1 = I) and rejects one that is not', () => {
    const n = 40;
    const g = gramOf(randomSets(60, n, 7), n);
    const a = Float64Array.from(g);
    for (let i = 0; i < n; i++) a[i * n + i]! += 3;
    const inv = spdInverse(a, n);
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[k * n + j]!;
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
      }
    expect(worst).toBeLessThan(1e-10);
    expect(() => spdInverse(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
  });

  it('has a zero diagonal and satisfies the ridge normal equations off it: (G + lambda I) B = G - diag(mu)', () => {
    // Steck's closed form: B minimises ||X - XB||^2 + lambda ||B||^2 subject to diag(B) = 0, whose Lagrangian gives
    // (G + lambda I) B = G - diag(mu) for some mu; so off the diagonal (G + lambda I) B equals G exactly.
    const n = 25;
    const lambda = 4;
    const g = gramOf(randomSets(80, n, 11), n);
    const B = easeWeights(g, n, lambda);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      expect(B[i * n + i]).toBe(0);
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        let s = lambda * B[i * n + j]!;
        for (let k = 0; k < n; k++) s += g[i * n + k]! * B[k * n + j]!;
        worst = Math.max(worst, Math.abs(s - g[i * n + j]!));
      }
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it('recommends what customers with the same basket bought, names the item that drove it, and ranks only positive scores', () => {
    // Items 0 and 1 go together, 2 and 3 go together; 4 is bought alone.
    const baskets = [[0, 1], [0, 1], [0, 1], [2, 3], [2, 3], [2, 3], [0, 1, 4], [4]];
    const start = [0];
    const idx: number[] = [];
    for (const b of baskets) {
      idx.push(...b);
      start.push(idx.length);
    }
    const n = 5;
    const B = easeWeights(gramOf({ start: Int32Array.from(start), idx: Int32Array.from(idx) }, n), n, 1);
    const top = easeTop(B, n, [0], 3);
    expect(top.item[0]).toBe(1);
    expect(top.via[0]).toBe(0);
    expect([...top.score].every((s) => s > 0)).toBe(true);
    expect([...top.item]).not.toContain(2);
    expect(easeTop(B, n, [2], 1).item[0]).toBe(3);
  });
});

describe('EASE in the served blend', () => {
  it('a stored tuning that weighs EASE refits it as of the scoring date: its candidates join, ranked and explained', async () => {
    const lake = new LocalLake(join(await mkdtemp(join(tmpdir(), 'ease-')), 'lake'));
    const engine = await Engine.open();
    try {
      await writeSilver(engine, lake, generateWorld({ customers: 150, days: 120, start: '2026-01-01', seed: 3 }));
      await loadSilver(engine, lake, '2026-04-30');
      const snap = await buildSnapshot(engine, '2026-04-30');
      const ease = { lambda: 16, items: 0, maxItems: 50, ndcgByLambda: {} };
      const stored = { weights: { repeat: 0, cf: 0, content: 0, popularity: 0, ease: 1 }, tuned: true, served: 'ease' as const, ease };
      const r = await recommend(engine, snap, 30, 5, '2026-01-01', stored, undefined, { ease: true });
      const rows = await engine.all<{ R: string; P: string }>(`SELECT REASON AS R, PRODUCT_ID AS P FROM ${r.tables.hybrid}`);
      const explained = rows.filter((x) => x.R.startsWith('ALSO_BOUGHT: bought by customers who buy '));
      expect(explained.length).toBeGreaterThan(rows.length / 2);
      // EASE alone ranks exactly as the blend that weighs only EASE.
      const same = await engine.scalar<number>(`SELECT count(*) FROM ${r.tables.hybrid} h JOIN ${r.tables.ease!} e USING (CUSTOMER360_ID, RANK) WHERE h.PRODUCT_ID = e.PRODUCT_ID`);
      expect(Number(same)).toBe(rows.length);
      // Only the 50 most popular products are modelled: every EASE candidate is one of them.
      const outside = await engine.scalar<number>(`SELECT count(*) FROM ${r.prefix}ease e JOIN ${r.prefix}catalog c USING (PK) WHERE c.POP_RANK > 50`);
      expect(Number(outside)).toBe(0);
      expect(r.record.MODEL_TYPE).toBe('ease alone (the blend did not beat it on validation)');
      expect(JSON.parse(r.record.PARAMETERS_JSON).ease).toEqual({ lambda: 16, items: 0, maxItems: 50 });
    } finally {
      engine.close();
    }
  }, 60_000);
});
