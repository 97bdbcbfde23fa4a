// The recommender's global signals kept between trainings. A training run stores, with its tuning, what every
// customer's ranking shares as of its date: product keys, the catalogue (with popularity), item-item similarity and
// EASE's weights (gold/models/<job>/signals-<model version>/). The runs in between rank with them instead of reading
// every customer's purchase lines of history again, so they read only the ranked customers' own rows. The model is
// retrained every trainEveryDays, which is when these move on (as the tuned weights do).
import os from 'node:os';
import { litList, type Engine } from '../engine/duckdb.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { commitQuery } from '../lake/parquet.ts';
import type { JobContext } from '../runtime/job.ts';
import type { StoredGlobal } from './models.ts';
import { GLOBAL_SIGNAL_TABLES, type GlobalSignals } from './recommend-signals.ts';
import { MODELS_ROOT } from './trained-models.ts';

/** Lake paths of a training run's stored global signals (recorded in its trained.json). */
export interface StoredSignalFiles {
  dir: string;
  pid: string;
  catalog: string;
  itemSim: string;
  /** EASE's weights (row-major float64, little-endian) and the product keys of its rows, when the blend weighs EASE. */
  ease?: { weights: string; pks: number[] };
}

const dirOf = (job: string, version: string) => joinLake(MODELS_ROOT, job, `signals-${version}`);

/** Writes the engine's `<p>pid`, `<p>catalog`, `<p>item_sim` (and EASE's fit) under the model version's folder. */
export async function writeGlobalSignals(ctx: JobContext, engine: Engine, job: string, version: string, p: string, ease?: { B: Float64Array; pks: number[] }): Promise<StoredSignalFiles> {
  const dir = dirOf(job, version);
  const paths = Object.fromEntries(Object.entries(GLOBAL_SIGNAL_TABLES).map(([k, t]) => [k, joinLake(dir, `${t}.parquet`)])) as Record<keyof GlobalSignals, string>;
  for (const [k, t] of Object.entries(GLOBAL_SIGNAL_TABLES) as [keyof GlobalSignals, string][]) {
    await commitQuery(engine, ctx.lake, `SELECT * FROM ${p}${t} ORDER BY ALL`, paths[k], { tmpDir: `${ctx.home}/tmp/gold` });
  }
  const out: StoredSignalFiles = { dir, ...paths };
  if (ease) {
    const weights = joinLake(dir, 'ease-weights.f64');
    const b = Buffer.from(ease.B.buffer, ease.B.byteOffset, ease.B.byteLength);
    await ctx.lake.write(weights, os.endianness() === 'LE' ? b : Buffer.from(Float64Array.from(ease.B).buffer).swap64());
    out.ease = { weights, pks: ease.pks };
  }
  ctx.report.outputs.push(...Object.values(paths), ...(out.ease ? [out.ease.weights] : []));
  return out;
}

/** The stored signals as relations over their files; undefined when any file is gone (the caller computes them). */
export async function readGlobalSignals(lake: Lake, files: StoredSignalFiles | undefined): Promise<{ global: StoredGlobal; inputs: string[] } | undefined> {
  if (!files) return undefined;
  const all = [files.pid, files.catalog, files.itemSim, ...(files.ease ? [files.ease.weights] : [])];
  for (const f of all) if (!(await lake.exists(f))) return undefined;
  const rel = async (f: string) => `read_parquet(${litList([await lake.localPath(f)])})`;
  const signals: GlobalSignals = { pid: await rel(files.pid), catalog: await rel(files.catalog), itemSim: await rel(files.itemSim) };
  let ease: StoredGlobal['ease'];
  if (files.ease) {
    const buf = await lake.read(files.ease.weights);
    const le = os.endianness() === 'LE' ? buf : Buffer.from(buf).swap64();
    ease = { B: new Float64Array(le.buffer.slice(le.byteOffset, le.byteOffset + le.byteLength)), pks: files.ease.pks };
  }
  return { global: { signals, ...(ease ? { ease } : {}) }, inputs: all };
}

/** Removes the signal folders of versions other than `keep` (after trained.json names the new one). */
export async function pruneGlobalSignals(lake: Lake, job: string, keep: string): Promise<void> {
  const root = joinLake(MODELS_ROOT, job);
  const keepDir = dirOf(job, keep);
  for (const f of await lake.list(root)) {
    const rel = f.path.slice(root.length + 1);
    if (rel.startsWith('signals-') && !f.path.startsWith(`${keepDir}/`)) await lake.delete(f.path);
  }
}
