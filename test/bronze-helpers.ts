// Shared fixtures for the Bronze tests: drops written to a temp folder, ingested into a temp lake, read back.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, lit, type Row } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { ingestRelation, type IngestOptions, type IngestResult } from '../src/bronze/ingest.ts';

export async function tempDir(prefix = 'c360-bronze-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export interface Ingested {
  result: IngestResult;
  bronze: Row[];
  quarantine: Row[];
  lake: LocalLake;
  dir: string;
}

/** Reads the committed outputs of one result (rows in file order). */
export async function outputsOf(engine: Engine, lake: LocalLake, result: IngestResult): Promise<{ bronze: Row[]; quarantine: Row[] }> {
  const read = async (kind: string) => {
    const path = result.outputs.find((o) => o.startsWith(kind));
    return path ? engine.all(`SELECT * FROM read_parquet(${lit(await lake.localPath(path))})`) : [];
  };
  return { bronze: await read('bronze/'), quarantine: await read('quarantine/') };
}

/** Writes `content` as `<dir>/<name>` and ingests it for `table` into a fresh lake (or the given one). */
export async function ingestText(
  engine: Engine,
  table: string,
  name: string,
  content: string,
  extra: Partial<IngestOptions> & { lake?: LocalLake; dir?: string } = {},
): Promise<Ingested> {
  const dir = extra.dir ?? (await tempDir());
  const file = join(dir, name);
  await writeFile(file, content);
  const lake = extra.lake ?? new LocalLake(join(dir, 'lake'));
  const { lake: _l, dir: _d, ...options } = extra;
  const result = await ingestRelation(engine, lake, { table, source: { file }, loadId: 'L1', ingestDate: '2026-01-01', ...options });
  return { result, ...(await outputsOf(engine, lake, result)), lake, dir };
}

/** A CSV document from a header and rows (values are written verbatim; quote them yourself when needed). */
export function csv(header: string[], rows: string[][]): string {
  return [header.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** `_reasons` of quarantine rows keyed by their first column value. */
export function reasonsBy(rows: Row[], key: string): Record<string, string[]> {
  return Object.fromEntries(rows.map((r) => [String(r[key]), [...(r._reasons as string[])].sort()]));
}
