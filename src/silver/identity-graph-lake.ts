// The persisted identity graph (src/identity/graph.ts, one DuckDB file) kept in the lake, so the daily identity job
// links only the day's changed customers into it. A DuckDB file cannot be updated in place on ADLS (and a local
// lake must not be half-written by a crash), so each run works on a private copy:
//   1. read the state marker `_state.json` (the graph file it names, and what the graph has consumed);
//   2. copy that file (on ADLS: download) into the job's scratch folder and update it there;
//   3. upload the updated file under a new name (graph-<seq>.duckdb.gz, one atomic commit), then write the marker that
//      names it (the commit point), then delete graph files the marker no longer names.
// The file is kept gzipped (fastest level): a DuckDB file is mostly partly filled 256 KB blocks, so a 150-person graph
// of 4 MB moves as 0.13 MB; the transfer then follows the graph's data, not its block layout.
// A crash before the marker leaves the previous graph named and consistent with what it consumed: the next run
// consumes the same input again. A file left by a crashed run has the name the next run writes, so it is replaced.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GRAPH_FILE } from '../identity/graph.ts';
import { joinLake, type Lake } from '../lake/lake.ts';
import { faultPoint } from '../runtime/fault.ts';
import { IDENTITY_ROOT } from './paths.ts';

export const GRAPH_LAKE_DIR = `${IDENTITY_ROOT}/graph`;
export const GRAPH_STATE = joinLake(GRAPH_LAKE_DIR, '_state.json');

export interface GraphLakeState {
  version: 1;
  /** Commit number; the graph file is graph-<seq>.duckdb.gz. */
  seq: number;
  /** Lake path of the current graph file. */
  graph: string;
  /** What the graph has consumed: the staged CUSTOMERS commit sequence, and a signature of the overrides applied. */
  inputs: { stagedCustomers: number; overrides: string };
  /** Run that committed it. */
  runId: string;
}

export async function readGraphState(lake: Lake): Promise<GraphLakeState | undefined> {
  if (!(await lake.exists(GRAPH_STATE))) return undefined;
  return JSON.parse((await lake.read(GRAPH_STATE)).toString('utf8')) as GraphLakeState;
}

export interface GraphCheckout {
  /** Local folder holding graph.duckdb (openGraph(dir)); removed by release(). */
  dir: string;
  state: GraphLakeState | undefined;
  release(): Promise<void>;
}

/** A private working copy of the lake's graph (an empty folder when the lake has none yet, or for a rebuild). */
export async function checkoutGraph(lake: Lake, scratch: string, o: { fresh?: boolean } = {}): Promise<GraphCheckout> {
  const dir = join(scratch, `graph-${randomUUID()}`);
  await mkdir(dir, { recursive: true });
  const state = await readGraphState(lake);
  if (state && !o.fresh) await pipeline(createReadStream(await lake.localPath(state.graph)), createGunzip(), createWriteStream(join(dir, GRAPH_FILE)));
  return { dir, state, release: () => rm(dir, { recursive: true, force: true }) };
}

const graphName = (seq: number) => joinLake(GRAPH_LAKE_DIR, `graph-${String(seq).padStart(6, '0')}.duckdb.gz`);

/**
 * Commits the working copy (its engine closed, so the file is checkpointed) as the lake's graph. `graphChanged`
 * false: the marker moves on (new inputs consumed) but keeps naming the same file.
 */
export async function commitGraph(lake: Lake, checkout: GraphCheckout, o: { inputs: GraphLakeState['inputs']; runId: string; graphChanged: boolean }): Promise<GraphLakeState> {
  const prev = checkout.state;
  const seq = (prev?.seq ?? 0) + 1;
  let graph = prev?.graph;
  if (o.graphChanged || !graph) {
    graph = graphName(seq);
    const packed = join(checkout.dir, `${GRAPH_FILE}.gz`);
    await pipeline(createReadStream(join(checkout.dir, GRAPH_FILE)), createGzip({ level: 1 }), createWriteStream(packed));
    await lake.putFile(packed, graph);
  }
  faultPoint('silver-identity:graph');
  const next: GraphLakeState = { version: 1, seq, graph, inputs: o.inputs, runId: o.runId };
  await lake.write(GRAPH_STATE, JSON.stringify(next));
  for (const f of await lake.list(GRAPH_LAKE_DIR)) if (/\.duckdb(\.gz)?$/.test(f.path) && f.path !== graph) await lake.delete(f.path);
  return next;
}
