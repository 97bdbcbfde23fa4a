// The one runner every dataset job goes through. It owns what each job used to repeat: the as-of date (resolved once
// by the pipeline or `c360 job`, read here from the job context), the as-of cut of the Silver inputs, shaping each
// output to its declaration (column names, order and types), the atomic write into the dataset's lake folder, row
// counts and the job report.
import { join } from 'node:path';
import type { Engine } from '../engine/duckdb.ts';
import { ident } from '../engine/duckdb.ts';
import { commitQuery, pruneOthers } from '../lake/parquet.ts';
import { resolveAsOf } from '../runtime/as-of.ts';
import { UsageError } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { duckType, type ComputeParams, type Dataset } from './dataset.ts';

/** File name of a dataset's single file per folder. */
export const DATASET_FILE = 'part-00000.parquet';

export const DEFAULT_ATTRIBUTION_WINDOW_DAYS = 7;

/** The as-of date of a job: the one the pipeline or `c360 job` resolved, else resolved here by the same rule. */
export async function jobAsOf(ctx: JobContext): Promise<string> {
  if (!ctx.asOf) {
    ctx.asOf = (await resolveAsOf({ param: ctx.params.asOf, lake: ctx.lake, openEngine: () => ctx.openEngine() })).asOf;
  } else if (ctx.params.asOf && ctx.params.asOf !== ctx.asOf) {
    throw new UsageError(`The run's as-of date is ${ctx.asOf} but the job was given asOf=${ctx.params.asOf}: a run has one as-of date`);
  }
  ctx.report.metrics.asOf = ctx.asOf;
  return ctx.asOf;
}

export function computeParams(ctx: JobContext, asOf: string): ComputeParams {
  const raw = ctx.params.attributionWindowDays;
  const w = raw === undefined || raw === '' ? DEFAULT_ATTRIBUTION_WINDOW_DAYS : Number(raw);
  if (!Number.isInteger(w) || w <= 0) throw new UsageError(`attributionWindowDays must be a positive whole number of days, got '${raw}'`);
  return { asOf, attributionWindowDays: w };
}

/** Where one write of a dataset goes: the as-of folder of a snapshot, else the dataset's folder. */
export function datasetFile(ds: Dataset, o: { asOf?: string; part?: string } = {}): { dir: string; path: string } {
  let dir = ds.path;
  if (ds.maintenance === 'snapshot' || ds.parts) {
    if (!o.asOf) throw new Error(`${ds.name}: a snapshot needs an as-of date to be written`);
    dir = `${ds.path}/as_of_date=${o.asOf}`;
  }
  if (ds.parts && (!o.part || !(o.part in ds.parts))) throw new Error(`${ds.name}: written in parts (${Object.keys(ds.parts).join(', ')}), got part '${o.part}'`);
  const file = o.part ? `${o.part}.parquet` : ds.layer === 'silver' ? 'part-0.parquet' : DATASET_FILE;
  return { dir, path: `${dir}/${file}` };
}

/**
 * The query shaped to the declaration: exactly the declared columns in declared order, cast where the computed type
 * differs. A missing or undeclared column is an error naming the dataset and the columns.
 */
export async function conformSql(engine: Engine, ds: Dataset, query: string): Promise<string> {
  const described = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE (${query})`);
  const have = new Map(described.map((r) => [r.column_name, r.column_type]));
  const declared = ds.columns.map((c) => c.name);
  const missing = declared.filter((c) => !have.has(c));
  const extra = described.map((r) => r.column_name).filter((c) => !declared.includes(c));
  if (missing.length || extra.length) {
    throw new Error(
      `${ds.name}: computed columns do not match the declaration (src/catalogue)` +
        `${missing.length ? `; missing: ${missing.join(', ')}` : ''}${extra.length ? `; not declared: ${extra.join(', ')}` : ''}`,
    );
  }
  const same = described.every((r, i) => r.column_name === declared[i] && r.column_type === duckType(ds.columns[i]!.type));
  if (same) return query;
  const cols = ds.columns.map((c) => {
    const want = duckType(c.type);
    return have.get(c.name) === want ? ident(c.name) : `CAST(${ident(c.name)} AS ${want}) AS ${ident(c.name)}`;
  });
  return `SELECT ${cols.join(', ')} FROM (${query})`;
}

/** An empty relation with the declared columns. */
export function emptySql(ds: Dataset): string {
  return `SELECT ${ds.columns.map((c) => `CAST(NULL AS ${duckType(c.type)}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
}

export interface WriteOptions {
  asOf?: string;
  /** For datasets written in parts: this job's file. */
  part?: string;
  compression?: 'zstd' | 'snappy';
}

/**
 * Writes one dataset: shape the query to the declaration, COPY it to a temp file, commit atomically into the dataset's
 * folder and remove the folder's other files (a part leaves its siblings), report outputs and row counts.
 */
export async function writeDataset(ctx: JobContext, engine: Engine, ds: Dataset, query: string, o: WriteOptions = {}): Promise<{ path: string; rows: number }> {
  const { dir, path } = datasetFile(ds, o);
  const shaped = await conformSql(engine, ds, query);
  const rows = await commitQuery(engine, ctx.lake, shaped, path, { tmpDir: join(ctx.home, 'tmp', ds.layer), compression: o.compression });
  if (!ds.parts) await pruneOthers(ctx.lake, dir, path);
  ctx.report.outputs.push(path);
  const key = o.part ? `${ds.name}.${o.part}` : ds.name;
  ctx.report.rowCounts[key] = (ctx.report.rowCounts[key] ?? 0) + rows;
  return { path, rows };
}
