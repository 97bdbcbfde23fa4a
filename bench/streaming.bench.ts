// Streaming Bronze throughput: events/s from the local endpoint into committed Parquet (the `c360 stream` consumer
// in its own process, busy time from its manifest metrics) against the raw receive-and-discard rate of the same
// endpoint measured in the same run (target: >= 50%), and the consumer's peak RSS under the whole backlog.
// Scale 1 = 1,000,000 events (the backlog the memory target names); `--scale 0.2` for a quicker run.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { earliestEventPosition } from '@azure/event-hubs';
import type { Bench } from '../src/cli/commands/bench.ts';
import { consumerFor, producerFor, type HubTarget } from '../src/streaming/connect.ts';
import { writeBehavioralDrop } from '../test/fixtures/behavioral-drop.ts';
import { replayDrop } from '../src/streaming/replay.ts';
import { startCli, stopChild } from './cli-process.ts';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'c360.mjs');
const HEAP_CAP_MB = 256;

async function startHubProcess(dataDir: string): Promise<{ cs: string; stop: () => Promise<void> }> {
  const { child, line } = await startCli(['hub', '--port', '0', '--data', dataDir, '--json'], (l) => l.startsWith('Endpoint='));
  return { cs: line, stop: () => stopChild(child) };
}

/** Receive-and-discard with the same client settings as the consumer: the endpoint's own rate. */
async function rawReceive(target: HubTarget, expected: number): Promise<number> {
  const client = await consumerFor(target, 'raw-receive');
  let n = 0;
  let first = 0;
  let last = 0;
  try {
    await new Promise<void>((resolve) => {
      const sub = client.subscribe(
        {
          processEvents: async (events) => {
            if (events.length === 0) return;
            if (!first) first = Date.now();
            n += events.length;
            last = Date.now();
            if (n >= expected) resolve();
          },
          processError: async () => {},
        },
        { startPosition: earliestEventPosition, maxBatchSize: 1000, prefetchCount: 2000, maxWaitTimeInSeconds: 1, skipParsingBodyAsJson: true },
      );
      void sub;
    });
  } finally {
    await client.close();
  }
  return (n / Math.max(1, last - first)) * 1000;
}

function streamProcess(cs: string, hub: string, home: string): Promise<{ rowCounts: Record<string, number>; metrics: Record<string, number> }> {
  // A 256 MB V8 heap cap: if memory grew with the backlog, the consumer would die here instead of finishing.
  const child = spawn(process.execPath, [CLI, 'stream', '--hub', hub, '--connection-string', cs, '--home', home, '--until-idle', '3', '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_CAP_MB}`.trim() },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`c360 stream exited with ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!));
    });
  });
}

export const bench: Bench = {
  name: 'streaming',
  description: 'Event Hubs (local endpoint) -> committed Bronze Parquet vs raw receive; consumer peak RSS',
  async run(ctx) {
    const events = Math.max(1000, Math.round(1_000_000 * ctx.scale));
    const drop = join(ctx.workDir, 'CUSTOMER_BEHAVIORAL_EVENTS.parquet');
    await writeBehavioralDrop(drop, { rows: events, invalidEvery: 1000, customers: 20_000 });
    const hub = await startHubProcess(join(ctx.workDir, 'hub'));
    try {
      const target: HubTarget = { hub: 'bench', connectionString: hub.cs };
      const producer = await producerFor(target);
      const t0 = Date.now();
      await replayDrop(producer, 'CUSTOMER_BEHAVIORAL_EVENTS', drop);
      await producer.close();
      const publishPerSec = Math.round((events / (Date.now() - t0)) * 1000);
      ctx.out(`published ${events} events (${publishPerSec}/s)`);

      const raw = Math.round(await rawReceive(target, events));
      ctx.out(`raw receive-and-discard: ${raw} events/s`);

      const r = await streamProcess(hub.cs, 'bench', join(ctx.workDir, 'home'));
      const committed = (r.rowCounts['CUSTOMER_BEHAVIORAL_EVENTS.bronze'] ?? 0) + (r.rowCounts['CUSTOMER_BEHAVIORAL_EVENTS.quarantine'] ?? 0);
      if (committed !== events) throw new Error(`Committed ${committed} records of ${events} sent`);
      const rate = r.metrics.eventsPerSecond!;
      const result = {
        events,
        publishPerSec,
        rawReceivePerSec: raw,
        committedPerSec: rate,
        ratioToRaw: Number((rate / raw).toFixed(2)),
        target: 0.5,
        batches: r.metrics.batches,
        activeMs: r.metrics.activeMs,
        commitMs: r.metrics.commitMs,
        consumerPeakRssMb: r.metrics.peakRssMb,
        consumerHeapCapMb: HEAP_CAP_MB,
      };
      ctx.out(`committed to Bronze: ${rate} events/s = ${result.ratioToRaw} x raw (target >= 0.5); ${result.batches} batches; consumer peak RSS ${result.consumerPeakRssMb} MB (V8 heap capped at ${HEAP_CAP_MB} MB)`);
      return result;
    } finally {
      await hub.stop();
    }
  },
};
