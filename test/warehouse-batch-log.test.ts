// An append table over a batch log (profile changes: files as_of_date=D/batch-N.parquet, a committed batch never
// rewritten) loads only the batches written since the last load of the same as-of folder (OPS.LOAD_STATE keeps the
// highest batch read), and ends where a full load into an empty warehouse ends; a re-run reads nothing; another
// as-of folder, a log rebuilt from nothing (its batches behind the mark) and a full refresh read every batch.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../src/catalogue/index.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { duckdbDialect as d } from '../src/warehouse/dialects/duckdb.ts';
import { getTable } from '../src/warehouse/model.ts';

const T = getTable('CUSTOMER_360', 'PROFILE_CHANGES');
const KEY = T.primaryKey[0]!;
let home: string;
let lake: LocalLake;
let scratch: Engine;

/** Writes batch `n` of the log into the as-of folder: `rows` rows keyed b<n>-<i>, every other column from the row. */
async function writeBatch(asOf: string, n: number, rows: number): Promise<void> {
  const dir = join(home, 'lake', getDataset(T.source).path, `as_of_date=${asOf}`);
  await mkdir(dir, { recursive: true });
  const cols = T.columns.map((c) => {
    if (c.name === KEY) return `'b${n}-' || i AS ${d.ident(c.name)}`;
    switch (c.type.kind) {
      case 'varchar': return `'v' || i AS ${d.ident(c.name)}`;
      case 'boolean': return `i % 2 = 0 AS ${d.ident(c.name)}`;
      case 'date': return `DATE '${asOf}' AS ${d.ident(c.name)}`;
      case 'timestamp': return `TIMESTAMP '${asOf} 00:00:00' AS ${d.ident(c.name)}`;
      default: return `CAST(i AS ${d.type(c.type)}) AS ${d.ident(c.name)}`;
    }
  });
  await scratch.run(`COPY (SELECT ${cols.join(', ')} FROM range(${rows}) r(i)) TO '${join(dir, `batch-${String(n).padStart(8, '0')}.parquet`)}' (FORMAT parquet)`);
}

async function load(file: string, asOf: string, loadId: string, fullRefresh = false) {
  const e = await Engine.open({ path: join(home, file) });
  try {
    const [r] = await loadWarehouse(e, lake, { asOf, loadId, tables: [T], fullRefresh });
    const rows = await e.all<{ k: string; l: string }>(`SELECT ${d.ident(KEY)} AS k, _LOAD_ID AS l FROM ${d.qualified(T.schema, T.name)} ORDER BY 1`);
    return { files: r!.files.map((f) => f.slice(f.lastIndexOf('/') + 1)), staged: r!.staged, rows };
  } finally {
    e.close();
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-wh-batches-'));
  lake = new LocalLake(join(home, 'lake'));
  scratch = await Engine.open();
});
afterAll(async () => {
  scratch?.close();
  await rm(home, { recursive: true, force: true });
});

describe('warehouse load of a batch log', () => {
  it('reads only the batches written since the last load of the folder and ends where a full load ends', async () => {
    await writeBatch('2026-03-01', 1, 5);
    const first = await load('w.duckdb', '2026-03-01', 'L1');
    expect(first.files).toEqual(['batch-00000001.parquet']);
    // Two more batches in the same folder (a re-run of the day after new changes): only they are read.
    await writeBatch('2026-03-01', 2, 3);
    await writeBatch('2026-03-01', 3, 2);
    const daily = await load('w.duckdb', '2026-03-01', 'L2');
    expect(daily.files).toEqual(['batch-00000002.parquet', 'batch-00000003.parquet']);
    expect(daily.staged).toEqual({ upserts: 5, deletes: 0, partitions: 0 });
    const full = await load('full.duckdb', '2026-03-01', 'L2');
    expect(full.files).toHaveLength(3);
    expect(daily.rows.map((r) => r.k)).toEqual(full.rows.map((r) => r.k));
    expect(daily.rows.filter((r) => r.l === 'L1').map((r) => r.k)).toEqual(['b1-0', 'b1-1', 'b1-2', 'b1-3', 'b1-4']);
    // A re-run reads nothing and changes nothing.
    const rerun = await load('w.duckdb', '2026-03-01', 'L3');
    expect(rerun.files).toEqual([]);
    expect(rerun.rows).toEqual(daily.rows);
  });

  it('reads every batch of another as-of folder, of a log rebuilt from nothing, and on a full refresh', async () => {
    // The next day's folder holds batch 4 only, but the mark is of the other folder: every batch of it is read.
    await writeBatch('2026-03-02', 4, 2);
    expect((await load('w.duckdb', '2026-03-02', 'L4')).files).toEqual(['batch-00000004.parquet']);
    // A backfill of 03-01 after the load of 03-02: the folder's batches are all read again (append: nothing new).
    const back = await load('w.duckdb', '2026-03-01', 'L5');
    expect(back.files).toHaveLength(3);
    expect(back.staged.upserts).toBe(0);
    // Rebuilt from nothing: batch 1 again, behind the mark (3): read whole.
    await rm(join(home, 'lake', getDataset(T.source).path, 'as_of_date=2026-03-01'), { recursive: true });
    await writeBatch('2026-03-01', 1, 7);
    const rebuilt = await load('w.duckdb', '2026-03-01', 'L6');
    expect(rebuilt.files).toEqual(['batch-00000001.parquet']);
    expect(rebuilt.staged.upserts).toBe(2);
    expect((await load('w.duckdb', '2026-03-01', 'L7', true)).files).toEqual(['batch-00000001.parquet']);
    expect((await load('w.duckdb', '2026-03-01', 'L8')).files).toEqual([]);
  });
});
