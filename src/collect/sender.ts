// Sending records to one event hub and knowing when Event Hubs has them. Records are queued per partition (a stable
// hash of the partition key, the local endpoint's own mapping) and sent as soon as the partition has fewer than
// `maxInFlight` batches outstanding: an idle hub sends at once (low latency), a busy one sends what piled up during
// the previous send in one batch (throughput). A request's ticket resolves when every record of it is acknowledged,
// fails when any of them fails; records of an abandoned ticket (its request already answered 503) are not sent.
// Memory is bounded by a byte budget shared by all hubs: a request that does not fit is refused before it is queued.
import type { EventHubProducerClient } from '@azure/event-hubs';
import { partitionForKey } from '../streaming/hub/local-hub.ts';
import { TABLE_PROPERTY } from '../streaming/replay.ts';

/** Bytes of record bodies queued or in flight, across hubs. */
export class Budget {
  bytes = 0;
  constructor(readonly maxBytes: number) {}
  fits(n: number): boolean {
    return this.bytes + n <= this.maxBytes;
  }
}

/** One request's records: resolves once all are acknowledged, rejects on the first failure. */
export class Ticket {
  private remaining = 0;
  /** Answered already (acknowledged, failed or timed out): its queued records are dropped. */
  done = false;
  readonly promise: Promise<void>;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;
  constructor() {
    this.promise = new Promise<void>((res, rej) => ((this.resolve = res), (this.reject = rej)));
    // The request handler may have stopped waiting (timeout); an unobserved rejection must not crash the process.
    this.promise.catch(() => {});
  }
  add(n: number) {
    this.remaining += n;
  }
  /** Call once all records are queued: a ticket with nothing to send is acknowledged at once. */
  seal() {
    if (this.remaining === 0 && !this.done) ((this.done = true), this.resolve());
  }
  ack(n: number) {
    this.remaining -= n;
    if (this.remaining === 0 && !this.done) ((this.done = true), this.resolve());
  }
  fail(e: unknown) {
    if (!this.done) ((this.done = true), this.reject(e));
  }
  abandon() {
    this.fail(new Error('abandoned'));
  }
}

interface Item {
  body: Buffer;
  table: string;
  id: string;
  ticket: Ticket;
}

class PartitionQueue {
  items: Item[] = [];
  head = 0;
  inFlight = 0;
  assembling = false;
  constructor(readonly id: string) {}
  get length() {
    return this.items.length - this.head;
  }
  peek() {
    return this.items[this.head]!;
  }
  shift() {
    const it = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as Item;
    if (this.head > 1024 && this.head * 2 > this.items.length) ((this.items = this.items.slice(this.head)), (this.head = 0));
    return it;
  }
}

export interface SenderStats {
  batches: number;
  events: number;
  failures: number;
  /** Records dropped unsent because their request had been answered (timeout or another record's failure). */
  dropped: number;
}

export interface SenderOptions {
  /** Batches outstanding per partition (default 4): the hub's round trip, not CPU, bounds one partition's rate. */
  maxInFlight?: number;
  onError?: (e: unknown) => void;
}

export class HubSender {
  private queues: PartitionQueue[] = [];
  private cooldownMs = 0;
  private unavailableUntil = 0;
  lastError: string | null = null;
  readonly stats: SenderStats = { batches: 0, events: 0, failures: 0, dropped: 0 };
  private readonly maxInFlight: number;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly hub: string,
    private readonly producer: EventHubProducerClient,
    private readonly budget: Budget,
    private readonly options: SenderOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 4;
  }

  async open(): Promise<void> {
    const ids = await this.producer.getPartitionIds();
    this.queues = ids.map((id) => new PartitionQueue(id));
  }

  get partitions(): number {
    return this.queues.length;
  }

  /** Seconds until the hub is worth trying again after a failed send (0: available). */
  retryAfterSeconds(now = Date.now()): number {
    return this.unavailableUntil > now ? Math.ceil((this.unavailableUntil - now) / 1000) : 0;
  }

  /** Queues the records of one ticket (the caller checked the budget). */
  enqueue(records: readonly { key: string; table: string; id: string; body: Buffer }[], ticket: Ticket): void {
    const touched = new Set<PartitionQueue>();
    ticket.add(records.length);
    for (const r of records) {
      const q = this.queues[partitionForKey(r.key, this.queues.length)]!;
      q.items.push({ body: r.body, table: r.table, id: r.id, ticket });
      this.budget.bytes += r.body.length;
      touched.add(q);
    }
    for (const q of touched) void this.pump(q);
  }

  private release(it: Item) {
    this.budget.bytes -= it.body.length;
  }

  private async pump(q: PartitionQueue): Promise<void> {
    if (q.assembling) return;
    q.assembling = true;
    try {
      while (q.inFlight < this.maxInFlight && q.length > 0) {
        let batch;
        try {
          batch = await this.producer.createBatch({ partitionId: q.id });
        } catch (e) {
          this.failed(e);
          this.failQueued(q, e);
          return;
        }
        const taken: Item[] = [];
        while (q.length > 0) {
          const it = q.peek();
          if (it.ticket.done) {
            q.shift();
            this.release(it);
            this.stats.dropped++;
            continue;
          }
          // Only what Bronze routes on: each further field is AMQP encoding work per event (the id is in the body).
          const added = batch.tryAdd({ body: it.body, properties: { [TABLE_PROPERTY]: it.table } });
          if (!added) {
            if (taken.length === 0) {
              // Larger than an event may be (1 MB on Standard): cannot be sent at all.
              q.shift();
              this.release(it);
              it.ticket.fail(new Error(`a ${it.table} record of ${it.body.length} bytes is larger than an event may be`));
              continue;
            }
            break;
          }
          taken.push(q.shift());
        }
        if (taken.length === 0) continue;
        q.inFlight++;
        this.producer
          .sendBatch(batch)
          .then(
            () => {
              this.cooldownMs = 0;
              this.unavailableUntil = 0;
              this.stats.batches++;
              this.stats.events += taken.length;
              for (const it of taken) (this.release(it), it.ticket.ack(1));
            },
            (e) => {
              this.failed(e);
              for (const it of taken) (this.release(it), it.ticket.fail(e));
            },
          )
          .finally(() => {
            q.inFlight--;
            void this.pump(q);
            this.notifyIdle();
          });
      }
    } finally {
      q.assembling = false;
      this.notifyIdle();
    }
  }

  private failed(e: unknown) {
    this.stats.failures++;
    this.lastError = e instanceof Error ? e.message : String(e);
    this.cooldownMs = Math.min(Math.max(1000, this.cooldownMs * 2), 10_000);
    this.unavailableUntil = Date.now() + this.cooldownMs;
    this.options.onError?.(e);
  }

  private failQueued(q: PartitionQueue, e: unknown) {
    while (q.length > 0) {
      const it = q.shift();
      this.release(it);
      it.ticket.fail(e);
    }
  }

  private busy(): boolean {
    return this.queues.some((q) => q.length > 0 || q.inFlight > 0);
  }

  private notifyIdle() {
    if (this.busy()) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves once nothing is queued or in flight (shutdown: everything accepted has been answered by the hub). */
  drain(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  async close(): Promise<void> {
    await this.drain();
    await this.producer.close();
  }
}
