// `c360 subject-export`: everything held about a person, as one JSON document: the same resolution and row matching
// as an erasure (src/privacy/erasure.ts), reading instead of rewriting. Per object (lake file or warehouse table) the
// layer, the source system of each record where the rows say it, and the rows themselves.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, lit } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { columnsOf, lakeParquet, loadValues, matchPredicate, parquet, resolveSubjects, warehouseTables } from './erasure.ts';
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
