// The local Event Hubs endpoint, driven by the real @azure/event-hubs client: properties, partitioned send,
// receive positions, consumer groups, owner level, persistence across a restart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  earliestEventPosition,
  EventHubConsumerClient,
  EventHubProducerClient,
  latestEventPosition,
  type EventPosition,
  type ReceivedEventData,
} from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultLine } from '../src/cli/command.ts';
import { parseSelector } from '../src/streaming/hub/partition-log.ts';
import { partitionForKey, startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';

let hub: LocalHub;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'c360-hub-'));
  hub = await startHub({ port: 0, partitions: 3, dataDir });
});
afterAll(async () => {
  await hub?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Receives from one partition until `count` events arrived (or 5 s passed). */
async function receive(cs: string, name: string, partitionId: string, startPosition: EventPosition, count: number, consumerGroup = '$Default'): Promise<ReceivedEventData[]> {
  const client = new EventHubConsumerClient(consumerGroup, cs, name);
  const got: ReceivedEventData[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 5000);
      const sub = client.subscribe(
        partitionId,
        {
          processEvents: async (events) => {
            got.push(...events);
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
          processError: async (e) => reject(e),
        },
        { startPosition, maxWaitTimeInSeconds: 0.3 },
      );
      void sub;
    });
  } finally {
    await client.close();
  }
  return got;
}

describe('selector filters', () => {
  it('parses the expressions the client sends', () => {
    expect(parseSelector("amqp.annotation.x-opt-offset > '-1'")).toEqual({ kind: 'earliest' });
    expect(parseSelector("amqp.annotation.x-opt-offset > '@latest'")).toEqual({ kind: 'latest' });
    expect(parseSelector("amqp.annotation.x-opt-offset >= '120'")).toEqual({ kind: 'offset', value: 120, inclusive: true });
    expect(parseSelector("amqp.annotation.x-opt-sequence-number > '5'")).toEqual({ kind: 'sequence', value: 5, inclusive: false });
    expect(parseSelector("amqp.annotation.x-opt-enqueued-time > '1700000000000'")).toEqual({ kind: 'time', value: 1700000000000, inclusive: false });
    expect(() => parseSelector('amqp.annotation.x-opt-foo > 1')).toThrow(/Unsupported selector/);
  });
});

