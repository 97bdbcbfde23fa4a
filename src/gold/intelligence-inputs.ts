// Reads the Gold datasets the intelligence part writes (product_recommendations, model_registry, risk_scores,
// customer_segments): their expected columns, and temp tables for the personalization datasets.
import { duckType } from '../catalogue/dataset.ts';
import { ident, litList, type Engine } from '../engine/duckdb.ts';
import { INTELLIGENCE_DATASETS } from '../intelligence/datasets.ts';
import type { Lake } from '../lake/lake.ts';
import { goldDir } from './paths.ts';
import { parquetFiles } from '../lake/parquet.ts';

/** Columns (DuckDB types) of the intelligence datasets, from their catalogue declarations. */
export const INTELLIGENCE_COLUMNS: Record<string, Record<string, string>> = Object.fromEntries(
  INTELLIGENCE_DATASETS.map((d) => [d.name, Object.fromEntries(d.columns.map((c) => [c.name, duckType(c.type)]))]),
);

/** SELECT of a dataset's expected columns from files (cast; null when a column is absent), or an empty relation. */
export async function selectExpected(engine: Engine, lake: Lake, dataset: string, files: string[]): Promise<string> {
  const cols = INTELLIGENCE_COLUMNS[dataset];
  if (!cols) throw new Error(`Unknown intelligence dataset '${dataset}'`);
  if (files.length === 0) return `SELECT ${Object.entries(cols).map(([c, t]) => `CAST(NULL AS ${t}) AS ${ident(c)}`).join(', ')} WHERE false`;
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  const src = `read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = true)`;
  const present = new Set((await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${src}`)).map((r) => r.column_name));
  const list = Object.entries(cols).map(([c, t]) => {
    if (present.has(c)) return `CAST(${ident(c)} AS ${t}) AS ${ident(c)}`;
    // The folder's as_of_date stands in for a missing AS_OF_DATE column.
    if (c === 'AS_OF_DATE' && present.has('as_of_date')) return `CAST(as_of_date AS DATE) AS AS_OF_DATE`;
    return `CAST(NULL AS ${t}) AS ${ident(c)}`;
  });
  return `SELECT ${list.join(', ')} FROM ${src}`;
}

/** Files of an intelligence dataset for one as-of date. */
export async function intelligenceFiles(lake: Lake, dataset: string, asOf: string): Promise<string[]> {
  return parquetFiles(lake, goldDir(dataset, asOf));
}

/** Registers g_recs (this as-of) and g_registry (g_recs_history: registerRecommendationHistory, for the runs needed). */
export async function registerRecommendationInputs(engine: Engine, lake: Lake, asOf: string): Promise<{ files: string[] }> {
  const current = await intelligenceFiles(lake, 'product_recommendations', asOf);
  const registry = await intelligenceFiles(lake, 'model_registry', asOf);
  await engine.run(`CREATE OR REPLACE TEMP TABLE g_recs AS ${await selectExpected(engine, lake, 'product_recommendations', current)}`);
  await engine.run(`CREATE OR REPLACE TEMP TABLE g_registry AS SELECT * FROM (${await selectExpected(engine, lake, 'model_registry', registry)}) QUALIFY row_number() OVER (PARTITION BY MODEL_VERSION ORDER BY TRAINED_AT DESC NULLS LAST, MODEL_NAME) = 1`);
  return { files: [...current, ...registry] };
}

/** Registers g_recs_history: the product_recommendations of the given runs (as-of dates). Returns the files read. */
export async function registerRecommendationHistory(engine: Engine, lake: Lake, runs: readonly string[]): Promise<string[]> {
  const files = (await Promise.all(runs.map((r) => intelligenceFiles(lake, 'product_recommendations', r)))).flat();
  await engine.run(`CREATE OR REPLACE TEMP TABLE g_recs_history AS ${await selectExpected(engine, lake, 'product_recommendations', files)}`);
  return files;
}
