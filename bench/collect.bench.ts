// The collector under load, each part in its own process (the local Event Hubs endpoint, `c360 collect`, and the load
// generator here), all on this machine:
//   0. floor: the Event Hubs client sending the same records straight to the same endpoint, 100 per batch, 16 batches in
//      flight: what the endpoint and this machine allow at all (the collector's rate is also given as a ratio to it);
//   1. throughput: batch calls of 100 track events from 16 concurrent senders, accepted events/s (target >= 10,000);
//   2. latency: single calls at a fixed 1,000 requests/s (open loop), p50/p99 from send to answer (target p99 < 50 ms);
//   3. outage: the hub stopped for 30 s under the same 1,000 requests/s: every answer 503 + Retry-After, the collector's
//      RSS and pending bytes stay flat; then the hub restarts and calls are accepted again, and every call answered
//      200 over the whole run is in the hub.
// --scale shortens or lengthens the phases (scale 1: 15 s throughput, 15 s latency, 30 s outage).
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { EventHubConsumerClient, EventHubProducerClient } from '@azure/event-hubs';
import type { Bench } from '../src/cli/commands/bench.ts';
import { recordsOf } from '../src/collect/mapping.ts';
import { normaliseCall, type Call } from '../src/collect/spec.ts';
import { TABLE_PROPERTY } from '../src/streaming/replay.ts';
import { cpuOf, rssMb, startCli, stopChild } from './cli-process.ts';

const KEY = 'wk_bench_0123456789';
const AUTH = `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`;

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function post(url: URL, path: string, body: Buffer): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: 'POST', agent, headers: { authorization: AUTH, 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
      },
    );
    req.on('error', () => resolve({ status: 0 }));
    req.end(body);
  });
}

let seq = 0;
/** A track call like analytics.js sends (context with page and userAgent), from one of 10,000 signed-in visitors. */
function call(): Record<string, unknown> {
  const n = seq++;
  const user = n % 10_000;
  return {
    type: 'track',
    messageId: `bench-${process.pid}-${n}`,
    userId: `user-${user}`,
    anonymousId: `anon-${user}`,
    event: n % 3 === 0 ? 'Product Added' : n % 3 === 1 ? 'Products Searched' : 'Video Played',
    properties: { product_id: `P-${n % 500}`, price: 19.99, query: 'red shoes', position: n % 10 },
    context: { page: { url: `https://shop.example/p/${n % 500}`, title: 'Product', referrer: 'https://www.google.com/' }, userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36', locale: 'en-US', library: { name: 'analytics.js', version: 'next-1.84.3' } },
    timestamp: new Date().toISOString(),
  };
}

const quantile = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Open-loop load: `rate` single calls per second for `seconds`, each latency recorded. */
async function fixedRate(url: URL, rate: number, seconds: number, onTick?: () => void) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const retryAfter = new Set<string>();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const body = Buffer.from(JSON.stringify(call()));
      const t = performance.now();
      pending.push(
        post(url, '/v1/t', body).then((r) => {
          latencies.push(performance.now() - t);
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          if (r.retryAfter) retryAfter.add(r.retryAfter);
        }),
      );
    }
    onTick?.();
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  return { latencies, statuses, retryAfter: [...retryAfter], seconds: (performance.now() - start) / 1000 };
}

async function hubEvents(cs: string, hub: string): Promise<number> {
  const client = new EventHubConsumerClient('$Default', cs, hub);
  try {
    let n = 0;
    for (const id of await client.getPartitionIds()) {
      const p = await client.getPartitionProperties(id);
      if (!p.isEmpty) n += p.lastEnqueuedSequenceNumber + 1;
    }
    return n;
  } finally {
    await client.close();
  }
}

