// Incremental identity resolution, for bench/identity.bench.ts:
//  - agreement: a base (half the records) and 10 batches linked into a graph, scored pairwise against a full
//    re-resolution of the same records;
//  - throughput and latency against a graph of 1M resolved records (scale 1; the graph is built once and cached under
//    bench/.cache): one record and 1,000 through updateGraph's SQL path, then through the streaming consumer on the
//    local Event Hubs endpoint (records topic -> in-memory graph -> graph commit -> change events published) a
//    backlog of 10,000 records taken in batches of 1,000 (records/s) and 300 single records one at a time (latency).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lit, type Engine } from '../src/engine/duckdb.ts';
import { pairwiseScore } from '../src/identity/evaluate.ts';
import { GRAPH_FILE, openGraph } from '../src/identity/graph.ts';
import { ensureOutbox } from '../src/identity/outbox.ts';
import { updateGraph } from '../src/identity/incremental.ts';
import { LiveGraph } from '../src/identity/live-graph.ts';
import { resolveIdentities } from '../src/identity/resolve.ts';
import { runIdentityStream, type BatchReport } from '../src/identity/stream.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { producerFor } from '../src/streaming/connect.ts';
import { startHub } from '../src/streaming/hub/local-hub.ts';
import { generatePersons } from '../test/fixtures/identity-synthetic.ts';
import { sampleRss } from './measure.ts';

const KEYS = 'tenant_id, source_system, customer_id';

/**
 * `load` creates table `id_input` (rid = file order, CUSTOMERS columns). Half the records form the base, the rest go
 * in 10 batches through the in-memory graph; the clustering is then compared with a full run over every record.
 */
