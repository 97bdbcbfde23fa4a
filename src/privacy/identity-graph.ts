// Erasure in the persisted identity graph (src/identity/graph.ts: one DuckDB file): the copy the pipeline keeps in
// the lake (silver/customer360/identity/graph, src/silver/identity-graph-lake.ts) and any graph folder named with
// `c360 forget --identity-state DIR` (what `c360 resolve --incremental --state DIR` uses). Without this, the next
// incremental link would match a new record against the erased person's stored match keys.
//
// The person's records (by customer id or CUSTOMER360_ID), their raw values, every edge touching them, the retired-id
// pointers naming them, the change events naming them and the overrides naming their records are deleted; the file
// is then copied into a fresh database (COPY FROM DATABASE), so no deleted value lingers in free blocks, and that copy
// replaces the graph: in the lake as a new graph file named by the marker (the graph's own commit protocol), in a
// folder by an atomic rename. Uses the temp table erase_values of the erasure (src/privacy/erasure.ts).
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ident, lit, type Engine } from '../engine/duckdb.ts';
import { GRAPH_FILE } from '../identity/graph.ts';
import type { Lake } from '../lake/lake.ts';
import { checkoutGraph, commitGraph, GRAPH_STATE, readGraphState } from '../silver/identity-graph-lake.ts';
import { COLUMN_KINDS, matchPredicate } from './erasure.ts';
import { sha256 } from './identifiers.ts';

