// Bronze for daily runs: the per-table dedupe index (bounded files per lookup, crash leftovers read directly) and
// compaction of small files (readers see the old files or the new one, never both or neither; no row lost or doubled).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Engine, lit, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { compactBronze } from '../src/bronze/compact.ts';
import { heldHashes, MAX_INDEX_FILES } from '../src/bronze/dedupe-index.ts';
import { bronzeDataFiles, readBronzeState, writeBronzeState } from '../src/bronze/table-state.ts';
import { getContract } from '../schemas/index.ts';
import { dataDateRange } from '../src/runtime/as-of.ts';
import { tempDir } from './bronze-helpers.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open();
});
afterAll(() => engine.close());

const TX = getContract('CUSTOMER_TRANSACTIONS');

/** Ingests transactions T<from>..T<to-1> as one micro-batch (the streaming path: a query source). */
async function batch(lake: LocalLake, from: number, to: number, name: string) {
  const sql = `SELECT 'T' || i AS TRANSACTION_ID, 'C' || (i % 7) AS CUSTOMER_ID, '2026-01-05 10:00:00' AS TRANSACTION_DATE,
    CAST(10 + i AS VARCHAR) AS TOTAL_AMOUNT, 'p0/' || i AS pos FROM range(${from}, ${to}) t(i)`;
  return ingestRelation(engine, lake, {
    table: TX.name, source: { sql, positionColumn: 'pos' }, loadId: name, ingestDate: '2026-01-05', sourceFile: `eventhubs:${name}`, outputName: name,
    tmpDir: join(lake.root, '..', 'tmp'),
  });
}

async function visibleRows(lake: LocalLake): Promise<{ n: number; ids: number }> {
  const files = await bronzeDataFiles(lake, TX);
  if (files.length === 0) return { n: 0, ids: 0 };
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  const [r] = await engine.all<{ n: unknown; ids: unknown }>(`SELECT count(*) AS n, count(DISTINCT TRANSACTION_ID) AS ids FROM read_parquet(${litList(local)}, union_by_name = true)`);
  return { n: Number(r!.n), ids: Number(r!.ids) };
}

describe('dedupe index', () => {
  it('looks up a bounded number of index files however many Bronze files the table has, and still finds every duplicate', async () => {
    const lake = new LocalLake(join(await tempDir(), 'lake'));
    const batches = 2 * MAX_INDEX_FILES + 3;
    for (let b = 0; b < batches; b++) {
      const r = await batch(lake, b * 10, b * 10 + 10, `b${String(b).padStart(3, '0')}`);
      expect(r.bronzeRows).toBe(10);
    }
    const held = await heldHashes(lake, TX);
    expect(held.uncovered).toEqual([]);
    expect(held.localFiles.length).toBeLessThanOrEqual(MAX_INDEX_FILES + 1);
    expect(held.state.index.flatMap((i) => i.covers)).toHaveLength(batches);
    // Every earlier record is found through the index: an overlapping batch adds only its new records.
    const again = await batch(lake, 5, batches * 10 + 4, 'again');
    expect(again).toMatchObject({ alreadyIngested: batches * 10 - 5, bronzeRows: 4 });
    expect(await visibleRows(lake)).toEqual({ n: batches * 10 + 4, ids: batches * 10 + 4 });
  });

  it('reads the files a crash left out of the index directly, and folds them in on the next ingest', async () => {
    const lake = new LocalLake(join(await tempDir(), 'lake'));
    await batch(lake, 0, 10, 'b1');
    // A crash between the data commit and the state commit: the state does not name the second batch's file.
    const before = await readBronzeState(lake, TX);
    await batch(lake, 10, 20, 'b2');
    await writeBronzeState(lake, TX, before);
    const held = await heldHashes(lake, TX);
    expect(held.uncovered).toEqual([expect.stringContaining('b2.parquet')]);
    const again = await batch(lake, 0, 25, 'b3');
    expect(again).toMatchObject({ alreadyIngested: 20, bronzeRows: 5 });
    expect((await heldHashes(lake, TX)).uncovered).toEqual([]);
    // An index file the state names but the lake lost covers nothing: its files are read directly again.
    const s = await readBronzeState(lake, TX);
    await lake.delete(s.index[0]!.file);
    expect((await heldHashes(lake, TX)).uncovered).toContain(s.index[0]!.covers[0]);
    expect(await batch(lake, 0, 25, 'b4')).toMatchObject({ alreadyIngested: 25, bronzeRows: 0 });
  });
});

