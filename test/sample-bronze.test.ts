// The sample truth against the real consumer: every table of a sample is ingested by the Bronze validator, and its
// quarantine must be exactly the truth's defect rows with exactly their reason codes; Bronze keeps every other row
// except the exact duplicates (distinct input = Bronze + quarantine).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../schemas/index.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { generateSample, type SampleSummary } from '../src/sample/generate.ts';

let dir: string;
let engine: Engine;
let summary: SampleSummary;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-sample-bronze-'));
  summary = await generateSample({ customers: 250, days: 60, seed: 5, out: join(dir, 'drop'), defectRate: 0.05 });
  engine = await Engine.open();
}, 60_000);

afterAll(async () => {
  engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('sample truth vs Bronze validation', () => {
  it('quarantines exactly the truth rows with exactly the truth codes, for all 12 tables', async () => {
    const lake = new LocalLake(join(dir, 'lake'));
    const truth = lit(join(dir, 'drop', '_truth', 'defects.parquet'));
    for (const c of CONTRACTS) {
      const result = await ingestRelation(engine, lake, {
        table: c.name, source: { file: join(dir, 'drop', `${c.name}.parquet`) }, loadId: 'sample-test', ingestDate: '2026-11-01', tmpDir: join(dir, 'tmp'),
      });
      const expected = await engine.all<{ bad: number; dups: number }>(
        `SELECT count(*) FILTER (len(REASONS) > 0)::INT bad, count(*) FILTER (DUPLICATE_OF_ROW IS NOT NULL)::INT dups FROM read_parquet(${truth}) WHERE "TABLE" = ${lit(c.name)}`,
      );
      const { bad, dups } = expected[0]!;
      expect(bad, c.name).toBeGreaterThan(0);
      expect({ table: c.name, quarantine: result.quarantineRows, bronze: result.bronzeRows }).toEqual({
        table: c.name, quarantine: bad, bronze: summary.tables[c.name]!.rows - bad - dups,
      });
      const files = await Promise.all(result.outputs.filter((p) => p.startsWith('quarantine/')).map((p) => lake.localPath(p)));
      const mismatched = await engine.scalar(`WITH q AS (SELECT CAST(_source_position AS BIGINT) rn, list_sort(_reasons) r FROM read_parquet(${litList(files)})),
          t AS (SELECT ROW_NUMBER rn, list_sort(REASONS) r FROM read_parquet(${truth}) WHERE "TABLE" = ${lit(c.name)} AND len(REASONS) > 0)
        SELECT count(*) FROM q FULL JOIN t USING (rn) WHERE q.r IS DISTINCT FROM t.r`);
      expect(Number(mismatched), c.name).toBe(0);
    }
  }, 120_000);
});
