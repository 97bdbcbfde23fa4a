// Daily recommendations rank again only the customers whose own inputs changed. Between trainings a run ranks with
// the stored tuning; each customer's list depends on the customer's own inputs (purchase lines, the last 90 days'
// views, returns, stated preferences) and on global signals (item similarity, popularity, the catalogue). Every run
// stores a fingerprint of each customer's own inputs; the next run ranks again the customers whose fingerprint
// differs (or who are new), with today's global signals, and keeps every other customer's rows from the previous
// output. A kept list is the one ranked when the customer's inputs last changed (at the latest, the last training:
// a training run ranks everyone), so it does not follow the global signals' daily drift until then.
import { litList, type Engine } from '../engine/duckdb.ts';
import { goldDir } from '../gold/paths.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { commitQuery, parquetFiles } from '../lake/parquet.ts';
import type { JobContext } from '../runtime/job.ts';
import { baselineRecommendations, productRecommendations } from './datasets.ts';
import type { SignalInputs } from './recommend-signals.ts';
import { MODELS_ROOT } from './trained-models.ts';

const JOB = 'gold-intelligence-recommendations';
const statePath = joinLake(MODELS_ROOT, JOB, 'ranked.json');
const fingerprintsPath = (seq: number) => joinLake(MODELS_ROOT, JOB, `ranked-fingerprints-${seq}.parquet`);

/** What the last run ranked: its as-of date and model version, and the customers' input fingerprints it ranked from. */
export interface RankedState {
  seq: number;
  asOf: string;
  modelVersion: string;
  /** Parquet (CUSTOMER360_ID, FP, N) of every customer of that run's population. */
  fingerprints: string;
}

export async function readRanked(lake: Lake): Promise<RankedState | undefined> {
  if (!(await lake.exists(statePath))) return undefined;
  return JSON.parse((await lake.read(statePath)).toString('utf8')) as RankedState;
}

/**
 * `<table>` (CUSTOMER360_ID, FP, N): a fingerprint of each population customer's own signal inputs as of `asOf` (a
 * sum of row hashes mod 2^64 and a row count; 0, 0 for a customer without any). Cast to fixed types: the training run's
 * inputs (Silver) and the daily run's (the model aggregates) must give the same hashes for the same rows.
 */
export async function fingerprintInputs(engine: Engine, table: string, population: string, inputs: SignalInputs, asOf: string): Promise<void> {
  const D = `DATE '${asOf}'`;
  const h = (cols: string[]) => `hash(${cols.join(', ')})::HUGEINT`;
  await engine.run(`CREATE OR REPLACE TABLE ${table} AS
    WITH rows AS (
      SELECT CUSTOMER360_ID, ${h(["'line'", 'TX_DATE::DATE', 'PRODUCT_ID::VARCHAR', 'CATEGORY::VARCHAR', 'BRAND::VARCHAR', 'PRODUCT_NAME::VARCHAR', 'N::BIGINT'])} AS H
        FROM ${inputs.lines} WHERE TX_DATE <= ${D}
      UNION ALL
      SELECT CUSTOMER360_ID, ${h(["'view'", 'EVENT_DATE::DATE', 'PRODUCT_ID::VARCHAR', 'CATEGORY::VARCHAR', 'N::BIGINT'])}
        FROM ${inputs.views} WHERE CUSTOMER360_ID IS NOT NULL AND EVENT_DATE <= ${D} AND EVENT_DATE > ${D} - INTERVAL 90 DAY
      UNION ALL
      SELECT CUSTOMER360_ID, ${h(["'return'", 'PRODUCT_ID::VARCHAR'])}
        FROM (SELECT DISTINCT CUSTOMER360_ID, PRODUCT_ID FROM ${inputs.returns} WHERE TX_DATE <= ${D})
      UNION ALL
      SELECT CUSTOMER360_ID, ${h(["'preference'", 'PREFERENCE_DATE::DATE', 'PREFERENCE_TYPE::VARCHAR', 'PREFERENCE_VALUE::VARCHAR', 'STRENGTH::DOUBLE'])}
        FROM ${inputs.prefs} WHERE PREFERENCE_DATE <= ${D} AND PREFERENCE_TYPE IN ('CATEGORY', 'BRAND', 'PRODUCT')),
    f AS (SELECT CUSTOMER360_ID, CAST(sum(H) % 18446744073709551616 AS UBIGINT) AS FP, count(*) AS N FROM rows GROUP BY 1)
    SELECT p.CUSTOMER360_ID, coalesce(f.FP, 0)::UBIGINT AS FP, coalesce(f.N, 0)::BIGINT AS N
    FROM (SELECT DISTINCT CUSTOMER360_ID FROM ${population}) p LEFT JOIN f USING (CUSTOMER360_ID)`);
}

