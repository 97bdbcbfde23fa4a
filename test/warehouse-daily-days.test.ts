// The daily warehouse load of a day-partitioned fact reads the days changed since the last load, not every day held:
// two Gold datasets maintained by day (the transaction fact, replaced by DATE_KEY partition, and the session
// dimension, merged by key) hold 30 days and are loaded; then one commit adds a day, corrects a day and drops a row
// of a third. The next load reads those three days' files only (OPS.LOAD_STATE remembers how far the last load read),
// stages their rows only, and ends where a full load into an empty warehouse ends; a re-run reads nothing; a load
// as of an earlier date (a backfill) removes the later days; a dataset rebuilt from nothing is compared whole.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../src/catalogue/index.ts';
import { commitPartitions, emptyDatasetState, readDatasetState } from '../src/catalogue/partitioned.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { loadWarehouse, type TableLoadResult } from '../src/warehouse/duckdb-loader.ts';
import { duckdbDialect as d } from '../src/warehouse/dialects/duckdb.ts';
import { getTable } from '../src/warehouse/model.ts';
import type { WarehouseTable } from '../src/warehouse/types.ts';

const FACT = getTable('CUSTOMER_360', 'FACT_TRANSACTIONS');
const SESSIONS = getTable('CUSTOMER_BEHAVIOR', 'DIM_SESSION');
const TABLES = [FACT, SESSIONS];
const day = (n: number) => `2026-05-${String(n).padStart(2, '0')}`;
const DAYS = Array.from({ length: 30 }, (_, i) => day(i + 1));

let home: string;
let lake: LocalLake;
let scratch: Engine;

/** Rows of a table for the given days: `perDay` rows a day, keys <day>-<i>, every other column filled from the key; `bump` changes one row's values. */
function rowsSql(t: WarehouseTable, days: readonly string[], perDay: number, o: { bump?: string; drop?: string } = {}): string {
  const key = t.primaryKey[0]!;
  const values = days.flatMap((dd) => Array.from({ length: perDay }, (_, i) => `('${dd}-${i}', DATE '${dd}', ${i})`)).join(', ');
  const cols = t.columns.map((c) => {
    const n = c.name;
    if (n === key) return `k AS ${d.ident(n)}`;
    if (n === t.dayColumn) return `CAST(dd AS TIMESTAMP) + INTERVAL (i) HOUR AS ${d.ident(n)}`;
    if (n === 'DATE_KEY') return `CAST(strftime(dd, '%Y%m%d') AS INTEGER) AS DATE_KEY`;
    const v = `(i + CASE WHEN k = '${o.bump ?? ''}' THEN 100 ELSE 0 END)`;
    switch (c.type.kind) {
      case 'varchar': return `'v' || ${v} AS ${d.ident(n)}`;
      case 'boolean': return `${v} % 2 = 0 AS ${d.ident(n)}`;
      case 'date': return `dd AS ${d.ident(n)}`;
      case 'timestamp': return `CAST(dd AS TIMESTAMP) AS ${d.ident(n)}`;
      default: return `CAST(${v} AS ${d.type(c.type)}) AS ${d.ident(n)}`;
    }
  });
  return `SELECT ${cols.join(', ')}, strftime(dd, '%Y-%m-%d') AS __p FROM (VALUES ${values}) v(k, dd, i) WHERE k <> '${o.drop ?? ''}'`;
}

/** One commit of both datasets rewriting the given days (as Gold's day maintainer does). */
async function commitDays(days: readonly string[], o: { bump?: string; drop?: string; fresh?: boolean } = {}): Promise<void> {
  for (const t of TABLES) {
    const path = getDataset(t.source).path;
    if (o.fresh) await rm(join(home, 'lake', path), { recursive: true, force: true });
    const state = (await readDatasetState(lake, path)) ?? emptyDatasetState();
    await scratch.run(`CREATE OR REPLACE TABLE rows_out AS ${rowsSql(t, days, 3, o)}`);
    await commitPartitions(scratch, lake, path, state, { relation: 'rows_out', touched: [...days], inputs: {}, tmpDir: join(home, 'tmp') });
  }
}

async function load(file: string, asOf: string, loadId: string, fullRefresh = false): Promise<Record<string, TableLoadResult>> {
  const e = await Engine.open({ path: join(home, file) });
  try {
    const r = await loadWarehouse(e, lake, { asOf, loadId, tables: TABLES, fullRefresh });
    return Object.fromEntries(r.map((x) => [x.table.split('.')[1]!, x]));
  } finally {
    e.close();
  }
}