export async function agreement(name: string, state: string, load: (e: Engine) => Promise<void>) {
  const e = await openGraph(state);
  try {
    await load(e);
    await e.run('CREATE OR REPLACE TABLE all_input AS SELECT * FROM id_input');
    const n = Number(await e.scalar('SELECT count(*) FROM all_input'));
    await resolveIdentities(e, 'id_input', { runId: 'full' });
    await e.run(`CREATE OR REPLACE TABLE full_result AS SELECT rid, ${KEYS}, customer360_id FROM id_result`);
    const base = Math.floor(n / 2);
    await e.run(`CREATE OR REPLACE TABLE part AS SELECT * FROM all_input WHERE rid < ${base}`);
    await updateGraph(e, 'part', { runId: 'base' });
    const live = await LiveGraph.load(e);
    const step = Math.ceil((n - base) / 10);
    let t = 0;
    for (let i = 0; i < 10; i++) {
      await e.run(`CREATE OR REPLACE TABLE part AS SELECT * FROM all_input WHERE rid >= ${base + i * step} AND rid < ${base + (i + 1) * step}`);
      const t0 = Date.now();
      await live.update(e, 'part', { runId: `batch-${i}` });
      t += Date.now() - t0;
    }
    const s = await pairwiseScore(e, `(SELECT f.rid, g.customer360_id AS cluster FROM full_result f JOIN g.records g USING (${KEYS}))`, '(SELECT rid, customer360_id AS cluster FROM full_result)');
    return { dataset: name, records: n, base, batches: 10, f1: s.f1, precision: s.precision, recall: s.recall, fullPairs: s.truePairs, batchMs: t };
  } finally {
    e.close();
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** Records generated beyond the graph's: the batches and the stream's single records. */
const EXTRA = 12_000;
/** The stream's backlog (batches of 1,000) and single records. */
const BACKLOG = 10_000;
const SINGLES = 300;
const RECORDS = 'bench-ids';
const CHANGES = 'bench-ids-changes';
/** Bumped when the graph's build changes in a way the key below does not see. */
const GRAPH_VERSION = 1;

/**
 * The graph of `n` resolved records (plus the pending records in g.pending), built once per size and build code and
 * kept under bench/.cache, then copied per run: building 1M takes minutes and a heavy lock, the measured part does not.
 */
export async function cachedGraph(n: number, out: (line: string) => void): Promise<{ dir: string; buildSeconds: number | null }> {
  const sources = ['src/identity/incremental.ts', 'src/identity/resolve.ts', 'src/identity/model.ts', 'src/identity/standardise.ts', 'src/identity/em.ts', 'src/identity/graph.ts', 'test/fixtures/identity-synthetic.ts'];
  const hash = createHash('sha1').update(String(GRAPH_VERSION));
  for (const f of sources) hash.update(await readFile(join(import.meta.dirname, '..', f)));
  const dir = join(import.meta.dirname, '.cache', `identity-graph-${n}-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, 'complete'))) {
    out(`  graph of ${n} records from the cache ${dir}`);
    return { dir, buildSeconds: null };
  }
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const t = Date.now();
  const e = await openGraph(building);
  try {
    await generatePersons(e, 'gen', n + EXTRA, 11);
    await e.run(`CREATE TABLE g.pending AS SELECT * FROM gen WHERE rid >= ${n}`);
    await e.run(`CREATE OR REPLACE TABLE base AS SELECT * FROM gen WHERE rid < ${n}`);
    await e.run('DROP TABLE gen');
    const built = await updateGraph(e, 'base', { runId: 'base' });
    await e.run('CHECKPOINT g');
    out(`  graph of ${built.graphRecords} records built in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  } finally {
    e.close();
  }
  await writeFile(join(building, 'complete'), `${new Date().toISOString()}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(building, dir);
  return { dir, buildSeconds: (Date.now() - t) / 1000 };
}

/** Throughput and latency against a graph of `n` resolved records. */
export async function atScale(workDir: string, n: number, out: (line: string) => void, options: { sqlPath?: boolean } = {}) {
  const state = join(workDir, 'graph-scale');
  const cache = await cachedGraph(n, out);
  await mkdir(state, { recursive: true });
  await copyFile(join(cache.dir, GRAPH_FILE), join(state, GRAPH_FILE));
  const e = await openGraph(state);
  let backlog: Record<string, string | null>[] = [];
  let singles: Record<string, string | null>[] = [];
  const result: Record<string, unknown> = { graphRecords: n, buildSeconds: cache.buildSeconds };
  const rss = sampleRss(200);
  try {
    const batch = (lo: number, size: number) => e.run(`CREATE OR REPLACE TABLE part AS SELECT * FROM g.pending WHERE rid >= ${n + lo} AND rid < ${n + lo + size}`);
    // Before: updateGraph's SQL path (every batch reads the graph's tables). Optional: at 1M one record took minutes.
    if (options.sqlPath) {
      await batch(0, 1);
      let t = Date.now();
      const sqlOne = await updateGraph(e, 'part', { runId: 'sql-1' });
      const sqlOneMs = Date.now() - t;
      await batch(1, 1000);
      t = Date.now();
      await updateGraph(e, 'part', { runId: 'sql-1000' });
      const sqlBatchMs = Date.now() - t;
      result.sqlPath = { singleRecordMs: sqlOneMs, batch1000Ms: sqlBatchMs, recordsPerSecond: Math.round(1000 / (sqlBatchMs / 1000)), singleTimingsMs: sqlOne.timingsMs };
      out(`  updateGraph (SQL path): 1 record ${sqlOneMs} ms, 1,000 records ${sqlBatchMs} ms (${Math.round(1000 / (sqlBatchMs / 1000))}/s)`);
    }
    // The stream's records, read before the consumer opens the graph (it holds the file from then on).
    backlog = await e.all<Record<string, string | null>>(`SELECT * EXCLUDE (rid, PERSON_ID) FROM g.pending WHERE rid >= ${n + 1001} AND rid < ${n + 1001 + BACKLOG} ORDER BY rid`);
    singles = await e.all<Record<string, string | null>>(`SELECT * EXCLUDE (rid, PERSON_ID) FROM g.pending WHERE rid >= ${n + 1001 + BACKLOG} ORDER BY rid LIMIT ${SINGLES + 1}`);
    // The base build's change events are not part of the measurement: they count as published on the bench's topic.
    await ensureOutbox(e);
    await e.run(`INSERT INTO g.outbox_published SELECT ${lit(CHANGES)}, coalesce(max(SEQ), 0), now() FROM g.changes`);
  } finally {
    e.close();
  }

  const hub = await startHub({ port: 0 });
  const abort = new AbortController();
  const reports: { at: number; b: BatchReport }[] = [];
  let waiting: ((b: BatchReport) => void) | undefined;
  let backlogDone: (() => void) | undefined;
  const backlogIn = new Promise<void>((resolve) => (backlogDone = resolve));
  let consumed = 0;
  let consumer: Promise<unknown> | undefined;
  try {
    // Throughput: a backlog waiting on the records topic before the consumer starts, taken in batches of up to 1,000.
    const producer = await producerFor({ hub: RECORDS, connectionString: hub.connectionString });
    for (let i = 0; i < backlog.length; i += 100) {
      await producer.sendBatch(backlog.slice(i, i + 100).map((row) => ({ body: Buffer.from(JSON.stringify(row)), properties: { table: 'CUSTOMERS' } })));
    }
    let t = Date.now();
    consumer = runIdentityStream({
      state, target: { hub: RECORDS, connectionString: hub.connectionString }, changesHub: CHANGES, maxRecords: 1000,
      log: createLogger({ silent: true }), signal: abort.signal,
      onBatch: (b) => {
        reports.push({ at: performance.now(), b });
        consumed += b.records;
        if (consumed >= backlog.length) backlogDone?.();
        waiting?.(b);
      },
    });
    await Promise.race([backlogIn, consumer.then(() => {
      throw new Error('the identity stream stopped before the backlog was consumed');
    })]);
    const startedMs = Date.now() - t;
    const rssAfterBacklog = Math.round(process.memoryUsage().rss / 1048576);
    // Records/s from the end of the first batch to the end of the last (the first waits for the graph to load).
    const [firstReport, ...rest] = reports;
    const restRecords = rest.reduce((s, r) => s + r.b.records, 0);
    const spanMs = rest.length ? rest.at(-1)!.at - firstReport!.at : NaN;
    const sizes = reports.map((r) => r.b.records);
    const stepNames = Object.keys(rest[0]?.b.result.timingsMs ?? {});
    const medianSteps = Object.fromEntries(stepNames.map((s) => [s, pct(rest.map((r) => r.b.result.timingsMs[s] ?? 0), 50)]));
    result.streamBacklog = {
      records: backlog.length, batches: reports.length, batchSizes: sizes, recordsPerSecond: Math.round(restRecords / (spanMs / 1000)),
      linkAndCommitMs: { p50: pct(rest.map((r) => r.b.commitMs), 50), max: Math.max(...rest.map((r) => r.b.commitMs)) }, medianStepMs: medianSteps,
      consumerStartAndBacklogSeconds: startedMs / 1000, rssMbAfterBacklog: rssAfterBacklog,
    };
    out(`  stream, backlog of ${backlog.length} records in ${reports.length} batches (sizes ${sizes.join(' ')}): ` +
      `${Math.round(restRecords / (spanMs / 1000))} records/s after the first batch (target 2,000); link + commit p50 ${pct(rest.map((r) => r.b.commitMs), 50)} ms per batch; ` +
      `median step ms ${JSON.stringify(medianSteps)}; consumer start (graph load) + backlog ${(startedMs / 1000).toFixed(1)} s, RSS ${rssAfterBacklog} MB`);

    // Latency: single records from send to published changes, one at a time.
    const sendOne = async (row: Record<string, string | null>) => {
      const done = new Promise<BatchReport>((resolve) => (waiting = resolve));
      const t0 = performance.now();
      await producer.sendBatch([{ body: Buffer.from(JSON.stringify(row)), properties: { table: 'CUSTOMERS' } }], { partitionKey: row.CUSTOMER_ID ?? 'x' });
      const b = await done;
      return { wall: performance.now() - t0, b };
    };
    await sendOne(singles[0]!);
    const wall: number[] = [];
    const enqueuedToPublished: number[] = [];
    const commitMs: number[] = [];
    const steps: Record<string, number>[] = [];
    for (const row of singles.slice(1)) {
      const { wall: w, b } = await sendOne(row);
      wall.push(w);
      enqueuedToPublished.push(...b.latenciesMs);
      commitMs.push(b.commitMs);
      steps.push(b.result.timingsMs);
    }
    await producer.close();
    const singleSteps = Object.fromEntries(Object.keys(steps[0] ?? {}).map((s) => [s, { p50: pct(steps.map((x) => x[s] ?? 0), 50), p99: pct(steps.map((x) => x[s] ?? 0), 99) }]));
    result.stream = {
      records: wall.length,
      sendToPublishedMs: { p50: pct(wall, 50), p95: pct(wall, 95), p99: pct(wall, 99), max: Math.max(...wall) },
      enqueuedToPublishedMs: { p50: pct(enqueuedToPublished, 50), p99: pct(enqueuedToPublished, 99) },
      graphCommitMs: { p50: pct(commitMs, 50), p99: pct(commitMs, 99) },
      stepMs: singleSteps,
    };
    out(`  stream, ${wall.length} single records: send -> changes published p50 ${pct(wall, 50).toFixed(1)} ms, p99 ${pct(wall, 99).toFixed(1)} ms ` +
      `(target 50 ms); of which link + commit p50 ${pct(commitMs, 50)} ms, p99 ${pct(commitMs, 99)} ms; steps ${JSON.stringify(singleSteps)}`);
  } finally {
    abort.abort();
    await consumer?.catch((err) => out(`  stream failed: ${(err as Error).message}`));
    await hub.close();
    result.peakRssMb = Math.round(rss.stop() / 1048576);
  }
  return result;
}
