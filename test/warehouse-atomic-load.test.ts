// Readers see a warehouse load whole or not at all: a real child process loading the warehouse is killed with
// SIGKILL after the CUSTOMER_360 tables are loaded (inside its transaction) and before the other schemas. The first
// load leaves no table with rows; a daily load leaves every table exactly as the previous load left it; the retried
// load then gives exactly what an uninterrupted load gives.
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { duckdbDialect } from '../src/warehouse/dialects/duckdb.ts';
import { WAREHOUSE_TABLES } from '../src/warehouse/model.ts';
import { AS_OF } from './fixtures/gold-scenario.ts';
import { NEXT, writeTwoDayLake } from './fixtures/two-day-lake.ts';

const LAST_C360 = WAREHOUSE_TABLES.filter((t) => t.schema === 'CUSTOMER_360').at(-1)!;
const PAUSE_AFTER = `${LAST_C360.schema}.${LAST_C360.name}`;

let home: string;
let lake: LocalLake;

async function load(file: string, asOf: string, loadId: string) {
  const e = await Engine.open({ path: join(home, file) });
  try {
    await loadWarehouse(e, lake, { asOf, loadId });
  } finally {
    e.close();
  }
}

/** Every table's rows (sorted JSON) by schema.table; views excluded (they follow the tables). */
async function contents(file: string): Promise<Record<string, string>> {
  const e = await Engine.open({ path: join(home, file) });
  try {
    const tables = await e.all<{ s: string; t: string }>(`SELECT schema_name AS s, table_name AS t FROM duckdb_tables() WHERE NOT temporary ORDER BY 1, 2`);
    const out: Record<string, string> = {};
    for (const { s, t } of tables) {
      const rows = await e.all(`SELECT * FROM ${duckdbDialect.qualified(s, t)}`);
      out[`${s}.${t}`] = JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
    }
    return out;
  } finally {
    e.close();
  }
}

/** Starts the load in a child process, waits until it has loaded the CUSTOMER_360 tables, kills it with SIGKILL. */
async function killMidLoad(file: string, asOf: string, loadId: string): Promise<Record<string, number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'warehouse-load-child.ts'), home, file, asOf, loadId, PAUSE_AFTER], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, C360_DUCKDB_MEMORY_LIMIT: '1GB' },
  });
  const loaded: Record<string, number> = {};
  let out = '';
  let err = '';
  child.stderr.on('data', (b) => (err += String(b)));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (b) => {
      out += String(b);
      for (const [, t, n] of out.matchAll(/^LOADED (\S+) (\d+)$/gm)) loaded[t!] = Number(n);
      if (out.includes('PAUSED\n')) resolve();
    });
    child.on('exit', () => reject(new Error(`child ended before pausing: ${out}\n${err}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return loaded;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-wh-atomic-'));
  lake = new LocalLake(join(home, 'lake'));
  await writeTwoDayLake(home, lake);
  // the reference: uninterrupted loads
  await load('reference-first.duckdb', AS_OF, 'L1');
  await copyFile(join(home, 'reference-first.duckdb'), join(home, 'reference-daily.duckdb'));
  await load('reference-daily.duckdb', NEXT, 'L2');
}, 120_000);
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('warehouse load killed with SIGKILL', () => {
  it('during the first load: no table has rows; the retried load equals an uninterrupted one', async () => {
    const loaded = await killMidLoad('first.duckdb', AS_OF, 'L1');
    // the child had really loaded CUSTOMER_360 (in its transaction) and not yet the other schemas
    expect(loaded['CUSTOMER_360.DIM_CUSTOMER']).toBe(3);
    expect(Object.keys(loaded)).toEqual(WAREHOUSE_TABLES.filter((t) => t.schema === 'CUSTOMER_360').map((t) => `${t.schema}.${t.name}`));
    expect(Object.keys(loaded).some((t) => !t.startsWith('CUSTOMER_360.'))).toBe(false);
    const after = await contents('first.duckdb');
    expect(Object.entries(after).filter(([, rows]) => rows !== '[]')).toEqual([]);
    await load('first.duckdb', AS_OF, 'L1');
    expect(await contents('first.duckdb')).toEqual(await contents('reference-first.duckdb'));
  }, 60_000);

  it('during a daily load: every table stays as the previous load left it; the retried load equals an uninterrupted one', async () => {
    await copyFile(join(home, 'reference-first.duckdb'), join(home, 'daily.duckdb')); // loaded as of AS_OF
    const before = await contents('daily.duckdb');
    const loaded = await killMidLoad('daily.duckdb', NEXT, 'L2');
    expect(loaded['CUSTOMER_360.DIM_CUSTOMER']).toBe(4); // P4 registered after AS_OF
    expect(await contents('daily.duckdb')).toEqual(before);
    await load('daily.duckdb', NEXT, 'L2');
    const after = await contents('daily.duckdb');
    expect(after).toEqual(await contents('reference-daily.duckdb'));
    expect(after['CUSTOMER_360.DIM_CUSTOMER']).not.toEqual(before['CUSTOMER_360.DIM_CUSTOMER']);
  }, 60_000);
});
