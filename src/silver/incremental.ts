// Incremental Silver: what a run has not seen yet, and how new rows merge into what is there.
// Staging consumes Bronze files (its state lists the visible Bronze files it has read); a compaction's output
// counts as consumed when every file it replaced was. Rows merge by key: of all versions of a key (the current row
// and the new ones) the latest ingest wins, ties broken by the greater Bronze record hash, exactly the order a full
// rebuild from Bronze uses (stagingSql), so merging day by day gives the rows a rebuild gives.
import type { TableContract } from '../../schemas/contract.ts';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import { CHECKS } from './checks.ts';
import type { Lake } from '../lake/lake.ts';
import { bronzeDataFiles, readBronzeState } from '../bronze/table-state.ts';
import { readDatasetSql, type DatasetState } from '../catalogue/partitioned.ts';
import { dedupeKey } from './standardise-table.ts';

/** A Bool parameter: 'true' (ADF renders True). */
export function truthy(v: string | undefined): boolean {
  return v !== undefined && v.toLowerCase() === 'true';
}

/** The visible Bronze files of a table and those not consumed yet by a staging state. */
export async function unseenBronze(lake: Lake, c: TableContract, state: DatasetState | undefined): Promise<{ visible: string[]; unseen: string[] }> {
  const bstate = await readBronzeState(lake, c);
  const visible = await bronzeDataFiles(lake, c, bstate);
  if (!state) return { visible, unseen: visible };
  const consumed = new Set((state.inputs.bronze as string[] | undefined) ?? []);
  for (const x of bstate.compactions) if (x.replaces.every((f) => consumed.has(f))) consumed.add(x.output);
  return { visible, unseen: visible.filter((f) => !consumed.has(f)) };
}

/** Equality of the key columns of `a` and `b`, null keys equal (as a window's PARTITION BY groups them). */
export function keyMatch(c: TableContract, a: string, b: string): string {
  return dedupeKey(c).map((k) => `${a}.${ident(k)} IS NOT DISTINCT FROM ${b}.${ident(k)}`).join(' AND ');
}

/** Window order of the versions of a key: the winner first. */
export const VERSION_ORDER = '_ingested_at DESC NULLS LAST, _bronze_record_hash DESC NULLS LAST';

/**
 * Merges temp table `fresh` (new rows, one per key, with `__p`) into the dataset described by `state`: creates
 * `merged` (the touched partitions' rows after the merge) and `changed` (every version of the keys in fresh) and
 * returns the touched partitions. `partition` is the partition SQL of a row.
 */
export async function mergeByKey(engine: Engine, lake: Lake, c: TableContract, state: DatasetState, partition: string): Promise<string[]> {
  const keys = dedupeKey(c).map(ident).join(', ');
  // Partitions holding a current version of a new key, from the key index (one compact file, not every partition).
  const index = await keyIndexSql(lake, c, state, partition);
  const hits = (await engine.all<{ p: string }>(`SELECT DISTINCT o.__p AS p FROM ${index} o SEMI JOIN fresh f ON ${keyMatch(c, 'o', 'f')}`)).map((r) => r.p);
  const freshParts = (await engine.all<{ p: string }>('SELECT DISTINCT __p AS p FROM fresh')).map((r) => r.p);
  const touched = [...new Set([...hits, ...freshParts])].sort();
  const curFiles = touched.flatMap((p) => state.partitions[p] ?? []);
  const cur = await readDatasetSql(lake, curFiles, `SELECT * EXCLUDE (__p) FROM fresh WHERE false`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE cur AS SELECT *, ${partition} AS __p FROM ${cur}`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE merged AS
SELECT * EXCLUDE (_rn) FROM (
  SELECT *, row_number() OVER (PARTITION BY ${keys} ORDER BY ${VERSION_ORDER}) AS _rn
  FROM (SELECT * FROM cur UNION ALL BY NAME SELECT * FROM fresh)
) WHERE _rn = 1`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE changed AS
SELECT * EXCLUDE (__p) FROM (SELECT * FROM cur UNION ALL BY NAME SELECT * FROM fresh) u SEMI JOIN fresh f ON ${keyMatch(c, 'u', 'f')}`);
  return touched;
}

/**
 * Columns of a staged table's key index: its key, and the columns incremental publishing looks rows up by (the
 * customer and anonymous ids, the columns its cross-table checks reach other tables through).
 */
export function keyIndexColumns(c: TableContract): string[] {
  const refs = [...Object.values(CHECKS[c.name]?.refs ?? {}), ...(CHECKS[c.name]?.self ?? [])];
  const has = (n: string) => c.columns.some((x) => x.name === n);
  return [...new Set([...dedupeKey(c), ...['CUSTOMER_ID', 'ANONYMOUS_ID'].filter(has), ...refs])];
}

/**
 * The key index of a staged dataset as a relation (key-index columns + __p): the file its state names, else (a lake
 * staged before the index existed) a scan of those columns over every partition.
 */
export async function keyIndexSql(lake: Lake, c: TableContract, state: DatasetState, partition: string): Promise<string> {
  const file = state.inputs.keyIndex as string | undefined;
  if (file && (await lake.exists(file))) return `read_parquet(${lit(await lake.localPath(file))})`;
  const cols = keyIndexColumns(c).map(ident).join(', ');
  const files = Object.values(state.partitions).flat();
  if (files.length === 0) return `(SELECT ${cols}, NULL::VARCHAR AS __p FROM fresh WHERE false)`;
  return `(SELECT ${cols}, ${partition} AS __p FROM ${await readDatasetSql(lake, files, '')})`;
}

/** The key index after a commit that rewrote `touched` with the rows of `merged` (written by the caller). */
export async function nextKeyIndexSql(lake: Lake, c: TableContract, state: DatasetState | undefined, partition: string, touched: readonly string[]): Promise<string> {
  const cols = keyIndexColumns(c).map(ident).join(', ');
  const fresh = `SELECT ${cols}, __p FROM merged`;
  if (!state) return fresh;
  const old = await keyIndexSql(lake, c, state, partition);
  return `SELECT ${cols}, __p FROM ${old} WHERE __p NOT IN (${touched.length ? touched.map(lit).join(', ') : "''"}) UNION ALL ${fresh}`;
}
