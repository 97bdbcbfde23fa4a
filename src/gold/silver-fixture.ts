// Writes small Silver-layout datasets from plain rows (tests, examples): every contract column typed as Silver has
// it (missing ones null) plus CUSTOMER360_ID, _source_system, _load_id, _quality_score and any extra columns given.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { getContract } from '../../schemas/index.ts';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { silverDir } from './paths.ts';
import { duckdbType } from '../contracts/duckdb-types.ts';

export type FixtureRow = Record<string, string | number | boolean | null | undefined>;

const META: Record<string, string> = { CUSTOMER360_ID: 'VARCHAR', _source_system: 'VARCHAR', _load_id: 'VARCHAR', _quality_score: 'DOUBLE' };

async function writeRows(engine: Engine, lake: Lake, tmpDir: string, path: string, columns: Record<string, string>, rows: FixtureRow[]): Promise<void> {
  await mkdir(tmpDir, { recursive: true });
  const id = randomUUID();
  const json = join(tmpDir, `${id}.json`);
  const parquet = join(tmpDir, `${id}.parquet`);
  await writeFile(json, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  // Read every field as text, then cast: JSON numbers and ISO strings both land on the declared type.
  const spec = `{${Object.keys(columns).map((c) => `${lit(c)}: 'VARCHAR'`).join(', ')}}`;
  const select = Object.entries(columns).map(([c, t]) => `CAST(${ident(c)} AS ${t}) AS ${ident(c)}`).join(', ');
  try {
    const from = rows.length ? `read_json(${lit(json)}, format = 'newline_delimited', columns = ${spec})` : `(SELECT ${Object.keys(columns).map((c) => `NULL::VARCHAR AS ${ident(c)}`).join(', ')} WHERE false)`;
    await engine.run(`COPY (SELECT ${select} FROM ${from}) TO ${lit(parquet)} (FORMAT parquet)`);
    await lake.putFile(parquet, path);
  } finally {
    await rm(json, { force: true });
    await rm(parquet, { force: true });
  }
}

/** Writes rows as silver/customer360/<bronzeDir>/<file> for a contract table. */
export async function writeSilverFixture(engine: Engine, lake: Lake, tmpDir: string, table: string, rows: FixtureRow[], file = 'part-0.parquet'): Promise<string> {
  const contract = getContract(table);
  const columns: Record<string, string> = {};
  for (const c of contract.columns) columns[c.name] = duckdbType(c.type);
  for (const [c, t] of Object.entries(META)) if (c !== 'CUSTOMER360_ID' || 'CUSTOMER_ID' in columns) columns[c] = t;
  for (const r of rows) for (const k of Object.keys(r)) if (!(k in columns)) columns[k] = 'VARCHAR';
  const path = `${silverDir(contract.bronzeDir)}/${file}`;
  await writeRows(engine, lake, tmpDir, path, columns, rows);
  return path;
}

/** Writes the identity crosswalk (SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID). */
export async function writeCrosswalkFixture(engine: Engine, lake: Lake, tmpDir: string, rows: FixtureRow[]): Promise<string> {
  const path = `${silverDir('identity/crosswalk')}/part-0.parquet`;
  await writeRows(engine, lake, tmpDir, path, { TENANT_ID: 'VARCHAR', SOURCE_SYSTEM: 'VARCHAR', CUSTOMER_ID: 'VARCHAR', CUSTOMER360_ID: 'VARCHAR' }, rows);
  return path;
}

/** Writes a Gold dataset fixture (e.g. an intelligence output) for an as-of date with the given column types. */
export async function writeGoldFixture(engine: Engine, lake: Lake, tmpDir: string, dir: string, columns: Record<string, string>, rows: FixtureRow[]): Promise<string> {
  const path = `${dir}/part-00000.parquet`;
  await writeRows(engine, lake, tmpDir, path, columns, rows);
  return path;
}
