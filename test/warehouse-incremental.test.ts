// The daily warehouse load stages and applies only what changed: a warehouse loaded as of AS_OF, then the next day's
// snapshots (NEXT: a few new transactions, a new person, one new product). Per table the staged rows, deleted keys and
// replaced partitions equal what plain JS finds by comparing the two days' Gold snapshots; the result equals a full
// load of NEXT into an empty warehouse; a re-run stages nothing and changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { loadWarehouse, type TableLoadResult } from '../src/warehouse/duckdb-loader.ts';
import { duckdbDialect as d } from '../src/warehouse/dialects/duckdb.ts';
import { sourceFiles, WAREHOUSE_TABLES } from '../src/warehouse/model.ts';
import type { WarehouseTable } from '../src/warehouse/types.ts';
import { AS_OF } from './fixtures/gold-scenario.ts';
import { NEXT, writeTwoDayLake } from './fixtures/two-day-lake.ts';

let home: string;
let lake: LocalLake;
let daily: TableLoadResult[];
let rerun: TableLoadResult[];

async function withDb<T>(file: string, fn: (e: Engine) => Promise<T>): Promise<T> {
  const e = await Engine.open({ path: join(home, file) });
  try {
    return await fn(e);
  } finally {
    e.close();
  }
}

/** A table's data rows (as the model types them) in the Gold snapshot of a date, as JSON strings. */
async function snapshotRows(e: Engine, t: WarehouseTable, asOf: string): Promise<Record<string, unknown>[]> {
  const files = await Promise.all((await sourceFiles(lake, t, asOf)).map((f) => lake.localPath(f)));
  return e.all(d.readSnapshot({ columns: t.columns, source: { files } }));
}