describe('local Event Hubs endpoint with the real client', () => {
  it('reports hub and partition properties and routes sends by partition key, explicit partition and round robin', async () => {
    const producer = new EventHubProducerClient(hub.connectionString, 'routing');
    try {
      const props = await producer.getEventHubProperties();
      expect(props).toMatchObject({ name: 'routing', partitionIds: ['0', '1', '2'] });
      expect((await producer.getPartitionProperties('1')).isEmpty).toBe(true);

      const keyed = await producer.createBatch({ partitionKey: 'CUST-42' });
      for (let i = 0; i < 5; i++) expect(keyed.tryAdd({ body: { i } })).toBe(true);
      await producer.sendBatch(keyed);
      const expected = partitionForKey('CUST-42', 3);
      expect(hub.partitionCounts('routing')[expected]).toBe(5);

      await producer.sendBatch([{ body: 'a' }, { body: 'b' }], { partitionId: '2' });
      const p2 = await producer.getPartitionProperties('2');
      expect(p2.lastEnqueuedSequenceNumber).toBe((expected === 2 ? 5 : 0) + 1);
      expect(p2.isEmpty).toBe(false);

      // No key, no partition: round robin, one send to each partition.
      const before = hub.partitionCounts('routing');
      for (let i = 0; i < 3; i++) await producer.sendBatch([{ body: i }]);
      expect(hub.partitionCounts('routing')).toEqual(before.map((n) => n + 1));
    } finally {
      await producer.close();
    }
  });

  it('receives from earliest, latest, offset, sequence number and enqueued time, per consumer group', async () => {
    const producer = new EventHubProducerClient(hub.connectionString, 'positions');
    try {
      await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ body: { i }, properties: { n: i } })), { partitionId: '0' });
      const all = await receive(hub.connectionString, 'positions', '0', earliestEventPosition, 10);
      expect(all.map((e) => e.sequenceNumber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(all.map((e) => (e.body as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(all[3]!.properties).toEqual({ n: 3 });
      expect(Number(all[1]!.offset)).toBeGreaterThan(Number(all[0]!.offset));
      expect(all[0]!.enqueuedTimeUtc).toBeInstanceOf(Date);

      const bySeq = await receive(hub.connectionString, 'positions', '0', { sequenceNumber: 6 }, 3);
      expect(bySeq.map((e) => e.sequenceNumber)).toEqual([7, 8, 9]);
      const bySeqIncl = await receive(hub.connectionString, 'positions', '0', { sequenceNumber: 6, isInclusive: true }, 4);
      expect(bySeqIncl[0]!.sequenceNumber).toBe(6);
      const byOffset = await receive(hub.connectionString, 'positions', '0', { offset: all[7]!.offset }, 2);
      expect(byOffset.map((e) => e.sequenceNumber)).toEqual([8, 9]);

      await new Promise((r) => setTimeout(r, 20));
      const cut = new Date();
      await new Promise((r) => setTimeout(r, 20));
      await producer.sendBatch([{ body: 'late' }], { partitionId: '0' });
      const byTime = await receive(hub.connectionString, 'positions', '0', { enqueuedOn: cut }, 1);
      expect(byTime.map((e) => e.body)).toEqual(['late']);

      // Latest: only what is sent after the receiver attached.
      const client = new EventHubConsumerClient('$Default', hub.connectionString, 'positions');
      const got: unknown[] = [];
      const sub = client.subscribe('0', { processEvents: async (evs) => void got.push(...evs.map((e) => e.body)), processError: async () => {} }, { startPosition: latestEventPosition, maxWaitTimeInSeconds: 0.2 });
      await new Promise((r) => setTimeout(r, 700));
      await producer.sendBatch([{ body: 'newest' }], { partitionId: '0' });
      await new Promise((r) => setTimeout(r, 700));
      await sub.close();
      await client.close();
      expect(got).toEqual(['newest']);

      // Another consumer group reads the same events independently.
      const other = await receive(hub.connectionString, 'positions', '0', earliestEventPosition, 12, 'analytics');
      expect(other).toHaveLength(12);
    } finally {
      await producer.close();
    }
  });

  it('lets a receiver with a higher owner level take a partition over', async () => {
    const a = new EventHubConsumerClient('$Default', hub.connectionString, 'owners');
    const b = new EventHubConsumerClient('$Default', hub.connectionString, 'owners');
    const errors: string[] = [];
    const subA = a.subscribe('0', { processEvents: async () => {}, processError: async (e) => void errors.push((e as Error).name + ' ' + (e as Error).message) }, { ownerLevel: 1, maxWaitTimeInSeconds: 0.2 });
    await new Promise((r) => setTimeout(r, 600));
    const subB = b.subscribe('0', { processEvents: async () => {}, processError: async () => {} }, { ownerLevel: 2, maxWaitTimeInSeconds: 0.2 });
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all([subA.close(), subB.close()]);
    await Promise.all([a.close(), b.close()]);
    expect(errors.join('\n')).toMatch(/higher epoch|stolen/i);
  });

  it('persists partition logs: a restarted endpoint serves the same events at the same positions', async () => {
    const producer = new EventHubProducerClient(hub.connectionString, 'durable');
    await producer.sendBatch(Array.from({ length: 4 }, (_, i) => ({ body: `e${i}` })), { partitionId: '1' });
    await producer.close();
    const before = await receive(hub.connectionString, 'durable', '1', earliestEventPosition, 4);
    await hub.close();
    hub = await startHub({ port: 0, partitions: 3, dataDir });
    expect(hub.partitionCounts('durable')).toEqual([0, 4, 0]);
    const after = await receive(hub.connectionString, 'durable', '1', earliestEventPosition, 4);
    expect(after.map((e) => [e.sequenceNumber, e.offset, e.body])).toEqual(before.map((e) => [e.sequenceNumber, e.offset, e.body]));
    const producer2 = new EventHubProducerClient(hub.connectionString, 'durable');
    await producer2.sendBatch([{ body: 'e4' }], { partitionId: '1' });
    await producer2.close();
    const next = await receive(hub.connectionString, 'durable', '1', { sequenceNumber: 3 }, 1);
    expect(next.map((e) => [e.sequenceNumber, e.body])).toEqual([[4, 'e4']]);
  });
});

describe('c360 hub as a process', () => {
  it('exits on SIGTERM while a client is still connected (the collector bench stops it to simulate an outage)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'c360.mjs'), 'hub', '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const cs = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d;
        const line = out.split('\n').map((l) => resultLine(l.trim())).find((l) => l.startsWith('Endpoint='));
        if (line) resolve(line);
      });
    });
    const producer = new EventHubProducerClient(cs, 'still-connected');
    try {
      const batch = await producer.createBatch();
      batch.tryAdd({ body: 'x' });
      await producer.sendBatch(batch);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await producer.close().catch(() => undefined);
    }
  }, 30_000);
});
