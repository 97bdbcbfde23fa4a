// Publishing events to an Event Hubs topic with partition key = CUSTOMER360_ID (one customer's events stay in order)
// and each event id on the topic once per change. Before each chunk is sent, the cursor records the sequence number
// every partition had; after a crash, the events that arrived after those numbers are read back and their ids are not
// sent again. The buffered producer maps partition keys the way Event Hubs does and batches per partition.
import { EventHubBufferedProducerClient, EventHubConsumerClient, earliestEventPosition, type EventData } from '@azure/event-hubs';
import { TransientError } from '../runtime/errors.ts';
import { DEFAULT_CONSUMER_GROUP, type HubTarget } from '../streaming/connect.ts';

export interface TopicEvent {
  eventId: string;
  customer360Id: string;
  /** The event object (sent as JSON). */
  body: object;
}

export interface TopicClient {
  hub: string;
  partitionIds(): Promise<string[]>;
  /** Last sequence number per partition (-1: empty). */
  sequences(): Promise<Record<string, number>>;
  /** Event ids stored after the given sequence numbers (up to the partitions' current ends). */
  idsAfter(sequences: Record<string, number>): Promise<Set<string>>;
  send(events: readonly TopicEvent[]): Promise<void>;
  close(): Promise<void>;
}

const entityless = (cs: string) => cs.replace(/;?EntityPath=[^;]*/i, '');

async function credential() {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

export async function openTopic(t: HubTarget): Promise<TopicClient> {
  const errors: Error[] = [];
  const options = {
    onSendEventsErrorHandler: (ctx: { error: Error }) => void errors.push(ctx.error),
    maxWaitTimeInMs: 50,
    maxEventBufferLengthPerPartition: 5000,
  };
  const producer = t.connectionString
    ? new EventHubBufferedProducerClient(entityless(t.connectionString), t.hub, options)
    : new EventHubBufferedProducerClient(t.namespace!, t.hub, await credential(), options);
  const consumer = t.connectionString
    ? new EventHubConsumerClient(DEFAULT_CONSUMER_GROUP, entityless(t.connectionString), t.hub)
    : new EventHubConsumerClient(DEFAULT_CONSUMER_GROUP, t.namespace!, t.hub, await credential());
  let ids: string[] | undefined;
  const partitionIds = async () => (ids ??= await producer.getPartitionIds());
  return {
    hub: t.hub,
    partitionIds,
    async sequences() {
      const out: Record<string, number> = {};
      for (const p of await partitionIds()) {
        const props = await producer.getPartitionProperties(p);
        out[p] = props.isEmpty ? -1 : props.lastEnqueuedSequenceNumber;
      }
      return out;
    },
    async idsAfter(sequences) {
      const found = new Set<string>();
      for (const p of await partitionIds()) {
        const from = sequences[p] ?? -1;
        const props = await producer.getPartitionProperties(p);
        const end = props.isEmpty ? -1 : props.lastEnqueuedSequenceNumber;
        if (end <= from) continue;
        await new Promise<void>((resolve, reject) => {
          const sub = consumer.subscribe(p, {
            processEvents: async (events) => {
              for (const e of events) {
                const id = (e.properties?.eventId as string | undefined) ?? undefined;
                if (id) found.add(id);
                if (e.sequenceNumber >= end) {
                  await sub.close();
                  resolve();
                  return;
                }
              }
            },
            processError: async (err) => {
              await sub.close();
              reject(err);
            },
          }, { startPosition: from < 0 ? earliestEventPosition : { sequenceNumber: from, isInclusive: false }, maxBatchSize: 1000, maxWaitTimeInSeconds: 1 });
        });
      }
      return found;
    },
    async send(events) {
      const byKey = new Map<string, EventData[]>();
      for (const e of events) {
        const list = byKey.get(e.customer360Id) ?? [];
        list.push({ body: e.body, contentType: 'application/json', properties: { eventId: e.eventId, customer360Id: e.customer360Id } });
        byKey.set(e.customer360Id, list);
      }
      try {
        for (const [key, list] of byKey) await producer.enqueueEvents(list, { partitionKey: key });
        await producer.flush();
      } catch (e) {
        throw new TransientError(`topic ${t.hub}: send failed: ${(e as Error).message}`, e);
      }
      if (errors.length) {
        const first = errors.splice(0).at(0)!;
        throw new TransientError(`topic ${t.hub}: send failed: ${first.message}`, first);
      }
    },
    async close() {
      await producer.close({ flush: false }).catch(() => {});
      await consumer.close().catch(() => {});
    },
  };
}