/** Every table's rows without the load columns (or with them), sorted JSON. */
async function contents(file: string, withLoadColumns: boolean): Promise<Record<string, string>> {
  return withDb(file, async (e) => {
    const out: Record<string, string> = {};
    for (const t of WAREHOUSE_TABLES) {
      const rows = await e.all(`SELECT * ${withLoadColumns ? '' : 'EXCLUDE (_LOAD_ID, _AS_OF_DATE)'} FROM ${d.qualified(t.schema, t.name)}`);
      out[`${t.schema}.${t.name}`] = JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
    }
    return out;
  });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-wh-incr-'));
  lake = new LocalLake(join(home, 'lake'));
  await writeTwoDayLake(home, lake);
  await withDb('w.duckdb', (e) => loadWarehouse(e, lake, { asOf: AS_OF, loadId: 'L1' }));
  daily = await withDb('w.duckdb', (e) => loadWarehouse(e, lake, { asOf: NEXT, loadId: 'L2' }));
  await withDb('full.duckdb', (e) => loadWarehouse(e, lake, { asOf: NEXT, loadId: 'L2' }));
}, 120_000);
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('incremental warehouse load', () => {
  it('stages per table exactly the rows, keys and partitions that changed between the two days', async () => {
    const scratch = await Engine.open();
    try {
      for (const t of WAREHOUSE_TABLES) {
        const prev = await snapshotRows(scratch, t, AS_OF);
        const next = await snapshotRows(scratch, t, NEXT);
        const json = (rows: Record<string, unknown>[]) => new Set(rows.map((r) => JSON.stringify(r)));
        const key = (r: Record<string, unknown>) => JSON.stringify(t.primaryKey.map((k) => r[k]));
        const [p, n] = [json(prev), json(next)];
        let want: TableLoadResult['staged'];
        if (t.strategy === 'partition') {
          // the target holds nothing for NEXT yet: its whole partition is new
          want = { upserts: n.size, deletes: 0, partitions: 0 };
        } else if (t.strategy === 'append') {
          const had = new Set(prev.map(key));
          want = { upserts: new Set(next.filter((r) => !had.has(key(r))).map(key)).size, deletes: 0, partitions: 0 };
        } else if (t.partitionBy) {
          const part = (r: Record<string, unknown>) => JSON.stringify(r[t.partitionBy!]);
          const changed = new Set([...next.filter((r) => !p.has(JSON.stringify(r))), ...prev.filter((r) => !n.has(JSON.stringify(r)))].map(part));
          want = { upserts: next.filter((r) => changed.has(part(r))).length, deletes: 0, partitions: changed.size };
        } else {
          const nextKeys = new Set(next.map(key));
          want = { upserts: [...n].filter((r) => !p.has(r)).length, deletes: new Set(prev.map(key).filter((k) => !nextKeys.has(k))).size, partitions: 0 };
        }
        expect(daily.find((r) => r.table === `${t.schema}.${t.name}`)!.staged, `${t.schema}.${t.name}`).toEqual(want);
      }
    } finally {
      scratch.close();
    }
    // by hand: two new transactions on two new days (T7 on 04-05, T9 on 04-16), one new product (PR9)
    const staged = (name: string) => daily.find((r) => r.table.endsWith(`.${name}`))!.staged;
    expect(staged('FACT_TRANSACTIONS')).toEqual({ upserts: 2, deletes: 0, partitions: 2 });
    expect(staged('FACT_TRANSACTION_ITEMS')).toEqual({ upserts: 1, deletes: 0, partitions: 1 });
    expect(staged('DIM_PRODUCT')).toEqual({ upserts: 1, deletes: 0, partitions: 0 });
    const factRows = daily.find((r) => r.table.endsWith('.FACT_TRANSACTIONS'))!.tableRows;
    expect(factRows).toBe(9);
  });

  it('ends where a full load of the day ends', async () => {
    const incremental = await contents('w.duckdb', false);
    const full = await contents('full.duckdb', false);
    for (const t of WAREHOUSE_TABLES) {
      const k = `${t.schema}.${t.name}`;
      if (t.strategy === 'snapshot') expect(incremental[k], k).toBe(full[k]);
    }
    // partition tables keep AS_OF's rows beside NEXT's
    await withDb('w.duckdb', async (e) => {
      expect(await e.all(`SELECT CAST(AS_OF_DATE AS VARCHAR) AS d, count(*) AS n FROM CUSTOMER_360.CUSTOMER_RISK_SCORES GROUP BY 1 ORDER BY 1`)).toEqual([
        { d: AS_OF, n: '2' }, { d: NEXT, n: '2' },
      ]);
      // unchanged rows keep the load that wrote them; changed and new rows carry the daily load
      expect(await e.all(`SELECT TRANSACTION_ID, _LOAD_ID FROM CUSTOMER_360.FACT_TRANSACTIONS WHERE TRANSACTION_ID IN ('T1', 'T7') ORDER BY 1`)).toEqual([
        { TRANSACTION_ID: 'T1', _LOAD_ID: 'L1' }, { TRANSACTION_ID: 'T7', _LOAD_ID: 'L2' },
      ]);
    });
  });

  it('a full refresh restages every row and ends with the same data (each row rewritten by the refreshing load)', async () => {
    await withDb('refresh.duckdb', (e) => loadWarehouse(e, lake, { asOf: AS_OF, loadId: 'L1' }));
    await withDb('refresh.duckdb', (e) => loadWarehouse(e, lake, { asOf: NEXT, loadId: 'L2' }));
    const before = await contents('refresh.duckdb', false);
    const full = await withDb('refresh.duckdb', (e) => loadWarehouse(e, lake, { asOf: NEXT, loadId: 'LF', fullRefresh: true }));
    expect(await contents('refresh.duckdb', false)).toEqual(before);
    const facts = full.find((r) => r.table === 'CUSTOMER_360.FACT_TRANSACTIONS')!;
    expect(facts.staged).toEqual({ upserts: facts.tableRows, deletes: 0, partitions: 8 });
    const dim = full.find((r) => r.table === 'CUSTOMER_360.DIM_CUSTOMER')!;
    expect(dim.staged.upserts).toBe(dim.tableRows);
    await withDb('refresh.duckdb', async (e) => {
      expect(await e.all(`SELECT DISTINCT _LOAD_ID FROM CUSTOMER_360.FACT_TRANSACTIONS`)).toEqual([{ _LOAD_ID: 'LF' }]);
    });
  });

  it('a re-run stages nothing and changes nothing', async () => {
    const before = await contents('w.duckdb', true);
    rerun = await withDb('w.duckdb', (e) => loadWarehouse(e, lake, { asOf: NEXT, loadId: 'L3' }));
    expect(rerun.filter((r) => r.staged.upserts + r.staged.deletes + r.staged.partitions > 0).map((r) => r.table)).toEqual([]);
    expect(await contents('w.duckdb', true)).toEqual(before);
  });
});