export const bench: Bench = {
  name: 'collect',
  description: 'c360 collect -> local Event Hubs: events/s in batches of 100, p99 latency at 1,000 requests/s, memory with the hub stopped',
  async run(ctx) {
    const s = Math.max(0.1, ctx.scale);
    const dataDir = join(ctx.workDir, 'hub');
    let hub = await startCli(['hub', '--port', '0', '--data', dataDir, '--json'], (l) => l.startsWith('Endpoint='));
    const cs = hub.line;
    const hubPort = /:(\d+);/.exec(cs)![1]!;
    const collector = await startCli(
      ['collect', '--port', '0', '--host', '127.0.0.1', '--write-key', KEY, '--connection-string', cs, '--metrics-interval', '0', '--json'],
      (l) => l.startsWith('http://'),
    );
    const url = new URL(collector.line);
    const pid = collector.child.pid!;
    let accepted = 0;
    try {
      // Warm up connections, JIT and the AMQP links.
      for (let i = 0; i < 20; i++) await post(url, '/v1/batch', Buffer.from(JSON.stringify({ batch: Array.from({ length: 100 }, call) })));
      accepted += 2000;

      // 0. Floor: the records the collector would send, straight from the Event Hubs client, 16 batches in flight.
      const wk = { key: KEY, tenant: 'default', source: 'WEB' };
      const records = Array.from({ length: 2000 }, () => {
        const c = normaliseCall(call(), undefined, { receivedAt: new Date(), scope: 'default\0WEB' }) as Call;
        return Buffer.from(recordsOf(c, wk, () => true)[0]!.body);
      });
      const producer = new EventHubProducerClient(cs, 'c360-floor');
      const partitions = await producer.getPartitionIds();
      const floorEnd = performance.now() + 10_000 * s;
      let floorEvents = 0;
      const f0 = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          for (let i = w; performance.now() < floorEnd; i += 16) {
            const b = await producer.createBatch({ partitionId: partitions[i % partitions.length] });
            for (let k = 0; k < 100; k++) b.tryAdd({ body: records[(i * 100 + k) % records.length]!, properties: { [TABLE_PROPERTY]: 'CUSTOMER_BEHAVIORAL_EVENTS' } });
            await producer.sendBatch(b);
            floorEvents += b.count;
          }
        }),
      );
      await producer.close();
      const floorPerSecond = Math.round(floorEvents / ((performance.now() - f0) / 1000));
      ctx.out(`floor: the Event Hubs client alone sends ${floorPerSecond} events/s to this endpoint (batches of 100, 16 in flight)`);

      // 1. Throughput: batches of 100 from 16 concurrent senders.
      const bodies = Array.from({ length: 64 }, () => Buffer.from(JSON.stringify({ batch: Array.from({ length: 100 }, call), sentAt: new Date().toISOString() })));
      const tpSeconds = 15 * s;
      const tpEnd = performance.now() + tpSeconds * 1000;
      const tpStatuses: Record<string, number> = {};
      let batches = 0;
      const cpu0 = { collector: cpuOf(pid), hub: cpuOf(hub.child.pid!) };
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async (_, w) => {
          for (let i = w; performance.now() < tpEnd; i += 16) {
            const r = await post(url, '/v1/batch', bodies[i % bodies.length]!);
            tpStatuses[r.status] = (tpStatuses[r.status] ?? 0) + 1;
            if (r.status === 200) batches++;
          }
        }),
      );
      const tpElapsed = (performance.now() - t0) / 1000;
      // CPU per event: what a core dedicated to the collector would sustain, whatever else this machine runs.
      const collectorCpuUs = ((cpuOf(pid) - cpu0.collector) / (batches * 100)) * 1e6;
      const hubCpuUs = ((cpuOf(hub.child.pid!) - cpu0.hub) / (batches * 100)) * 1e6;
      accepted += batches * 100;
      const eventsPerSecond = Math.round((batches * 100) / tpElapsed);
      const tpRss = rssMb(pid);
      const ratio = Number((eventsPerSecond / floorPerSecond).toFixed(2));
      ctx.out(`throughput: ${eventsPerSecond} events/s accepted in batches of 100 (target >= 10,000) = ${ratio} x the floor; statuses ${JSON.stringify(tpStatuses)}; collector RSS ${tpRss} MB`);
      ctx.out(`CPU per accepted event: collector ${collectorCpuUs.toFixed(0)} µs (${Math.round(1e6 / collectorCpuUs)} events per CPU-second), local endpoint ${hubCpuUs.toFixed(0)} µs`);

      // 2. Latency at 1,000 requests/s of single calls.
      const lat = await fixedRate(url, 1000, 15 * s);
      accepted += lat.statuses['200'] ?? 0;
      const p50 = quantile(lat.latencies, 0.5);
      const p99 = quantile(lat.latencies, 0.99);
      ctx.out(`latency at 1,000 requests/s: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...lat.latencies).toFixed(1)} ms (target p99 < 50 ms); statuses ${JSON.stringify(lat.statuses)}`);

      // 3. The hub stopped for 30 s under the same load.
      const before = rssMb(pid);
      await stopChild(hub.child);
      let peakRss = before;
      let peakPending = 0;
      const health = async () => {
        const r = await fetch(`${url.origin}/health`).then((x) => x.json() as Promise<{ pendingBytes: number }>).catch(() => undefined);
        if (r) peakPending = Math.max(peakPending, r.pendingBytes);
      };
      let tick = 0;
      const outage = await fixedRate(url, 1000, 30 * s, () => {
        peakRss = Math.max(peakRss, rssMb(pid));
        if (++tick % 100 === 0) void health();
      });
      accepted += outage.statuses['200'] ?? 0;
      const duringRss = rssMb(pid);
      ctx.out(`hub stopped ${Math.round(outage.seconds)} s at 1,000 requests/s: statuses ${JSON.stringify(outage.statuses)}, Retry-After ${outage.retryAfter.join('/')}; collector RSS ${before} MB before, peak ${peakRss} MB, ${duringRss} MB at the end; peak pending ${peakPending} bytes`);

      hub = await startCli(['hub', '--port', hubPort, '--data', dataDir, '--json'], (l) => l.startsWith('Endpoint='));
      const back = performance.now();
      let recovered = false;
      while (performance.now() - back < 60_000) {
        const r = await post(url, '/v1/batch', Buffer.from(JSON.stringify({ batch: Array.from({ length: 10 }, call) })));
        if (r.status === 200) {
          accepted += 10;
          recovered = true;
          break;
        }
        await new Promise((r2) => setTimeout(r2, 250));
      }
      const recoverySeconds = Number(((performance.now() - back) / 1000).toFixed(1));
      const inHub = await hubEvents(cs, 'c360-behavioral-events');
      ctx.out(`hub back: accepted again after ${recoverySeconds} s; events answered 200 over the run ${accepted}, in the hub ${inHub}${inHub >= accepted ? '' : ' (LOST EVENTS)'}`);
      return {
        floorEventsPerSecond: floorPerSecond,
        eventsPerSecond,
        ratioToFloor: ratio,
        collectorCpuMicrosPerEvent: Math.round(collectorCpuUs),
        collectorEventsPerCpuSecond: Math.round(1e6 / collectorCpuUs),
        hubCpuMicrosPerEvent: Math.round(hubCpuUs),
        targetEventsPerSecond: 10_000,
        throughputStatuses: tpStatuses,
        p50Ms: Number(p50.toFixed(1)),
        p99Ms: Number(p99.toFixed(1)),
        targetP99Ms: 50,
        latencyStatuses: lat.statuses,
        outageSeconds: Math.round(outage.seconds),
        outageStatuses: outage.statuses,
        outageRetryAfter: outage.retryAfter,
        collectorRssMb: { afterThroughput: tpRss, beforeOutage: before, peakDuringOutage: peakRss, endOfOutage: duringRss },
        peakPendingBytes: peakPending,
        recovered,
        recoverySeconds,
        acceptedEvents: accepted,
        eventsInHub: inHub,
      };
    } finally {
      await stopChild(collector.child);
      await stopChild(hub.child);
      agent.destroy();
    }
  },
};
