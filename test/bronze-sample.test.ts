// Against the sample generator's truth: every injected defect is quarantined at its row with exactly its reasons,
// every injected exact duplicate is dropped, nothing else is, and every table conserves its rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { generateSample } from '../src/sample/generate.ts';
import { CONTRACTS } from '../schemas/index.ts';
import { outputsOf, tempDir } from './bronze-helpers.ts';

let engine: Engine;
let dir: string;
beforeAll(async () => {
  engine = await Engine.open();
  dir = await tempDir('c360-bronze-sample-');
  await generateSample({ customers: 120, days: 60, seed: 11, out: join(dir, 'drops'), defectRate: 0.05 });
});
afterAll(() => engine.close());

describe('sample drops', () => {
  it('quarantines exactly the injected defects and drops exactly the injected duplicates', async () => {
    const lake = new LocalLake(join(dir, 'lake'));
    let defects = 0;
    for (const c of CONTRACTS) {
      const drop = join(dir, 'drops', `${c.name}.parquet`);
      const result = await ingestRelation(engine, lake, { table: c.name, source: { file: drop }, loadId: 'S', ingestDate: '2026-11-01' });
      const { quarantine } = await outputsOf(engine, lake, result);
      const truth = await engine.all<{ ROW_NUMBER: unknown; REASONS: string[] | null; DUPLICATE_OF_ROW: unknown }>(
        `SELECT ROW_NUMBER, REASONS, DUPLICATE_OF_ROW FROM read_parquet(${lit(join(dir, 'drops', '_truth', 'defects.parquet'))}) WHERE "TABLE" = $1`,
        [c.name],
      );
      const expected = truth
        .filter((t) => t.DUPLICATE_OF_ROW === null && (t.REASONS ?? []).length > 0)
        .map((t) => [String(t.ROW_NUMBER), [...t.REASONS!].sort()])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
      const got = quarantine.map((q) => [String(q._source_position), [...(q._reasons as string[])].sort()]);
      expect([c.name, got]).toEqual([c.name, expected]);
      expect([c.name, result.duplicatesDropped]).toEqual([c.name, truth.filter((t) => t.DUPLICATE_OF_ROW !== null).length]);
      expect(result.distinctRows).toBe(result.bronzeRows + result.quarantineRows);
      defects += expected.length;
    }
    expect(defects).toBeGreaterThan(50);
  });
});
