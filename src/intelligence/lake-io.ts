// Moving model outputs between JS, the engine and the lake: records -> engine table (typed, via NDJSON), engine
// query -> Parquet file committed atomically to a Gold folder.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery, pruneOthers } from '../lake/parquet.ts';

export const GOLD = 'gold/customer360';

/** Creates `table` with the given typed columns from plain records. */
export async function tableFromRecords(engine: Engine, table: string, columns: readonly (readonly [string, string])[], records: readonly Record<string, unknown>[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'c360-int-'));
  try {
    const file = join(dir, 'rows.ndjson');
    await writeFile(file, records.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))).join('\n') + '\n');
    const spec = `{${columns.map(([n, t]) => `${lit(n)}: ${lit(t)}`).join(', ')}}`;
    const select = columns.map(([n]) => ident(n)).join(', ');
    if (records.length === 0) {
      await engine.run(`CREATE OR REPLACE TABLE ${table} (${columns.map(([n, t]) => `${ident(n)} ${t}`).join(', ')})`);
    } else {
      await engine.run(`CREATE OR REPLACE TABLE ${table} AS SELECT ${select} FROM read_json(${lit(file)}, format = 'newline_delimited', columns = ${spec})`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** gold/customer360/<dataset>/as_of_date=<D>/<file>.parquet */
export function goldPath(dataset: string, asOf: string, file = 'part-0'): string {
  return `${GOLD}/${dataset}/as_of_date=${asOf}/${file}.parquet`;
}

/**
 * Writes a query's result as one Parquet file of a Gold as-of folder. With `replaceFolder`, other files in the folder
 * are removed after the commit, so a re-run leaves exactly this content; otherwise only this file is replaced (for
 * folders several jobs write one file each, like the model registry).
 */
export async function writeGold(engine: Engine, lake: Lake, dataset: string, asOf: string, query: string, options: { file?: string; replaceFolder?: boolean } = {}): Promise<{ path: string; rows: number }> {
  const path = goldPath(dataset, asOf, options.file);
  const rows = await commitQuery(engine, lake, query, path, { tmpDir: join(tmpdir(), 'c360-gold') });
  if (options.replaceFolder ?? true) await pruneOthers(lake, path.slice(0, path.lastIndexOf('/') + 1), path);
  return { path, rows };
}
