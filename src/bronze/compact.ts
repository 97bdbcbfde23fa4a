// Compaction of a table's small Bronze files (streaming micro-batches) into one file per ingest_date partition.
// Readers see either the small files or the compacted one, never both or neither: the compacted file is written
// under a `compact-` name that readers skip until the state names it, the state commit swaps the two sets at once
// (visibleFiles in table-state.ts), and the small files are deleted only after that commit. Rows are copied as they
// are (lineage columns included), and the copy's row count is checked against the sources before the commit.
import { createHash } from 'node:crypto';
import type { TableContract } from '../../schemas/contract.ts';
import { litList, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery } from '../lake/parquet.ts';
import { C360Error } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { join } from 'node:path';
import { withTableLock } from './dedupe-index.ts';
import { bronzeDirOf } from './paths.ts';
import { COMPACT_PREFIX, readBronzeState, visibleFiles, writeBronzeState } from './table-state.ts';

export interface CompactOptions {
  /** Files smaller than this are compacted (default 16 MiB). */
  smallBytes?: number;
  /** A partition is compacted once it holds at least this many small files (default 8). */
  minFiles?: number;
  tmpDir: string;
}

export interface CompactResult {
  /** Compacted files written, with the number of files and rows each replaced. */
  compacted: { output: string; files: number; rows: number }[];
}

const dirOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
const nameOf = (p: string) => p.slice(p.lastIndexOf('/') + 1);

export async function compactBronze(engine: Engine, lake: Lake, c: TableContract, o: CompactOptions): Promise<CompactResult> {
  const smallBytes = o.smallBytes ?? 16 * 1024 * 1024;
  const minFiles = o.minFiles ?? 8;
  return withTableLock(lake, c, async () => {
    const result: CompactResult = { compacted: [] };
    const state = await readBronzeState(lake, c);
    const listed = await lake.list(bronzeDirOf(c));
    const outputs = new Set(state.compactions.map((x) => x.output));
    // Leftovers of a compaction that crashed before its commit: never visible, safe to remove.
    for (const f of listed) if (nameOf(f.path).startsWith(COMPACT_PREFIX) && !outputs.has(f.path)) await lake.delete(f.path);
    // Leftovers of a compaction that crashed after its commit: replaced files, already invisible.
    const replaced = new Set(state.compactions.flatMap((x) => x.replaces));
    for (const f of listed) if (replaced.has(f.path)) await lake.delete(f.path);
    const visible = new Set(visibleFiles(listed.map((f) => f.path), state));
    const groups = new Map<string, string[]>();
    for (const f of listed) {
      if (!visible.has(f.path) || f.size >= smallBytes || nameOf(f.path).startsWith(COMPACT_PREFIX)) continue;
      (groups.get(dirOf(f.path)) ?? groups.set(dirOf(f.path), []).get(dirOf(f.path))!).push(f.path);
    }
    for (const [dir, files] of groups) {
      if (files.length < minFiles) continue;
      files.sort();
      const local = await Promise.all(files.map((f) => lake.localPath(f)));
      const src = `read_parquet(${litList(local)}, union_by_name = true)`;
      const expected = Number(await engine.scalar(`SELECT count(*) FROM ${src}`));
      const output = `${dir}/${COMPACT_PREFIX}${createHash('md5').update(files.join('\n')).digest('hex').slice(0, 16)}.parquet`;
      const rows = await commitQuery(engine, lake, `SELECT * FROM ${src}`, output, { tmpDir: o.tmpDir });
      if (rows !== expected) throw new C360Error(`Compaction of ${files.length} files in ${dir} wrote ${rows} rows, expected ${expected}; nothing was committed`);
      // The index: the output is covered when one index file covered every file it replaces (its hashes are exactly
      // theirs); otherwise it is read directly until the next ingest folds it in.
      const sources = new Set(files);
      const home = state.index.find((i) => files.every((f) => i.covers.includes(f)));
      for (const i of state.index) i.covers = i.covers.filter((f) => !sources.has(f));
      home?.covers.push(output);
      // The output's event-date range: that of the files it replaces, when every one is known.
      const ranges = files.map((f) => state.dates?.[f]);
      if (state.dates) for (const f of files) delete state.dates[f];
      if (ranges.length && ranges.every((r) => r)) {
        state.dates = { ...state.dates, [output]: [ranges.map((r) => r![0]).sort()[0]!, ranges.map((r) => r![1]).sort().at(-1)!] };
      }
      state.compactions.push({ output, replaces: files });
      await writeBronzeState(lake, c, state);
      for (const f of files) await lake.delete(f);
      result.compacted.push({ output, files: files.length, rows });
    }
    return result;
  });
}

/** Compacts each table inside a job; returns the small files replaced per table (also logged). */
export async function compactTables(ctx: JobContext, contracts: readonly TableContract[], o: Omit<CompactOptions, 'tmpDir'> = {}): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (contracts.length === 0) return out;
  const engine = await ctx.openEngine();
  try {
    for (const c of contracts) {
      const r = await compactBronze(engine, ctx.lake, c, { ...o, tmpDir: join(ctx.home, 'tmp', 'bronze') });
      const files = r.compacted.reduce((n, x) => n + x.files, 0);
      if (files === 0) continue;
      out[c.name] = files;
      ctx.report.outputs.push(...r.compacted.map((x) => x.output));
      ctx.log.info(`${c.name} compacted`, { files, into: r.compacted.length });
    }
  } finally {
    engine.close();
  }
  return out;
}
