// The repeat signal's decay is a hyper-parameter fitted on validation: the tuning matrix re-derives S_REPEAT for each
// decay exactly as the SQL does, and applyRepeatDecay rewrites the served candidates with the chosen one.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { applyRepeatDecay, tuningMatrix } from '../src/intelligence/recommend.ts';

describe('repeat decay', () => {
  it('re-derives the normalised repeat score per customer for a decay', () => {
    // One customer, three candidates: bought 3 times 10 days ago, once 300 days ago, never.
    const cols = { R: [1, 0.1, 0], N: [3, 1, 0], AGE: [10, 300, 0], C: [0, 0, 0], T: [0, 0, 0], Q: [0.1, 0.2, 0.3], POP: [0.1, 0.2, 0.3], REL: [1, 0, 0], NREL: [1], START: [0] };
    const short = tuningMatrix(cols, 10, 30);
    const long = tuningMatrix(cols, 10, 365);
    expect(short.R[0]).toBe(1);
    expect(short.R[1]).toBeCloseTo((Math.log(2) * Math.exp(-300 / 30)) / (Math.log(4) * Math.exp(-10 / 30)), 12);
    expect(long.R[1]).toBeCloseTo((Math.log(2) * Math.exp(-300 / 365)) / (Math.log(4) * Math.exp(-10 / 365)), 12);
    expect(long.R[2]).toBe(0);
  });

  it('rewrites S_REPEAT of the candidates with the chosen decay', async () => {
    const engine = await Engine.open();
    try {
      await engine.run(`CREATE TABLE t_cand AS SELECT * FROM (VALUES (1, 1, 3, DATE '2024-06-20', 1.0, 1.0), (1, 2, 1, DATE '2023-09-04', 0.1, 0.1), (1, 3, 0, NULL, 0.0, 0.0))
        t(UK, PK, N, LAST_DATE, R_REPEAT, S_REPEAT)`);
      await applyRepeatDecay(engine, 't_', '2024-06-30', 30);
      const rows = await engine.all<{ PK: number; S: number }>(`SELECT PK, S_REPEAT AS S FROM t_cand ORDER BY PK`);
      expect(rows.map((r) => Number(r.S))).toEqual([1, expect.closeTo((Math.log(2) * Math.exp(-300 / 30)) / (Math.log(4) * Math.exp(-10 / 30)), 12), 0]);
    } finally {
      engine.close();
    }
  });
});
