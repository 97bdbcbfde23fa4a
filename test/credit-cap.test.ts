// The receiver credit cap (src/streaming/credit-cap.ts), with the real @azure/event-hubs client against the local
// endpoint: a consumer that keeps up with a trickle of events makes the SDK pile up link credit without the cap
// (what let a 1M-event backlog exhaust the consumer's heap), and never holds more than the cap with it.
import { EventHubConsumerClient, EventHubProducerClient, latestEventPosition } from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rheaReceiverPrototype, setReceiverCreditCap, type RheaReceiver } from '../src/streaming/credit-cap.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';

let hub: LocalHub;
let maxCredit = 0;
beforeAll(async () => {
  hub = await startHub({ port: 0, partitions: 1 });
  // Install the cap's hook (off), then watch the credit of manual-credit links after every top-up.
  setReceiverCreditCap(0);
  const receiver = rheaReceiverPrototype();
  const flow = receiver.flow;
  const watched = function (this: RheaReceiver, credit: number): void {
    flow.call(this, credit);
    if (this.options?.credit_window === 0) maxCredit = Math.max(maxCredit, this.credit);
  };
  receiver.flow = watched;
  receiver.add_credit = watched;
});
afterAll(async () => {
  setReceiverCreditCap(0);
  await hub?.close();
});

/** Trickles 5 events every 25 ms for `ms` to a fast consumer (prefetch 100); returns events received and the peak credit. */
async function trickle(name: string, ms: number): Promise<{ sent: number; received: number; peak: number }> {
  maxCredit = 0;
  const producer = new EventHubProducerClient(hub.connectionString, name);
  const consumer = new EventHubConsumerClient('$Default', hub.connectionString, name);
  let received = 0;
  let sent = 0;
  try {
    const sub = consumer.subscribe(
      '0',
      {
        processEvents: async (events) => {
          received += events.length;
        },
        processError: async () => {},
      },
      { startPosition: latestEventPosition, maxBatchSize: 50, prefetchCount: 100, maxWaitTimeInSeconds: 0.05 },
    );
    await new Promise((r) => setTimeout(r, 300));
    const until = Date.now() + ms;
    while (Date.now() < until) {
      await producer.sendBatch(Array.from({ length: 5 }, (_, i) => ({ body: { i } })), { partitionId: '0' });
      sent += 5;
      await new Promise((r) => setTimeout(r, 25));
    }
    const deadline = Date.now() + 3000;
    while (received < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await sub.close();
  } finally {
    await producer.close();
    await consumer.close();
  }
  return { sent, received, peak: maxCredit };
}

describe('receiver credit cap', () => {
  it('without it the SDK grants credit far beyond the prefetch; with it the credit stays within the cap', async () => {
    setReceiverCreditCap(0);
    const leaky = await trickle('cap-off', 1500);
    expect(leaky.received).toBe(leaky.sent);
    expect(leaky.peak).toBeGreaterThan(500);

    setReceiverCreditCap(100);
    const capped = await trickle('cap-on', 1500);
    expect(capped.received).toBe(capped.sent);
    expect(capped.peak).toBeLessThanOrEqual(100);
    expect(capped.peak).toBeGreaterThan(0);
  });
});
