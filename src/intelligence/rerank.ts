// Daily recommendations rank again only the customers whose own inputs changed. Between trainings a run ranks with
// the stored tuning and global signals (stored-signals.ts); each customer's list depends on the customer's own inputs
// (purchase lines, the last 90 days' views, returns, stated preferences). Every run stores a fingerprint of each
// customer's own inputs; the next run ranks again the customers whose fingerprint differs (or who are new), and keeps
// every other customer's rows from the previous output. A kept list is the one ranked when the customer's inputs
// last changed (at the latest, the last training: a training run ranks everyone).
// A fingerprint is a sum of row hashes: the ranking state keeps it per customer, and per customer and day as partial
// sums (ranked-days/event_date=D/), so a run adds what changed instead of hashing every line of history again: the
// days the model aggregates rewrote since the last ranking (their change logs) are hashed again and replace their
// partials, and the days entering or leaving the windows move in or out of the sums.
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { changesSince, isDayPartition, readDatasetSql, readDatasetState } from '../catalogue/partitioned.ts';
import { lit, litList, type Engine } from '../engine/duckdb.ts';
import { addDays } from '../runtime/days.ts';
import { goldDir } from '../gold/paths.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { commitQuery, parquetFiles } from '../lake/parquet.ts';
import type { JobContext } from '../runtime/job.ts';
import { baselineRecommendations, productRecommendations } from './datasets.ts';
import { modelPreferenceDaily, modelProductDaily } from './daily-inputs.ts';
import { MODELS_ROOT } from './trained-models.ts';

const JOB = 'gold-intelligence-recommendations';
const statePath = joinLake(MODELS_ROOT, JOB, 'ranked.json');
const fingerprintsPath = (seq: number) => joinLake(MODELS_ROOT, JOB, `ranked-fingerprints-${seq}.parquet`);
const dayPath = (day: string, seq: number) => joinLake(MODELS_ROOT, JOB, 'ranked-days', `event_date=${day}`, `part-${seq}.parquet`);
/** The aggregates a fingerprint reads (by day). */
const SOURCES = [modelProductDaily, modelPreferenceDaily] as const;
/** The views window of the signals (recommend-signals.ts: the last 90 days). */
const VIEW_DAYS = 90;

/** What the per-day partial sums have consumed of each aggregate, and the file of each day's partials. */
export interface RankedDays {
  consumed: Record<string, { seq: number; lineage?: string }>;
  partitions: Record<string, string>;
}

/** What the last run ranked: its as-of date and model version, and the customers' input fingerprints it ranked from. */
export interface RankedState {
  seq: number;
  asOf: string;
  modelVersion: string;
  /** Parquet (CUSTOMER360_ID, FP, N, POPULATION) of every customer of that run's population or with any input row. */
  fingerprints: string;
  /** The per-customer-day partial sums (absent in a state written before they were kept: then hashed again whole). */
  days?: RankedDays;
}

export async function readRanked(lake: Lake): Promise<RankedState | undefined> {
  if (!(await lake.exists(statePath))) return undefined;
  return JSON.parse((await lake.read(statePath)).toString('utf8')) as RankedState;
}

const M64 = '18446744073709551616';

/** Hash partials (CUSTOMER360_ID, DAY, HA, NA, HV, NV) per customer and day over relations of the two aggregates' rows:
 * HA/NA sum the lines, returns and preferences, HV/NV the views (counted only within the window). Cast to fixed
 * types: the same rows give the same hashes whatever the files' types. */
function partialsSql(product: string, preference: string): string {
  const h = (cols: string[]) => `hash(${cols.join(', ')})::HUGEINT`;
  // Partial sums mod 2^64 (UBIGINT): Parquet has no HUGEINT (DuckDB would store a double).
  return `SELECT CUSTOMER360_ID, DAY, CAST(coalesce(sum(H) FILTER (WHERE NOT V), 0) % ${M64} AS UBIGINT) AS HA, count(*) FILTER (WHERE NOT V) AS NA,
      CAST(coalesce(sum(H) FILTER (WHERE V), 0) % ${M64} AS UBIGINT) AS HV, count(*) FILTER (WHERE V) AS NV
    FROM (
      SELECT CUSTOMER360_ID, ACTIVITY_DATE AS DAY, ${h(["'line'", 'ACTIVITY_DATE::DATE', 'PRODUCT_ID::VARCHAR', 'CATEGORY::VARCHAR', 'BRAND::VARCHAR', 'PRODUCT_NAME::VARCHAR', 'N::BIGINT'])} AS H, false AS V
        FROM ${product} WHERE KIND = 'line'
      UNION ALL
      SELECT CUSTOMER360_ID, ACTIVITY_DATE, ${h(["'view'", 'ACTIVITY_DATE::DATE', 'PRODUCT_ID::VARCHAR', 'CATEGORY::VARCHAR', 'N::BIGINT'])}, true
        FROM ${product} WHERE KIND = 'view'
      UNION ALL
      SELECT CUSTOMER360_ID, ACTIVITY_DATE, ${h(["'return'", 'ACTIVITY_DATE::DATE', 'PRODUCT_ID::VARCHAR'])}, false FROM ${product} WHERE KIND = 'return'
      UNION ALL
      SELECT CUSTOMER360_ID, ACTIVITY_DATE, ${h(["'preference'", 'ACTIVITY_DATE::DATE', 'PREFERENCE_TYPE::VARCHAR', 'PREFERENCE_VALUE::VARCHAR', 'STRENGTH::DOUBLE'])}, false
        FROM ${preference} WHERE PREFERENCE_TYPE IN ('CATEGORY', 'BRAND', 'PRODUCT'))
    WHERE CUSTOMER360_ID IS NOT NULL AND DAY IS NOT NULL GROUP BY 1, 2`;
}