async function contents(file: string, withLoadColumns = false): Promise<Record<string, string[]>> {
  const e = await Engine.open({ path: join(home, file) });
  try {
    const out: Record<string, string[]> = {};
    for (const t of TABLES) {
      const rows = await e.all(`SELECT * ${withLoadColumns ? '' : 'EXCLUDE (_LOAD_ID, _AS_OF_DATE)'} FROM ${d.qualified(t.schema, t.name)}`);
      out[t.name] = rows.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  } finally {
    e.close();
  }
}

/** The partition folders (days) of the files a load read. */
const daysRead = (r: TableLoadResult) => [...new Set(r.files.map((f) => /event_date=([^/]+)\//.exec(f)![1]!))].sort();

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-wh-days-'));
  lake = new LocalLake(join(home, 'lake'));
  scratch = await Engine.open();
  await commitDays(DAYS);
}, 60_000);
afterAll(async () => {
  scratch.close();
  await rm(home, { recursive: true, force: true });
});

describe('daily warehouse load of day-partitioned facts', () => {
  it('reads and stages only the days changed since the last load, and ends where a full load ends', async () => {
    const first = await load('w.duckdb', day(30), 'L1');
    for (const t of TABLES) {
      expect(first[t.name]!.days).toBe('all');
      expect(daysRead(first[t.name]!)).toEqual(DAYS);
      expect(first[t.name]!.tableRows).toBe(90);
    }
    // a new day (31), a corrected row on day 10, a row gone from day 5: one commit
    await commitDays([day(5), day(10), day(31)], { bump: `${day(10)}-1`, drop: `${day(5)}-2` });
    const daily = await load('w.duckdb', day(31), 'L2');
    for (const t of TABLES) {
      const r = daily[t.name]!;
      expect(r.days, t.name).toEqual([day(5), day(10), day(31)]);
      expect(daysRead(r), t.name).toEqual([day(5), day(10), day(31)]);
      expect(r.tableRows, t.name).toBe(92);
    }
    // the fact: three DATE_KEY partitions replaced with their 2 + 3 + 3 rows
    expect(daily.FACT_TRANSACTIONS!.staged).toEqual({ upserts: 8, deletes: 0, partitions: 3 });
    // the dimension: the corrected and the 3 new rows merged, the dropped key deleted
    expect(daily.DIM_SESSION!.staged).toEqual({ upserts: 4, deletes: 1, partitions: 0 });

    await load('full.duckdb', day(31), 'LF');
    expect(await contents('w.duckdb')).toEqual(await contents('full.duckdb'));
    // rows of unchanged days keep the load that wrote them
    const e = await Engine.open({ path: join(home, 'w.duckdb') });
    try {
      expect(await e.all(`SELECT _LOAD_ID, count(*) AS n FROM CUSTOMER_360.FACT_TRANSACTIONS GROUP BY 1 ORDER BY 1`)).toEqual([{ _LOAD_ID: 'L1', n: '84' }, { _LOAD_ID: 'L2', n: '8' }]);
    } finally {
      e.close();
    }
  });

  it('a re-run reads no day and changes nothing', async () => {
    const before = await contents('w.duckdb', true);
    const rerun = await load('w.duckdb', day(31), 'L3');
    for (const t of TABLES) {
      expect(rerun[t.name]!.days).toEqual([]);
      expect(rerun[t.name]!.files).toEqual([]);
      expect(rerun[t.name]!.staged).toEqual({ upserts: 0, deletes: 0, partitions: 0 });
    }
    expect(await contents('w.duckdb', true)).toEqual(before);
  });

  it('a load as of an earlier date (backfill) reconciles the days between the two cuts: equal to a full load as of that date', async () => {
    const back = await load('w.duckdb', day(29), 'L4');
    for (const t of TABLES) expect(back[t.name]!.days).toEqual([day(30), day(31)]);
    expect(back.FACT_TRANSACTIONS!.staged).toEqual({ upserts: 0, deletes: 0, partitions: 2 });
    await load('full29.duckdb', day(29), 'LF');
    expect(await contents('w.duckdb')).toEqual(await contents('full29.duckdb'));
    // and forward again: those two days come back
    const fwd = await load('w.duckdb', day(31), 'L5');
    for (const t of TABLES) expect(fwd[t.name]!.days).toEqual([day(30), day(31)]);
    expect(await contents('w.duckdb')).toEqual(await contents('full.duckdb'));
  });

  it('a dataset rebuilt from nothing (another lineage, its sequence numbers started again) is compared whole', async () => {
    // rebuilt with another correction (day 20), in two commits: back at the sequence number the last load read
    await commitDays([...DAYS, day(31)], { fresh: true, bump: `${day(20)}-0`, drop: `${day(5)}-2` });
    await commitDays([day(31)]);
    const r = await load('w.duckdb', day(31), 'L6');
    for (const t of TABLES) expect(r[t.name]!.days).toBe('all');
    expect(r.FACT_TRANSACTIONS!.staged).toEqual({ upserts: 6, deletes: 0, partitions: 2 });
    await load('rebuilt.duckdb', day(31), 'LF');
    expect(await contents('w.duckdb')).toEqual(await contents('rebuilt.duckdb'));
  });
});
