// Erasure of a batch of 1,000 people (`c360 forget`) from a Bronze + Silver lake, against a floor measured in the same
// run: rewriting once every file that holds them (read + zstd write of each touched file). Scale 1 is a fiftieth of
// the seed's daily volume of these four tables (40k customers, 100k transactions, 300k items, 1M events: 1.44M rows);
// --scale 50 is that daily volume (72M rows; the seed's 94M rows a day also count sessions and engagement events).
// The result's phasesMs says where the erasure's time went (its own 'erasure phase' debug lines).
// Inputs are generated with DuckDB SQL (deterministic hashes).
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bench } from '../src/cli/commands/bench.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { forget } from '../src/privacy/erasure.ts';
import type { Logger } from '../src/runtime/logger.ts';
import { cpuSeconds, maxRssMb } from './measure.ts';

const h = (i: string, salt: string, n: number | string) => `CAST(hash(${i}, '${salt}') % ${n} AS BIGINT)`;
const DAYS = ['2026-10-28', '2026-10-29', '2026-10-30', '2026-10-31'];

function tables(n: { customers: number; transactions: number; items: number; events: number }): Record<string, string> {
  const C = n.customers;
  return {
    customers: `SELECT 'C' || i AS CUSTOMER_ID, 'First' || ${h('i', 'fn', 5000)} AS FIRST_NAME, 'Last' || ${h('i', 'ln', 20000)} AS LAST_NAME,
        'user' || i || '@example.com' AS EMAIL_ADDRESS, '+1 555 ' || lpad(CAST(i AS VARCHAR), 8, '0') AS PHONE_NUMBER, i || ' Main St' AS ADDRESS_LINE_1,
        'P' || i AS CUSTOMER360_ID FROM range(${C}) t(i)`,
    transactions: `SELECT 'T' || i AS TRANSACTION_ID, 'C' || ${h('i', 'c', C)} AS CUSTOMER_ID, 'P' || ${h('i', 'c', C)} AS CUSTOMER360_ID,
        TIMESTAMP '2026-10-01' + INTERVAL 1 SECOND * ${h('i', 'ts', 2592000)} AS TRANSACTION_DATE, CAST(5 + ${h('i', 'amt', 50000)} / 100.0 AS DECIMAL(10,2)) AS TOTAL_AMOUNT
      FROM range(${n.transactions}) t(i)`,
    items: `SELECT 'I' || i AS ITEM_ID, 'T' || (i % ${n.transactions}) AS TRANSACTION_ID, 'PR' || ${h('i', 'p', 5000)} AS PRODUCT_ID,
        CAST(1 + ${h('i', 'q', 3)} AS INTEGER) AS QUANTITY, CAST(2 + ${h('i', 'up', 20000)} / 100.0 AS DECIMAL(10,2)) AS TOTAL_PRICE
      FROM range(${n.items}) t(i)`,
    behavioral: `SELECT 'E' || i AS EVENT_ID, 'C' || ${h('i', 'ec', C)} AS CUSTOMER_ID, 'P' || ${h('i', 'ec', C)} AS CUSTOMER360_ID,
        'S' || ${h('i', 'es', n.events / 10)} AS EVENT_SESSION, ['PAGE_VIEW', 'CLICK', 'CART_ADD'][1 + ${h('i', 'et', 3)}] AS EVENT_TYPE,
        TIMESTAMP '2026-10-01' + INTERVAL 1 SECOND * ${h('i', 'ets', 2592000)} AS EVENT_DATE, 'https://shop.example.com/p/' || ${h('i', 'pp', 5000)} AS PAGE_URL
      FROM range(${n.events}) t(i)`,
  };
}