export interface Fingerprints {
  /** 'full': every day hashed; 'incremental': the changed days hashed, the rest from the stored partials. */
  mode: 'full' | 'incremental';
  /** Days whose partials this run recomputed (`<p>fp_days`). */
  days: string[];
  consumed: RankedDays['consumed'];
  /** Lake files read. */
  inputs: string[];
}

/**
 * `<table>` (CUSTOMER360_ID, FP, N): a fingerprint of each population customer's own signal inputs as of `asOf`: the
 * sum of row hashes mod 2^64 and the row count of their purchase lines, returns and preferences up to `asOf` and
 * views of the last 90 days (0, 0 for a customer without any). `<p>fp_totals` holds the same for every customer with
 * a row too (what the next run adds to), `<p>fp_days` the partials of the days hashed now. From the last ranking's
 * state when it can (its partials and totals plus the changed days), else from every day of the aggregates.
 */
export async function fingerprintInputs(engine: Engine, lake: Lake, o: { table: string; population: string; asOf: string; prefix: string }): Promise<Fingerprints> {
  const p = o.prefix;
  const D = o.asOf;
  const inputs: string[] = [];
  const states = await Promise.all(SOURCES.map((ds) => readDatasetState(lake, ds.path)));
  const consumed: RankedDays['consumed'] = Object.fromEntries(SOURCES.map((ds, i) => [ds.path, { seq: states[i]?.seq ?? 0, ...(states[i]?.lineage ? { lineage: states[i]!.lineage } : {}) }]));
  const prev = await readRanked(lake);
  // The days each aggregate rewrote since the last ranking consumed it (undefined: not known, hash everything).
  let changed: Set<string> | undefined = prev?.days && prev.asOf <= D && (await lake.exists(prev.fingerprints)) ? new Set<string>() : undefined;
  SOURCES.forEach((ds, i) => {
    const before = prev?.days?.consumed[ds.path];
    const st = states[i];
    if (!changed || !before || !st || (st.lineage ?? '') !== (before.lineage ?? '')) { changed = undefined; return; }
    const since = changesSince(st, before.seq);
    if (!since) { changed = undefined; return; }
    for (const c of since) for (const d of c.partitions) if (isDayPartition(d)) changed.add(d);
  });
  const files = (days: (d: string) => boolean) => SOURCES.map((ds, i) => Object.entries(states[i]?.partitions ?? {}).filter(([d]) => isDayPartition(d) && days(d)).flatMap(([, f]) => f).sort());
  const rel = async (f: string[]) => { inputs.push(...f); return readDatasetSql(lake, f, 'SELECT 1 WHERE false'); };
  const partials = async (days: (d: string) => boolean) => {
    const [prod, pref] = files(days);
    if (!prod!.length && !pref!.length) return `SELECT NULL::VARCHAR AS CUSTOMER360_ID, NULL::DATE AS DAY, 0::UBIGINT AS HA, 0::BIGINT AS NA, 0::UBIGINT AS HV, 0::BIGINT AS NV WHERE false`;
    const empty = (ds: typeof SOURCES[number]) => `SELECT ${ds.columns.map((c) => `NULL::VARCHAR AS ${c.name}`).join(', ')} WHERE false`;
    const prodRel = prod!.length ? await rel(prod!) : `(${empty(modelProductDaily)})`;
    const prefRel = pref!.length ? await rel(pref!) : `(${empty(modelPreferenceDaily)})`;
    return partialsSql(prodRel, prefRel);
  };
  const inWindow = (day: string, asOf: string) => `(${day} > DATE ${lit(addDays(asOf, -VIEW_DAYS))} AND ${day} <= DATE ${lit(asOf)})`;
  if (!changed) {
    await engine.run(`CREATE OR REPLACE TABLE ${p}fp_days AS ${await partials(() => true)}`);
    await engine.run(`CREATE OR REPLACE TABLE ${p}fp_totals AS
      SELECT CUSTOMER360_ID, CAST((coalesce(sum(HA::HUGEINT) FILTER (WHERE DAY <= DATE ${lit(D)}), 0) + coalesce(sum(HV::HUGEINT) FILTER (WHERE ${inWindow('DAY', D)}), 0)) % ${M64} AS UBIGINT) AS FP,
        (coalesce(sum(NA) FILTER (WHERE DAY <= DATE ${lit(D)}), 0) + coalesce(sum(NV) FILTER (WHERE ${inWindow('DAY', D)}), 0))::BIGINT AS N
      FROM ${p}fp_days GROUP BY 1`);
  } else {
    const D0 = prev!.asOf;
    const ch = changed as Set<string>;
    await engine.run(`CREATE OR REPLACE TABLE ${p}fp_days AS ${await partials((d) => ch.has(d))}`);
    // Unchanged days whose place in the sums moved: after the last ranking's as-of date, or across either window edge.
    const moved = (d: string) => !ch.has(d) && ((d > D0 && d <= D) || (d > addDays(D0, -VIEW_DAYS) && d <= addDays(D, -VIEW_DAYS)));
    const oldFiles = Object.entries(prev!.days!.partitions).filter(([d]) => ch.has(d) || moved(d)).map(([, f]) => f).sort();
    inputs.push(...oldFiles, prev!.fingerprints);
    const old = oldFiles.length ? `read_parquet(${litList(await Promise.all(oldFiles.map((f) => lake.localPath(f))))})` : `(SELECT * FROM ${p}fp_days WHERE false)`;
    const chList = ch.size ? `DAY IN (${[...ch].sort().map((d) => `DATE ${lit(d)}`).join(', ')})` : 'false';
    // Each row's contribution now minus its contribution to the last sums.
    await engine.run(`CREATE OR REPLACE TABLE ${p}fp_delta AS
      WITH rows AS (
        SELECT CUSTOMER360_ID, DAY, HA, NA, HV, NV, 1 AS NOW, 0 AS BEFORE FROM ${p}fp_days
        UNION ALL SELECT CUSTOMER360_ID, DAY, HA, NA, HV, NV, CASE WHEN ${chList} THEN 0 ELSE 1 END, 1 FROM ${old})
      SELECT CUSTOMER360_ID,
        sum((NOW * (DAY <= DATE ${lit(D)})::INT - BEFORE * (DAY <= DATE ${lit(D0)})::INT) * HA::HUGEINT
          + (NOW * ${inWindow('DAY', D)}::INT - BEFORE * ${inWindow('DAY', D0)}::INT) * HV::HUGEINT) AS DH,
        sum((NOW * (DAY <= DATE ${lit(D)})::INT - BEFORE * (DAY <= DATE ${lit(D0)})::INT) * NA
          + (NOW * ${inWindow('DAY', D)}::INT - BEFORE * ${inWindow('DAY', D0)}::INT) * NV) AS DN
      FROM rows GROUP BY 1`);
    await engine.run(`CREATE OR REPLACE TABLE ${p}fp_totals AS
      SELECT CUSTOMER360_ID, CAST(((coalesce(t.FP, 0)::HUGEINT + coalesce(d.DH, 0)) % ${M64} + ${M64}) % ${M64} AS UBIGINT) AS FP,
        (coalesce(t.N, 0) + coalesce(d.DN, 0))::BIGINT AS N
      FROM read_parquet(${litList([await lake.localPath(prev!.fingerprints)])}) t FULL JOIN ${p}fp_delta d USING (CUSTOMER360_ID)`);
  }
  await engine.run(`CREATE OR REPLACE TABLE ${p}fp_totals AS
    SELECT CUSTOMER360_ID, coalesce(t.FP, 0)::UBIGINT AS FP, coalesce(t.N, 0)::BIGINT AS N, p.CUSTOMER360_ID IS NOT NULL AS POPULATION
    FROM (SELECT * FROM ${p}fp_totals WHERE N <> 0) t FULL JOIN (SELECT DISTINCT CUSTOMER360_ID FROM ${o.population}) p USING (CUSTOMER360_ID)`);
  await engine.run(`CREATE OR REPLACE TABLE ${o.table} AS SELECT CUSTOMER360_ID, FP, N FROM ${p}fp_totals WHERE POPULATION`);
  const days = changed ? [...(changed as Set<string>)].sort() : (await engine.all<{ d: string }>(`SELECT DISTINCT CAST(DAY AS VARCHAR) AS d FROM ${p}fp_days ORDER BY 1`)).map((r) => r.d);
  return { mode: changed ? 'incremental' : 'full', days, consumed, inputs };
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
    SELECT f.CUSTOMER360_ID FROM ${o.fingerprints} f
    LEFT JOIN (SELECT * FROM read_parquet(${await local([prev.fingerprints])})${prev.days ? ' WHERE POPULATION' : ''}) g USING (CUSTOMER360_ID)
    WHERE g.CUSTOMER360_ID IS NULL OR g.FP <> f.FP OR g.N <> f.N`);
  await engine.run(`CREATE OR REPLACE TABLE ${p}kept AS SELECT CUSTOMER360_ID FROM ${o.fingerprints} ANTI JOIN ${p}rerank USING (CUSTOMER360_ID)`);
  const keep = (files: string) => `SELECT r.* FROM read_parquet(${files}, hive_partitioning = false) r SEMI JOIN ${p}kept USING (CUSTOMER360_ID)`;
  await engine.run(`CREATE OR REPLACE TABLE ${p}keep_product AS ${keep(await local(product))}`);
  await engine.run(`CREATE OR REPLACE TABLE ${p}keep_baseline AS ${keep(await local(baseline))}`);
  return { only: `${p}rerank`, keep: { product: `${p}keep_product`, baseline: `${p}keep_baseline` }, reason: `customers whose inputs changed since the ranking as of ${prev.asOf}`, previousAsOf: prev.asOf };
}

/**
 * Records what this run ranked, after its datasets: the fingerprints (`<prefix>fp_totals`) and the recomputed days'
 * partials (`<prefix>fp_days`) under the next sequence number, then the state naming them (one atomic write), then the
 * files it no longer names go. A crash before the state leaves the last run's state, output and files together, and
 * the next run ranks again whom they say.
 */
export async function writeRanked(ctx: JobContext, engine: Engine, o: { asOf: string; modelVersion: string; prefix: string; fingerprints: Fingerprints }): Promise<void> {
  const p = o.prefix;
  const prev = await readRanked(ctx.lake);
  const seq = (prev?.seq ?? 0) + 1;
  const tmpDir = `${ctx.home}/tmp/gold`;
  const path = fingerprintsPath(seq);
  await commitQuery(engine, ctx.lake, `SELECT * FROM ${p}fp_totals ORDER BY CUSTOMER360_ID`, path, { tmpDir });
  const fp = o.fingerprints;
  // The recomputed days replace theirs; a full hash replaces every day.
  const partitions: Record<string, string> = fp.mode === 'full' ? {} : Object.fromEntries(Object.entries(prev?.days?.partitions ?? {}).filter(([d]) => !fp.days.includes(d)));
  const work = join(tmpDir, `ranked-days-${randomUUID()}`);
  await mkdir(work, { recursive: true });
  try {
    if (Number(await engine.scalar(`SELECT count(*) FROM ${p}fp_days`)) > 0) {
      await engine.run(`COPY (SELECT *, strftime(DAY, '%Y-%m-%d') AS __p FROM ${p}fp_days ORDER BY DAY, CUSTOMER360_ID) TO ${lit(work)}
        (FORMAT parquet, PARTITION_BY (__p), FILENAME_PATTERN 'part_{i}', OVERWRITE_OR_IGNORE)`);
      for (const dir of (await readdir(work)).filter((d) => d.startsWith('__p=')).sort()) {
        const day = dir.slice(4);
        const files = (await readdir(join(work, dir))).filter((f) => f.endsWith('.parquet'));
        if (files.length !== 1) throw new Error(`ranked days: ${files.length} files for ${day}`);
        await ctx.lake.putFile(join(work, dir, files[0]!), dayPath(day, seq));
        partitions[day] = dayPath(day, seq);
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const state: RankedState = { seq, asOf: o.asOf, modelVersion: o.modelVersion, fingerprints: path, days: { consumed: fp.consumed, partitions } };
  await ctx.lake.write(statePath, JSON.stringify(state));
  ctx.report.outputs.push(path, ...Object.values(partitions).filter((f) => f.endsWith(`part-${seq}.parquet`)), statePath);
  const named = new Set([path, ...Object.values(partitions)]);
  const gone = [prev?.fingerprints, ...Object.values(prev?.days?.partitions ?? {})].filter((f): f is string => !!f && !named.has(f));
  for (const f of gone) if (await ctx.lake.exists(f)) await ctx.lake.delete(f);
}
