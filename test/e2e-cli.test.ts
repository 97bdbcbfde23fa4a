// Issue 2's "done when", through the real command line: `c360 sample` then `c360 run --input` conserves every row of
// every table (distinct input = Bronze + quarantine), quarantines exactly the injected defects, and a second
// identical run adds nothing anywhere in Bronze or quarantine.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../schemas/index.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import type { RunManifest } from '../src/runtime/manifest.ts';

const c360 = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/c360.mjs', ...args], { encoding: 'utf8', env: { ...process.env, C360_LAKE_URL: '' } });
  if (r.status !== 0) throw new Error(`c360 ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return r;
};

let dir: string;
const runs: RunManifest[] = [];

async function latestManifest(home: string): Promise<RunManifest> {
  const files = (await readdir(join(home, 'runs'))).filter((f) => f.endsWith('.json')).sort();
  const all = await Promise.all(files.map(async (f) => JSON.parse(await readFile(join(home, 'runs', f), 'utf8')) as RunManifest));
  return all.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1)!;
}

describe('c360 sample + c360 run, end to end', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2e-'));
    c360('sample', '--customers', '200', '--days', '30', '--seed', '7', '--out', join(dir, 'drops'));
    for (let i = 0; i < 2; i++) {
      c360('run', '--input', join(dir, 'drops'), '--home', join(dir, 'home'), '--run-date', '2026-10-31', '--json');
      runs.push(await latestManifest(join(dir, 'home')));
    }
  }, 300_000);

  it('succeeds and conserves every row of every table: distinct input = Bronze + quarantine', () => {
    expect(runs[0]!.status).toBe('succeeded');
    for (const c of CONTRACTS) {
      const job = runs[0]!.jobs.find((j) => j.activity === `ingest_drops[${c.name}]`)!;
      const n = (k: string) => job.rowCounts[`${c.name}.${k}`] ?? 0;
      expect(n('input'), c.name).toBeGreaterThan(0);
      expect(n('distinct'), c.name).toBe(n('bronze') + n('quarantine'));
      expect(n('input') - n('duplicatesDropped'), c.name).toBe(n('distinct'));
    }
  });

  it('quarantines exactly the injected defects and drops exactly the injected duplicates', async () => {
    const e = await Engine.open();
    try {
      const truth = await e.all<{ t: string; bad: number; dups: number }>(
        `SELECT "TABLE" t, count(*) FILTER (len(REASONS) > 0)::INT bad, count(*) FILTER (DUPLICATE_OF_ROW IS NOT NULL)::INT dups
         FROM read_parquet(${lit(join(dir, 'drops', '_truth', 'defects.parquet'))}) GROUP BY 1`,
      );
      for (const { t, bad, dups } of truth) {
        const job = runs[0]!.jobs.find((j) => j.activity === `ingest_drops[${t}]`)!;
        expect(job.rowCounts[`${t}.quarantine`], t).toBe(bad);
        expect(job.rowCounts[`${t}.duplicatesDropped`], t).toBe(dups);
      }
      expect(truth.length).toBeGreaterThan(6);
    } finally {
      e.close();
    }
  });

  it('a second identical run adds nothing to Bronze or quarantine', () => {
    expect(runs[1]!.status).toBe('succeeded');
    for (const c of CONTRACTS) {
      const first = runs[0]!.jobs.find((j) => j.activity === `ingest_drops[${c.name}]`)!;
      const again = runs[1]!.jobs.find((j) => j.activity === `ingest_drops[${c.name}]`)!;
      expect(again.rowCounts[`${c.name}.bronze`], c.name).toBe(0);
      expect(again.rowCounts[`${c.name}.quarantine`], c.name).toBe(0);
      expect(again.rowCounts[`${c.name}.alreadyIngested`], c.name).toBe(first.rowCounts[`${c.name}.distinct`]);
    }
  });
});