export async function buildLake(engine: Engine, root: string, scale: number): Promise<void> {
  const n = { customers: 40_000 * scale, transactions: 100_000 * scale, items: 300_000 * scale, events: 1_000_000 * scale };
  for (const [name, sql] of Object.entries(tables(n))) {
    await engine.run(`CREATE OR REPLACE TEMP TABLE src AS SELECT *, md5(CAST(s AS VARCHAR)) AS _record_hash FROM (${sql}) s`);
    // Bronze: one file per ingest day; the dedup index beside it; Silver: one file.
    for (const [d, day] of DAYS.entries()) {
      const dir = join(root, 'bronze/customer360', name, `ingest_date=${day}`);
      await mkdir(dir, { recursive: true });
      const part = `SELECT * EXCLUDE (CUSTOMER360_ID) FROM src WHERE hash(_record_hash) % ${DAYS.length} = ${d}`;
      await engine.run(`COPY (${part.replace('EXCLUDE (CUSTOMER360_ID)', name === 'items' ? '' : 'EXCLUDE (CUSTOMER360_ID)')}) TO ${lit(join(dir, 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
      const idx = join(root, 'bronze/_index/customer360', name);
      await mkdir(idx, { recursive: true });
      await engine.run(`COPY (SELECT _record_hash FROM src WHERE hash(_record_hash) % ${DAYS.length} = ${d}) TO ${lit(join(idx, `idx-${d}.parquet`))} (FORMAT parquet)`);
    }
    const silver = join(root, 'silver/customer360', name);
    await mkdir(silver, { recursive: true });
    await engine.run(`COPY (SELECT * EXCLUDE (_record_hash) FROM src) TO ${lit(join(silver, 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
  }
  const xw = join(root, 'silver/customer360/identity/crosswalk');
  await mkdir(xw, { recursive: true });
  await engine.run(`COPY (SELECT 'T1' AS TENANT_ID, 'CRM' AS SOURCE_SYSTEM, 'C' || i AS CUSTOMER_ID, 'P' || i AS CUSTOMER360_ID FROM range(${n.customers}) t(i)) TO ${lit(join(xw, 'part-0.parquet'))} (FORMAT parquet)`);
}

async function lakeFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.parquet')) out.push(join(e.parentPath, e.name));
  return out;
}

export const bench: Bench = {
  name: 'forget',
  description: 'erase 1,000 people (c360 forget) vs rewriting the files that hold them once',
  async run(ctx) {
    const root = join(ctx.workDir, 'lake');
    const engine = await Engine.open();
    let floorMs: number;
    let floorCpu: number;
    let touched: string[];
    let bytes = 0;
    try {
      const t0 = Date.now();
      await buildLake(engine, root, ctx.scale);
      ctx.out(`lake built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      const people = Array.from({ length: 1000 }, (_, k) => `P${k * 37}`);
      // The files holding them (found with the same columns forget matches on), then the floor: each rewritten once.
      await engine.run(`CREATE TEMP TABLE ids AS SELECT unnest([${people.map(lit).join(', ')}]) AS id`);
      touched = [];
      for (const f of await lakeFiles(root)) {
        const cols = (await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${lit(f)})`)).map((r) => r.column_name);
        if (cols.includes('CUSTOMER360_ID') || cols.includes('CUSTOMER_ID') || cols.includes('TRANSACTION_ID') || cols.includes('_record_hash')) touched.push(f);
      }
      const f0 = Date.now();
      const c0 = cpuSeconds();
      for (const f of touched) {
        await engine.run(`COPY (SELECT * FROM read_parquet(${lit(f)}, hive_partitioning = false)) TO ${lit(`${f}.floor`)} (FORMAT parquet, COMPRESSION zstd)`);
        bytes += (await stat(f)).size;
      }
      floorMs = Date.now() - f0;
      floorCpu = cpuSeconds() - c0;
      for (const f of touched) await (await import('node:fs/promises')).rm(`${f}.floor`);
    } finally {
      engine.close();
    }
    const people = Array.from({ length: 1000 }, (_, k) => ({ kind: 'c360' as const, value: `P${k * 37}` }));
    // Where the erasure's time goes: its own 'erasure phase' debug lines, summed per phase.
    const phases: Record<string, number> = {};
    const log: Logger = {
      info() {}, warn() {}, error() {}, progress() {},
      debug(msg, f) {
        if (msg === 'erasure phase' && f) phases[String(f.phase)] = (phases[String(f.phase)] ?? 0) + Number(f.ms);
      },
      child() { return log; },
    };
    const e0 = Date.now();
    const c1 = cpuSeconds();
    const receipt = await forget({ home: ctx.workDir, lake: new LocalLake(root), log, subjects: people, reason: 'bench' });
    const forgetMs = Date.now() - e0;
    const forgetCpu = cpuSeconds() - c1;
    const rowsRemoved = receipt.objects.reduce((s, o) => s + o.rowsRemoved, 0);
    const result = {
      scale: ctx.scale,
      people: receipt.people.length,
      filesTouched: receipt.objects.length,
      filesInFloor: touched.length,
      mbTouched: Math.round(bytes / 1e5) / 10,
      rowsRemoved,
      floorMs,
      forgetMs,
      ratioToFloor: Math.round((forgetMs / floorMs) * 100) / 100,
      floorCpuS: Math.round(floorCpu * 10) / 10,
      forgetCpuS: Math.round(forgetCpu * 10) / 10,
      cpuRatioToFloor: Math.round((forgetCpu / floorCpu) * 100) / 100,
      maxRssMb: maxRssMb(),
      phasesMs: phases,
    };
    ctx.out(JSON.stringify(result));
    return result;
  },
};