describe('compaction', () => {
  it('replaces the small files of a partition with one file holding exactly their rows', async () => {
    const lake = new LocalLake(join(await tempDir(), 'lake'));
    for (let b = 0; b < 9; b++) await batch(lake, b * 10, b * 10 + 10, `m${b}`);
    const before = await visibleRows(lake);
    const hashesBefore = await engine.all(`SELECT _record_hash, TRANSACTION_ID, _load_id, _ingested_at FROM read_parquet(${litList(await Promise.all((await bronzeDataFiles(lake, TX)).map((f) => lake.localPath(f))))}) ORDER BY 1`);
    const r = await compactBronze(engine, lake, TX, { tmpDir: join(lake.root, '..', 'tmp') });
    expect(r.compacted).toEqual([{ output: expect.stringMatching(/ingest_date=2026-01-05\/compact-[0-9a-f]+\.parquet$/), files: 9, rows: 90 }]);
    const files = await bronzeDataFiles(lake, TX);
    expect(files).toEqual([r.compacted[0]!.output]);
    expect((await lake.list('bronze/customer360/transactions')).filter((f) => f.path.endsWith('.parquet'))).toHaveLength(1);
    expect(await visibleRows(lake)).toEqual(before);
    const hashesAfter = await engine.all(`SELECT _record_hash, TRANSACTION_ID, _load_id, _ingested_at FROM read_parquet(${lit(await lake.localPath(files[0]!))}) ORDER BY 1`);
    expect(hashesAfter).toEqual(hashesBefore);
    // The index covers the compacted file, so a re-sent batch is still recognised without reading it directly.
    expect((await heldHashes(lake, TX)).uncovered).toEqual([]);
    expect(await batch(lake, 0, 90, 'resent')).toMatchObject({ alreadyIngested: 90, bronzeRows: 0 });
    // The event-date range of the compacted file is known from the state: the default as-of date opens no file.
    expect((await readBronzeState(lake, TX)).dates).toEqual({ [r.compacted[0]!.output]: ['2026-01-05', '2026-01-05'] });
    let opened = 0;
    const counting = Object.assign(Object.create(lake) as LocalLake, { localPath: (p: string) => (opened++, lake.localPath(p)) });
    expect(await dataDateRange(engine, counting)).toEqual({ first: '2026-01-05', last: '2026-01-05' });
    expect(opened).toBe(0);
    // Too few small files left: nothing to do.
    expect((await compactBronze(engine, lake, TX, { tmpDir: join(lake.root, '..', 'tmp') })).compacted).toEqual([]);
  });

  it('shows readers the old files or the new one at every point of a crash, and a re-run finishes the job', async () => {
    const tmpDir = join(await tempDir(), 'tmp');
    const smallLake = async () => {
      const lake = new LocalLake(join(await tempDir(), 'lake'));
      for (let b = 0; b < 8; b++) await batch(lake, b * 10, b * 10 + 10, `m${b}`);
      return { lake, small: await bronzeDataFiles(lake, TX) };
    };
    // Crash after the compacted file is written, before the state names it: readers see only the small files.
    const a = await smallLake();
    const output = (await compactBronze(engine, a.lake, TX, { tmpDir })).compacted[0]!.output;
    const b = await smallLake();
    await b.lake.write(output, await a.lake.read(output));
    expect(await bronzeDataFiles(b.lake, TX)).toEqual(b.small);
    expect(await visibleRows(b.lake)).toEqual({ n: 80, ids: 80 });
    expect((await compactBronze(engine, b.lake, TX, { tmpDir })).compacted).toEqual([{ output, files: 8, rows: 80 }]);
    expect(await bronzeDataFiles(b.lake, TX)).toEqual([output]);
    expect(await visibleRows(b.lake)).toEqual({ n: 80, ids: 80 });
    // Crash after the state commit, before the small files are deleted: readers see only the compacted file, and the
    // next compaction deletes the leftovers.
    const c = await smallLake();
    const kept = await Promise.all(c.small.map(async (f) => [f, await c.lake.read(f)] as const));
    await compactBronze(engine, c.lake, TX, { tmpDir });
    for (const [f, data] of kept) await c.lake.write(f, data);
    expect(await bronzeDataFiles(c.lake, TX)).toEqual([output]);
    expect(await visibleRows(c.lake)).toEqual({ n: 80, ids: 80 });
    await compactBronze(engine, c.lake, TX, { tmpDir });
    expect((await c.lake.list('bronze/customer360/transactions')).map((f) => f.path).filter((p) => p.endsWith('.parquet'))).toEqual([output]);
  });
});
