// The streaming Bronze consumer: EventHubConsumerClient, one subscription per partition (all in parallel), events
// buffered per partition and committed as micro-batches rolled by rows, bytes and age. Per batch, the data files
// are committed first and the partition's checkpoint (in the lake) second; a restart resumes after the checkpoint,
// and `_record_hash` dedupe makes re-reading an interrupted batch write nothing twice (docs/streaming.md).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { earliestEventPosition, type EventPosition as SdkPosition, type ReceivedEventData, type Subscription } from '@azure/event-hubs';
import type { Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { TransientError } from '../runtime/errors.ts';
import { owned, sweepStaleTmp } from '../runtime/tmp.ts';
import type { Logger } from '../runtime/logger.ts';
import { BatchSpool, poisonHighWater, writeBatch } from './batch-writer.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { consumerFor, DEFAULT_CONSUMER_GROUP, partitionIdsOf, type HubTarget } from './connect.ts';
import { receiverCreditCap, setReceiverCreditCap } from './credit-cap.ts';
import { decodeEvent } from './decode.ts';

export interface StreamOptions {
  target: HubTarget;
  consumerGroup?: string;
  lake: Lake;
  loadId: string;
  log: Logger;
  openEngine: () => Promise<Engine>;
  /** Scratch folder for batch files before they are committed. */
  tmpDir: string;
  /** Stop once every partition has been caught up (no events) for this many seconds; undefined: run until aborted. */
  untilIdleSeconds?: number;
  /** Graceful stop (SIGTERM): stop receiving, commit what is buffered, return. */
  signal?: AbortSignal;
  /** Roll a partition's batch at this many events (default 50,000), bytes (default 32 MiB) or age (default 30 s). */
  maxRows?: number;
  maxBytes?: number;
  maxAgeSeconds?: number;
  maxRecordBytes?: number;
  /** Events per receive call and client prefetch: with maxBytes, what bounds memory under a backlog. */
  receiveBatchSize?: number;
  /** Sealed batches per partition that may wait for their commit while receiving goes on (default 1). */
  maxQueuedBatches?: number;
  afterFile?: (path: string) => void;
}

export interface PartitionResult {
  partitionId: string;
  startedAfter: number | null;
  lastCommitted: number | null;
  events: number;
  batches: number;
}

export interface StreamResult {
  events: number;
  batches: number;
  outputs: string[];
  rowCounts: Record<string, number>;
  partitions: PartitionResult[];
  /** From the first event received to the last commit. */
  activeMs: number;
  /** Time spent writing and committing batches (the rest of activeMs is receiving and spooling). */
  commitMs: number;
  eventsPerSecond: number;
  peakRssMb: number;
}

interface PartitionState {
  id: string;
  spool: BatchSpool;
  spools: number;
  /** Since when the client has found no new events (an empty receive after its max wait); 0 while events flow. */
  caughtUpSince: number;
  startedAfter: number | null;
  lastCommitted: number | null;
  poisonHighWater: number;
  events: number;
  batches: number;
  /** Commits of this partition's sealed batches, oldest first, not yet waited for. */
  queued: Promise<unknown>[];
}

export async function runStream(o: StreamOptions): Promise<StreamResult> {
  const cg = o.consumerGroup ?? DEFAULT_CONSUMER_GROUP;
  const maxRows = o.maxRows ?? 50_000;
  const maxBytes = o.maxBytes ?? 32 * 1024 * 1024;
  const maxAgeMs = (o.maxAgeSeconds ?? 30) * 1000;
  const receiveBatch = o.receiveBatchSize ?? 1000;
  const maxQueued = o.maxQueuedBatches ?? 1;
  const runTag = o.loadId.replace(/[^A-Za-z0-9]/g, '').slice(-8) || 'run';
  // Spool files of this process (pid first: the next command removes a killed run's, src/runtime/tmp.ts).
  await sweepStaleTmp(o.tmpDir, 1);
  const spoolRoot = join(o.tmpDir, owned(runTag));
  await mkdir(spoolRoot, { recursive: true });

  // The SDK would otherwise let a receiver's credit, and so its queue, grow past the prefetch (credit-cap.ts).
  setReceiverCreditCap(Math.max(receiverCreditCap(), receiveBatch * 2));
  const client = await consumerFor(o.target, cg);
  const engine = await o.openEngine();
  const subscriptions: Subscription[] = [];
  const result: StreamResult = { events: 0, batches: 0, outputs: [], rowCounts: {}, partitions: [], activeMs: 0, commitMs: 0, eventsPerSecond: 0, peakRssMb: 0 };
  let firstEventAt = 0;
  let lastEventAt = 0;
  let drainFrom = 0;
  let lastCommitAt = 0;
  let fatal: unknown;
  // One flush at a time: they share the DuckDB engine, and serial commits keep memory predictable.
  let lane: Promise<unknown> = Promise.resolve();

  try {
    const ids = await partitionIdsOf(client, o.target);
    const states = new Map<string, PartitionState>();
    const started = Date.now();
    for (const id of ids) {
      const cp = await readCheckpoint(o.lake, o.target.hub, cg, id);
      states.set(id, {
        id,
        spool: new BatchSpool(join(spoolRoot, `p${id}-0`), o.target.hub, id),
        spools: 0,
        caughtUpSince: 0,
        startedAfter: cp?.sequenceNumber ?? null,
        lastCommitted: cp?.sequenceNumber ?? null,
        poisonHighWater: await poisonHighWater(o.lake, o.target.hub, id),
        events: 0,
        batches: 0,
        queued: [],
      });
    }

    const flush = (s: PartitionState): Promise<unknown> => {
      if (s.spool.count === 0) return Promise.resolve();
      const spool = s.spool;
      s.spool = new BatchSpool(join(spoolRoot, `p${s.id}-${++s.spools}`), o.target.hub, s.id);
      const run = async () => {
        // After a failed commit nothing more is committed: a later checkpoint of the same partition would skip
        // the failed batch. The run ends and the next one resumes from the last good checkpoint.
        if (fatal) throw fatal;
        const t0 = Date.now();
        const last = spool.lastEvent!;
        const r = await writeBatch(
          { engine, lake: o.lake, loadId: o.loadId, tmpDir: spoolRoot, runTag, poisonHighWater: s.poisonHighWater, afterFile: o.afterFile },
          spool,
        );
        // The position is committed only after every data file of the batch is.
        await writeCheckpoint(o.lake, {
          hub: o.target.hub,
          consumerGroup: cg,
          partitionId: s.id,
          sequenceNumber: last.sequenceNumber,
          offset: last.offset,
          enqueuedTime: last.enqueuedTime.toISOString(),
          committedAt: new Date().toISOString(),
          loadId: o.loadId,
          files: r.outputs,
        });
        s.lastCommitted = last.sequenceNumber;
        s.poisonHighWater = Math.max(s.poisonHighWater, last.sequenceNumber);
        s.batches++;
        result.batches++;
        result.outputs.push(...r.outputs);
        for (const [k, v] of Object.entries(r.rowCounts)) result.rowCounts[k] = (result.rowCounts[k] ?? 0) + v;
        lastCommitAt = Date.now();
        result.commitMs += lastCommitAt - t0;
        result.peakRssMb = Math.max(result.peakRssMb, process.memoryUsage().rss / 1048576);
        o.log.progress(`committed p${s.id} ${spool.first}..${spool.last}`, { events: result.events, batches: result.batches });
      };
      const p = lane.then(run);
      lane = p.catch((e) => {
        fatal ??= e;
      });
      return p;
    };

    const due = ({ spool }: PartitionState) =>
      spool.count >= maxRows || spool.bytes >= maxBytes || (spool.count > 0 && Date.now() - spool.openedAt >= maxAgeMs);

    for (const id of ids) {
      const s = states.get(id)!;
      const startPosition: SdkPosition = s.lastCommitted === null ? earliestEventPosition : { sequenceNumber: s.lastCommitted, isInclusive: false };
      subscriptions.push(
        client.subscribe(
          id,
          {
            processEvents: async (events: ReceivedEventData[]) => {
              if (events.length > 0) {
                const now = Date.now();
                if (!firstEventAt) firstEventAt = now;
                lastEventAt = now;
                s.caughtUpSince = 0;
                for (const e of events) s.spool.add(decodeEvent(id, e, { maxRecordBytes: o.maxRecordBytes, deferParse: true }));
                s.events += events.length;
                result.events += events.length;
              } else if (!s.caughtUpSince) {
                s.caughtUpSince = Date.now();
              }
              if (due(s)) {
                // Receiving goes on while sealed batches wait for and run their commits (a commit of one micro-batch
                // barely uses a second core); only past maxQueued uncommitted batches does the partition wait,
                // which is the backpressure that bounds spool disk and memory under a backlog.
                const p = flush(s);
                p.catch(() => undefined);
                s.queued.push(p);
                while (s.queued.length > maxQueued) await s.queued.shift()!.catch(() => undefined);
              }
            },
            processError: async (err) => {
              o.log.warn('event hubs receive error', { partition: id, error: (err as Error).message });
            },
          },
          { startPosition, maxBatchSize: receiveBatch, maxWaitTimeInSeconds: 1, prefetchCount: receiveBatch * 2, skipParsingBodyAsJson: true },
        ),
      );
    }
    o.log.info('streaming', {
      hub: o.target.hub,
      consumerGroup: cg,
      partitions: ids.length,
      resumeAfter: Object.fromEntries([...states.values()].map((s) => [s.id, s.lastCommitted])),
    });

    // Wait for the stop condition: aborted, idle long enough, or a failed commit.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        // Idle means every partition's receiver came back empty for the whole period: a partition that is busy
        // committing (not receiving) is not idle, however long the commit takes.
        const now = Date.now();
        const idle =
          o.untilIdleSeconds !== undefined &&
          [...states.values()].every((s) => s.caughtUpSince > 0 && now - s.caughtUpSince >= o.untilIdleSeconds! * 1000);
        if (fatal || o.signal?.aborted || idle) {
          clearInterval(timer);
          resolve();
        }
      }, 100);
      o.signal?.addEventListener('abort', () => {
        clearInterval(timer);
        resolve();
      });
    });

    // Drain: stop receiving, then commit what is buffered.
    drainFrom = Date.now();
    await Promise.all(subscriptions.map((s) => s.close()));
    if (!fatal) for (const s of states.values()) void flush(s);
    await lane;
    if (fatal) throw new TransientError(`Streaming commit failed: ${(fatal as Error).message}`, fatal);
    for (const s of states.values()) {
      result.partitions.push({ partitionId: s.id, startedAfter: s.startedAfter, lastCommitted: s.lastCommitted, events: s.events, batches: s.batches });
    }
    // Busy time: receiving and committing, without the idle wait that ends an --until-idle run.
    result.activeMs = !firstEventAt ? 0 : lastCommitAt >= drainFrom ? lastEventAt - firstEventAt + (lastCommitAt - drainFrom) : lastCommitAt - firstEventAt;
    result.eventsPerSecond = result.activeMs > 0 ? Math.round((result.events / result.activeMs) * 1000) : 0;
    result.peakRssMb = Math.round(Math.max(result.peakRssMb, process.resourceUsage().maxRSS / 1024));
    return result;
  } finally {
    await Promise.allSettled(subscriptions.map((s) => s.close()));
    await client.close().catch(() => {});
    engine.close();
    await rm(spoolRoot, { recursive: true, force: true });
  }
}

export const STREAM_TMP = (home: string) => join(home, 'tmp', 'stream');
