// Moving model outputs from JS into the engine: records -> engine table (typed, via NDJSON); the catalogue runner
// writes them to the lake.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ident, lit, type Engine } from '../engine/duckdb.ts';

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
