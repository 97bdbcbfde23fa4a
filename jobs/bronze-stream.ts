// Job `bronze-stream`: Event Hubs -> Bronze/quarantine, exactly once (src/streaming/consumer.ts). In Azure, ADF runs
// it on a schedule with untilIdle (catch up, commit, exit). Locally, with an `input` folder and no Event Hubs
// connection, it starts the local endpoint in process, replays the streaming tables' drops from that folder through
// the real client and consumes them until idle: `c360 run --stream` end to end.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACTS } from '../schemas/index.ts';
import { UsageError } from '../src/runtime/errors.ts';
import type { Job, JobContext } from '../src/runtime/job.ts';
import { producerFor, resolveTarget, type HubTarget } from '../src/streaming/connect.ts';
import { runStream, STREAM_TMP } from '../src/streaming/consumer.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';
import { replayDrop } from '../src/streaming/replay.ts';
import { compactTables } from '../src/bronze/compact.ts';

/** Compacts the Bronze tables the stream wrote to. */
async function compactStreamed(ctx: JobContext, outputs: readonly string[]): Promise<Record<string, number>> {
  const dirs = new Set(outputs.filter((o) => o.startsWith('bronze/customer360/')).map((o) => o.split('/')[2]));
  return compactTables(ctx, CONTRACTS.filter((c) => dirs.has(c.bronzeDir)));
}

const num = (ctx: JobContext, name: string): number | undefined => {
  const v = ctx.params[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`Job bronze-stream: param ${name} must be a non-negative number, got '${v}'`);
  return n;
};

/** The streaming tables' drop files in a sample/drop folder: <TABLE>.parquet (or .csv). */
export function streamingDrops(input: string): { table: string; file: string }[] {
  const out: { table: string; file: string }[] = [];
  for (const c of CONTRACTS.filter((c) => c.streaming)) {
    const file = ['.parquet', '.csv'].map((ext) => join(input, `${c.name}${ext}`)).find((f) => existsSync(f));
    if (file) out.push({ table: c.name, file });
  }
  return out;
}

export const bronzeStreamJob: Job = {
  name: 'bronze-stream',
  description: 'Event Hubs -> Bronze Parquet + quarantine, exactly once (checkpoints in the lake)',
  params: [
    { name: 'hub', description: 'Event hub name (default: EntityPath, $C360_EVENTHUBS_HUB, or customer360 for the local replay)' },
    { name: 'untilIdle', description: 'Stop after this many seconds caught up (ADF schedule mode); empty: run until SIGTERM', type: { kind: 'number', min: 0 } },
    { name: 'connectionString', description: 'Event Hubs connection string (default: $C360_EVENTHUBS_CONNECTION_STRING)' },
    { name: 'namespace', description: 'Namespace for DefaultAzureCredential (default: $C360_EVENTHUBS_NAMESPACE)' },
    { name: 'consumerGroup', description: 'Consumer group (default $Default)' },
    { name: 'input', description: 'Drop folder: with no connection, replay its streaming tables through a local endpoint' },
    { name: 'maxRows', description: 'Roll a partition batch at this many events (default 50000)', type: { kind: 'number', min: 0 } },
    { name: 'maxBytes', description: 'Roll a partition batch at this many body bytes (default 33554432)', type: { kind: 'number', min: 0 } },
    { name: 'maxAgeSeconds', description: 'Roll a partition batch at this age (default 30)', type: { kind: 'number', min: 0 } },
  ],
  async run(ctx) {
    const p = ctx.params;
    const cs = p.connectionString || process.env.C360_EVENTHUBS_CONNECTION_STRING;
    const ns = p.namespace || process.env.C360_EVENTHUBS_NAMESPACE;
    let hub: LocalHub | undefined;
    let target: HubTarget;
    let untilIdle = num(ctx, 'untilIdle');
    const abort = new AbortController();
    const onSignal = () => {
      ctx.log.info('stop requested: draining and committing');
      abort.abort();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      if (!cs && !ns && p.input) {
        // Local end to end: the in-process endpoint stands in for Event Hubs, the real client on both sides.
        hub = await startHub({ port: 0 });
        target = { hub: p.hub || 'customer360', connectionString: hub.connectionString };
        const producer = await producerFor(target);
        try {
          for (const { table, file } of streamingDrops(p.input)) {
            const r = await replayDrop(producer, table, file);
            ctx.report.inputs.push(file);
            ctx.report.rowCounts[`${table}.sent`] = r.events;
            ctx.log.info('replayed', { table, events: r.events, hub: target.hub });
          }
        } finally {
          await producer.close();
        }
        // Everything was published before consuming starts, so a short idle wait is enough to know it is all in.
        untilIdle = Math.min(untilIdle ?? 2, 2);
      } else {
        target = resolveTarget(p.hub || undefined, cs || undefined, ns || undefined);
      }
      ctx.report.inputs.push(`eventhubs:${target.hub}`);
      const r = await runStream({
        target,
        consumerGroup: p.consumerGroup || undefined,
        lake: ctx.lake,
        loadId: ctx.loadId,
        log: ctx.log,
        // A bounded DuckDB: batch commits spill to HOME/tmp rather than grow with the stream.
        openEngine: () => ctx.openEngine({ memoryLimit: '512MB' }),
        tmpDir: STREAM_TMP(ctx.home),
        untilIdleSeconds: untilIdle,
        signal: abort.signal,
        maxRows: num(ctx, 'maxRows'),
        maxBytes: num(ctx, 'maxBytes'),
        maxAgeSeconds: num(ctx, 'maxAgeSeconds'),
        afterFile: faultInjection(),
      });
      ctx.report.outputs.push(...r.outputs);
      for (const [k, v] of Object.entries(r.rowCounts)) ctx.report.rowCounts[k] = v;
      ctx.report.rowCounts.events = r.events;
      Object.assign(ctx.report.metrics, {
        batches: r.batches,
        eventsPerSecond: r.eventsPerSecond,
        activeMs: r.activeMs,
        commitMs: r.commitMs,
        peakRssMb: r.peakRssMb,
        partitions: r.partitions,
      });
      // Micro-batches leave many small files: compact them once the stream has stopped (no writer left).
      ctx.report.metrics.compacted = await compactStreamed(ctx, r.outputs);
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await hub?.close();
    }
  },
};

/**
 * Fault injection for the crash tests: C360_STREAM_KILL_AFTER_FILES=N kills the process with SIGKILL right after
 * the N-th data file is committed, i.e. between data and checkpoint, the window the commit protocol must survive.
 */
function faultInjection(): ((path: string) => void) | undefined {
  const n = Number(process.env.C360_STREAM_KILL_AFTER_FILES);
  if (!Number.isInteger(n) || n <= 0) return undefined;
  let files = 0;
  return () => {
    if (++files >= n) process.kill(process.pid, 'SIGKILL');
  };
}
