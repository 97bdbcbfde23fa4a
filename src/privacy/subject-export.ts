// `c360 subject-export`: everything held about a person, as one JSON document: the same resolution and row matching
// as an erasure (src/privacy/erasure.ts), reading instead of rewriting. Per object (lake file or warehouse table) the
// layer, the source system of each record where the rows say it, and the rows themselves.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join, relative, sep } from 'node:path';
import { Engine, lit } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { owned } from '../runtime/tmp.ts';
import { GRAPH_STATE } from '../silver/identity-graph-lake.ts';
import { columnsOf, filesUnder, lakeParquet, lineMatcher, loadValues, matchPredicate, parquet, resolveSubjects, warehouseTables } from './erasure.ts';
import { lakeGraphRows } from './identity-graph.ts';
import type { Subject } from './identifiers.ts';

export interface SubjectExport {
  exportVersion: 1;
  exportedAt: string;
  subjects: Subject[];
  people: string[];
  /** Records per layer (bronze, quarantine, silver, gold, warehouse, ...). */
  counts: Record<string, number>;
  objects: Array<{ layer: string; object: string; sourceSystems: string[]; rows: Record<string, unknown>[] }>;
}

const jsonSafe = (v: unknown): unknown =>
  typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.map(jsonSafe) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)])) : v;

export async function subjectExport(o: { home: string; lake: Lake; subjects: Subject[] }): Promise<SubjectExport> {
  const engine = await Engine.open();
  try {
    const { people, values } = await resolveSubjects(engine, o.lake, o.subjects);
    await loadValues(engine, values);
    const out: SubjectExport = { exportVersion: 1, exportedAt: new Date().toISOString(), subjects: o.subjects, people, counts: {}, objects: [] };
    const add = async (layer: string, object: string, relation: string, cols: Map<string, string>) => {
      const pred = matchPredicate(cols);
      if (!pred) return;
      const rows = (await engine.all<Record<string, unknown>>(`SELECT * FROM ${relation} WHERE ${pred}`)).map((r) => jsonSafe(r) as Record<string, unknown>);
      if (!rows.length) return;
      const sys = cols.has('_source_system') ? '_source_system' : cols.has('SOURCE_SYSTEM') ? 'SOURCE_SYSTEM' : undefined;
      const sourceSystems = sys ? [...new Set(rows.map((r) => String(r[sys] ?? '')).filter(Boolean))].sort() : [];
      out.objects.push({ layer, object, sourceSystems, rows });
      out.counts[layer] = (out.counts[layer] ?? 0) + rows.length;
    };
    for (const path of await lakeParquet(o.lake)) {
      const rel = parquet([await o.lake.localPath(path)]);
      await add(path.split('/')[0]!, path, rel, await columnsOf(engine, `(SELECT * FROM ${rel})`));
    }
    // The identity graph the pipeline keeps (its records, raw values, edges, events naming them).
    const scratch = join(o.home, 'tmp', 'privacy', owned(randomUUID()));
    await mkdir(scratch, { recursive: true });
    try {
      for (const g of await lakeGraphRows(engine, o.lake, scratch)) {
        const rows = g.rows.map((r) => jsonSafe(r) as Record<string, unknown>);
        out.objects.push({ layer: 'identity-graph', object: `${GRAPH_STATE}#${g.table}`, sourceSystems: [...new Set(rows.map((r) => String(r.source_system ?? '')).filter(Boolean))].sort(), rows });
        out.counts['identity-graph'] = (out.counts['identity-graph'] ?? 0) + rows.length;
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
    // Stream spool lines not yet committed (what an erasure drops from it).
    const matches = lineMatcher(values);
    for (const file of await filesUnder(join(o.home, 'tmp', 'stream'), ['.ndjson', '.json'])) {
      const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l && matches(l));
      if (!lines.length) continue;
      const rows = lines.map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return { line: l };
        }
      });
      out.objects.push({ layer: 'spool', object: relative(o.home, file).split(sep).join('/'), sourceSystems: [], rows });
      out.counts.spool = (out.counts.spool ?? 0) + rows.length;
    }
    const wh = join(o.home, 'warehouse.duckdb');
    if (existsSync(wh)) {
      await engine.run(`ATTACH ${lit(wh)} AS wh (READ_ONLY)`);
      try {
        for (const [q, cols] of await warehouseTables(engine)) await add('warehouse', q.replace(/^wh\./, ''), q, cols);
      } finally {
        await engine.run('DETACH wh');
      }
    }
    return out;
  } finally {
    engine.close();
  }
}