export interface RerankPlan {
  /** Relation of the CUSTOMER360_IDs to rank again; undefined: rank everyone. */
  only?: string;
  /** Engine tables of the previous output's rows kept (product and baseline recommendations, every column). */
  keep?: { product: string; baseline: string };
  reason: string;
  previousAsOf?: string;
}

/**
 * Which customers this run ranks again (see the header), from the fingerprints in `fingerprints` (fingerprintInputs)
 * and the last run's state; the previous output's rows of everyone else go to the `keep` tables.
 */
export async function planRerank(engine: Engine, lake: Lake, o: { asOf: string; modelVersion: string; fingerprints: string; prefix: string }): Promise<RerankPlan> {
  const prev = await readRanked(lake);
  if (!prev) return { reason: 'no earlier ranking: every customer' };
  if (prev.modelVersion !== o.modelVersion) return { reason: `model ${o.modelVersion} differs from the last ranking's ${prev.modelVersion}: every customer` };
  if (prev.asOf > o.asOf) return { reason: `last ranking as of ${prev.asOf}, after this run's as-of date: every customer` };
  const product = await parquetFiles(lake, goldDir(productRecommendations.name, prev.asOf));
  const baseline = await parquetFiles(lake, goldDir(baselineRecommendations.name, prev.asOf));
  if (!product.length || !baseline.length || !(await lake.exists(prev.fingerprints))) return { reason: `the last ranking's output (as of ${prev.asOf}) is gone: every customer` };
  const local = async (files: string[]) => litList(await Promise.all(files.map((f) => lake.localPath(f))));
  const p = o.prefix;
  await engine.run(`CREATE OR REPLACE TABLE ${p}rerank AS
    SELECT f.CUSTOMER360_ID FROM ${o.fingerprints} f LEFT JOIN read_parquet(${await local([prev.fingerprints])}) g USING (CUSTOMER360_ID)
    WHERE g.CUSTOMER360_ID IS NULL OR g.FP <> f.FP OR g.N <> f.N`);
  await engine.run(`CREATE OR REPLACE TABLE ${p}kept AS SELECT CUSTOMER360_ID FROM ${o.fingerprints} ANTI JOIN ${p}rerank USING (CUSTOMER360_ID)`);
  const keep = (files: string) => `SELECT r.* FROM read_parquet(${files}, hive_partitioning = false) r SEMI JOIN ${p}kept USING (CUSTOMER360_ID)`;
  await engine.run(`CREATE OR REPLACE TABLE ${p}keep_product AS ${keep(await local(product))}`);
  await engine.run(`CREATE OR REPLACE TABLE ${p}keep_baseline AS ${keep(await local(baseline))}`);
  return { only: `${p}rerank`, keep: { product: `${p}keep_product`, baseline: `${p}keep_baseline` }, reason: `customers whose inputs changed since the ranking as of ${prev.asOf}`, previousAsOf: prev.asOf };
}

/**
 * Records what this run ranked, after its datasets: the fingerprints under the next sequence number, then the state
 * naming them (one atomic write), then the previous fingerprints go. A crash before the state leaves the last run's
 * state, output and fingerprints together, and the next run ranks again whom they say.
 */
export async function writeRanked(ctx: JobContext, engine: Engine, o: { asOf: string; modelVersion: string; fingerprints: string }): Promise<void> {
  const prev = await readRanked(ctx.lake);
  const seq = (prev?.seq ?? 0) + 1;
  const path = fingerprintsPath(seq);
  await commitQuery(engine, ctx.lake, `SELECT * FROM ${o.fingerprints} ORDER BY CUSTOMER360_ID`, path, { tmpDir: `${ctx.home}/tmp/gold` });
  const state: RankedState = { seq, asOf: o.asOf, modelVersion: o.modelVersion, fingerprints: path };
  await ctx.lake.write(statePath, JSON.stringify(state));
  ctx.report.outputs.push(path, statePath);
  if (prev && prev.fingerprints !== path && (await ctx.lake.exists(prev.fingerprints))) await ctx.lake.delete(prev.fingerprints);
}