export interface GraphErasure {
  /** Rows per table before, and removed. */
  rowsBefore: number;
  rowsRemoved: number;
  /** Rows of the erased copy (the file that is committed) still naming them: 0. */
  hitsAfter: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Per table of the attached graph `alias`: the predicate matching the person's rows (undefined: none can). */
async function graphPredicates(engine: Engine, alias: string): Promise<Map<string, string>> {
  const cols = await engine.all<{ t: string; c: string; ty: string }>(
    `SELECT table_name AS t, column_name AS c, data_type AS ty FROM information_schema.columns WHERE table_catalog = ${lit(alias)} AND table_schema = 'main'`,
  );
  const byTable = new Map<string, Map<string, string>>();
  for (const r of cols) {
    if (!byTable.has(r.t)) byTable.set(r.t, new Map());
    // The graph names columns in lower case; the identifier kinds are keyed in upper case (DuckDB resolves either).
    byTable.get(r.t)!.set(COLUMN_KINDS[r.c.toUpperCase()] ? r.c.toUpperCase() : r.c, r.ty);
  }
  // Change events are JSON (before/after ids, records' customer ids): a quoted value of theirs anywhere in the text.
  const quoted = (await engine.all<{ v: string }>(`SELECT DISTINCT v FROM erase_values WHERE kind IN ('c360', 'customer') AND length(v) >= 3`)).map((r) => escapeRe(r.v));
  const eventRe = quoted.length ? `"(${quoted.join('|')})"` : undefined;
  const out = new Map<string, string>();
  for (const [t, cs] of byTable) {
    const parts: string[] = [];
    const p = matchPredicate(cs);
    if (p) parts.push(p);
    for (const c of ['rid', 'rid_l', 'rid_r']) if (cs.has(c)) parts.push(`${ident(c)} IN (SELECT rid FROM erase_graph_rids)`);
    if (cs.has('EVENT') && eventRe) parts.push(`regexp_matches(lower(CAST("EVENT" AS VARCHAR)), ${lit(eventRe)})`);
    if (parts.length) out.set(t, `COALESCE((${parts.join(' OR ')}), false)`);
  }
  return out;
}

/** Rows of the attached graph that still name the person (0 after an erasure). */
export async function graphHits(engine: Engine, alias: string): Promise<number> {
  await loadRids(engine, alias);
  let hits = 0;
  for (const [t, pred] of await graphPredicates(engine, alias)) hits += Number(await engine.scalar(`SELECT count(*) FROM ${alias}.${ident(t)} WHERE ${pred}`));
  return hits;
}

/** The person's record ids in the graph (edges and raw values are keyed by them). */
async function loadRids(engine: Engine, alias: string): Promise<void> {
  const hasRecords = Number(await engine.scalar(`SELECT count(*) FROM information_schema.tables WHERE table_catalog = ${lit(alias)} AND table_name = 'records'`)) > 0;
  const cols = hasRecords ? new Map([['CUSTOMER_ID', 'VARCHAR'], ['CUSTOMER360_ID', 'VARCHAR']]) : undefined;
  const pred = cols ? matchPredicate(cols) : undefined;
  await engine.run(`CREATE OR REPLACE TEMP TABLE erase_graph_rids AS ${pred ? `SELECT rid FROM ${alias}.records WHERE ${pred}` : 'SELECT CAST(NULL AS VARCHAR) AS rid WHERE false'}`);
}

/**
 * Deletes the person's rows from a local graph file and compacts it into `out` (a fresh database holding only the
 * remaining rows). Returns the counts, or undefined when the graph holds nothing of theirs (no file written).
 */
async function eraseGraphFile(engine: Engine, file: string, out: string): Promise<GraphErasure | undefined> {
  const alias = `gr_${randomUUID().slice(0, 8)}`;
  await engine.run(`ATTACH ${lit(file)} AS ${alias}`);
  let result: GraphErasure | undefined;
  try {
    await loadRids(engine, alias);
    const preds = await graphPredicates(engine, alias);
    let before = 0;
    let removed = 0;
    for (const [t, pred] of preds) {
      const c = (await engine.all<{ h: unknown; n: unknown }>(`SELECT count(*) FILTER (WHERE ${pred}) AS h, count(*) AS n FROM ${alias}.${ident(t)}`))[0]!;
      before += Number(c.n);
      removed += Number(c.h);
    }
    if (removed === 0) return undefined;
    await engine.run('BEGIN TRANSACTION');
    try {
      for (const [t, pred] of preds) await engine.run(`DELETE FROM ${alias}.${ident(t)} WHERE ${pred}`);
      await engine.run('COMMIT');
    } catch (e) {
      await engine.run('ROLLBACK');
      throw e;
    }
    // A fresh file: deleted rows must not survive in free blocks of the old one.
    await rm(out, { force: true });
    const fresh = `${alias}_new`;
    await engine.run(`ATTACH ${lit(out)} AS ${fresh}`);
    let hitsAfter: number;
    try {
      await engine.run(`COPY FROM DATABASE ${alias} TO ${fresh}`);
      // Verified on the copy that is committed (the same bytes, gzipped in the lake): no second download later.
      hitsAfter = await graphHits(engine, fresh);
    } finally {
      await engine.run(`DETACH ${fresh}`);
    }
    result = { rowsBefore: before, rowsRemoved: removed, hitsAfter };
  } finally {
    await engine.run(`DETACH ${alias}`);
  }
  return result;
}

export interface GraphObject {
  store: 'graph';
  path: string;
  rowsBefore: number;
  rowsRemoved: number;
  rowsAfter: number;
  checksumBefore: string;
  checksumAfter: string;
  action: 'rewritten';
}

/** The lake's identity graph: erased on a private copy, committed as the next graph file. */
export async function eraseLakeGraph(engine: Engine, lake: Lake, scratch: string, requestId: string, beforeCommit: (o: GraphObject) => Promise<void>, verified?: (hits: number) => void): Promise<GraphObject | undefined> {
  const state = await readGraphState(lake);
  if (!state) return undefined;
  const checksumBefore = sha256(await lake.read(state.graph));
  const checkout = await checkoutGraph(lake, scratch);
  try {
    const local = join(checkout.dir, GRAPH_FILE);
    const out = join(checkout.dir, `erased-${GRAPH_FILE}`);
    const r = await eraseGraphFile(engine, local, out);
    if (!r) {
      // Nothing of theirs in the current graph: that scan is its verification.
      verified?.(0);
      return undefined;
    }
    await rename(out, local);
    await rm(`${local}.wal`, { force: true });
    const o: GraphObject = { store: 'graph', path: GRAPH_STATE, rowsBefore: r.rowsBefore, rowsRemoved: r.rowsRemoved, rowsAfter: r.rowsBefore - r.rowsRemoved, checksumBefore, checksumAfter: '', action: 'rewritten' };
    await beforeCommit(o);
    const next = await commitGraph(lake, checkout, { inputs: state.inputs, runId: requestId, graphChanged: true });
    o.checksumAfter = sha256(await lake.read(next.graph));
    verified?.(r.hitsAfter);
    return o;
  } finally {
    await checkout.release();
  }
}

/** A graph folder outside the lake (c360 resolve --incremental --state DIR): erased, then replaced by a rename. */
export async function eraseGraphFolder(engine: Engine, dir: string, beforeCommit: (o: GraphObject) => Promise<void>): Promise<GraphObject | undefined> {
  const file = join(resolve(dir), GRAPH_FILE);
  if (!existsSync(file)) return undefined;
  const checksumBefore = sha256(await readFile(file));
  const out = join(resolve(dir), `erase-${randomUUID()}.duckdb`);
  try {
    const r = await eraseGraphFile(engine, file, out);
    if (!r) return undefined;
    const o: GraphObject = { store: 'graph', path: file, rowsBefore: r.rowsBefore, rowsRemoved: r.rowsRemoved, rowsAfter: r.rowsBefore - r.rowsRemoved, checksumBefore, checksumAfter: sha256(await readFile(out)), action: 'rewritten' };
    await beforeCommit(o);
    await rm(`${file}.wal`, { force: true });
    await rename(out, file);
    return o;
  } finally {
    await rm(out, { force: true });
  }
}

/** Rows naming the person in the lake's current graph (verification after the erasure). */
export async function lakeGraphHits(engine: Engine, lake: Lake, scratch: string): Promise<number | undefined> {
  return withLakeGraph(lake, scratch, (file) => folderGraphHits(engine, file));
}

/** Runs `fn` on a private, decompressed copy of the lake's current graph; undefined when the lake has none. */
async function withLakeGraph<T>(lake: Lake, scratch: string, fn: (file: string) => Promise<T>): Promise<T | undefined> {
  const state = await readGraphState(lake);
  if (!state) return undefined;
  const local = join(scratch, `graph-${randomUUID()}.duckdb`);
  await pipeline(createReadStream(await lake.localPath(state.graph)), createGunzip(), createWriteStream(local));
  try {
    return await fn(local);
  } finally {
    await rm(local, { force: true });
    await rm(`${local}.wal`, { force: true });
  }
}

/** The person's rows in the lake's identity graph, per table (subject access): what an erasure would delete. */
export async function lakeGraphRows(engine: Engine, lake: Lake, scratch: string): Promise<Array<{ table: string; rows: Record<string, unknown>[] }>> {
  const found = await withLakeGraph(lake, scratch, async (file) => {
    const alias = `gx_${randomUUID().slice(0, 8)}`;
    await engine.run(`ATTACH ${lit(file)} AS ${alias} (READ_ONLY)`);
    try {
      await loadRids(engine, alias);
      const out: Array<{ table: string; rows: Record<string, unknown>[] }> = [];
      for (const [t, pred] of [...(await graphPredicates(engine, alias))].sort(([a], [b]) => a.localeCompare(b))) {
        const rows = await engine.all<Record<string, unknown>>(`SELECT * FROM ${alias}.${ident(t)} WHERE ${pred}`);
        if (rows.length) out.push({ table: t, rows });
      }
      return out;
    } finally {
      await engine.run(`DETACH ${alias}`);
    }
  });
  return found ?? [];
}

export async function folderGraphHits(engine: Engine, file: string): Promise<number> {
  const alias = `gv_${randomUUID().slice(0, 8)}`;
  await engine.run(`ATTACH ${lit(file)} AS ${alias} (READ_ONLY)`);
  try {
    return await graphHits(engine, alias);
  } finally {
    await engine.run(`DETACH ${alias}`);
  }
}
