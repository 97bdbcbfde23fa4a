// A small AMQP 1.0 endpoint that the real @azure/event-hubs client talks to (connection string with
// UseDevelopmentEmulator=true: plain AMQP, no TLS). It implements what the client uses: CBS put-token, $management
// READ for hub and partition properties, partitioned send (explicit partition, partition-key hashing, round robin;
// single messages and the 0x80013700 batch format), and receive from a selector filter (earliest, latest, offset,
// sequence number, enqueued time) with credit-based flow control, per consumer group. Any hub name works.
// A development tool, not a product: no authorisation, no retention, no quotas.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';
import rhea from 'rhea';
import { PartitionLog, parseSelector } from './partition-log.ts';

const BATCH_FORMAT = 0x80013700;
/** Event Hubs Standard's limit; the client sizes its batches by the link's max_message_size. */
export const MAX_MESSAGE_SIZE = 1024 * 1024;

export interface HubOptions {
  port?: number;
  host?: string;
  /** Partitions for a hub the first time it is named (default 4). */
  partitions?: number;
  /** Persist the partition logs under DIR/<hub>/<partition>.log (default: memory only). */
  dataDir?: string;
  onLog?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface LocalHub {
  readonly port: number;
  /** Connection string for the real client; add `;EntityPath=<hub>` or pass the hub name to the client. */
  readonly connectionString: string;
  /** Events stored per partition of a hub (for tests and the benchmark). */
  partitionCounts(hub: string): number[];
  close(): Promise<void>;
}

export function emulatorConnectionString(port: number, host = 'localhost'): string {
  return `Endpoint=sb://${host}:${port};SharedAccessKeyName=any;SharedAccessKey=any;UseDevelopmentEmulator=true`;
}

/** Partition for a partition key: a stable hash, so the same customer always lands in the same partition. */
export function partitionForKey(key: string, partitions: number): number {
  return createHash('md5').update(key).digest().readUInt32LE(0) % partitions;
}

// rhea's typings do not cover the link internals we set on attach (local.attach.*), so links are loosely typed.
type AnyLink = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type AnyContext = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Subscription {
  link: AnyLink;
  log: PartitionLog;
  next: number;
  consumerGroup: string;
  epoch?: number;
}

export async function startHub(options: HubOptions = {}): Promise<LocalHub> {
  const defaultPartitions = options.partitions ?? 4;
  const hubs = new Map<string, PartitionLog[]>();
  const subscriptions = new Set<Subscription>();
  const roundRobin = new Map<string, number>();
  const log = options.onLog ?? (() => {});
  const created = new Date();

  const hubFor = (name: string): PartitionLog[] => {
    let parts = hubs.get(name);
    if (!parts) {
      let n = defaultPartitions;
      const dir = options.dataDir ? join(options.dataDir, name) : undefined;
      if (dir && existsSync(dir)) {
        const existing = readdirSync(dir).filter((f) => /^\d+\.log$/.test(f)).length;
        if (existing > 0) n = existing;
      }
      parts = Array.from({ length: n }, (_, i) => new PartitionLog(name, String(i), dir ? join(dir, `${i}.log`) : undefined));
      hubs.set(name, parts);
      log('hub created', { hub: name, partitions: n });
    }
    return parts;
  };

  const pump = (sub: Subscription): void => {
    while (sub.link.sendable() && sub.next < sub.log.count) {
      const events = sub.log.read(sub.next, Math.max(1, Math.min(sub.link.credit, 512)));
      for (const e of events) {
        if (!sub.link.sendable()) return;
        sub.link.send(e, undefined, 0);
        sub.next++;
      }
    }
  };

  const append = (hub: string, partitionId: number | undefined, envelopeKey: string | undefined, messages: AnyContext[]): void => {
    const parts = hubFor(hub);
    const key = envelopeKey ?? messages[0]?.message_annotations?.['x-opt-partition-key'];
    let p = partitionId;
    if (p === undefined) {
      if (key !== undefined && key !== null) p = partitionForKey(String(key), parts.length);
      else {
        p = roundRobin.get(hub) ?? 0;
        roundRobin.set(hub, (p + 1) % parts.length);
      }
    }
    const plog = parts[p];
    if (!plog) throw new Error(`Partition ${p} does not exist in hub ${hub} (partitions 0..${parts.length - 1})`);
    for (const m of messages) {
      const t = plog.nextTime();
      m.message_annotations = {
        ...(m.message_annotations ?? {}),
        'x-opt-sequence-number': rhea.types.wrap_long(plog.count),
        'x-opt-offset': String(plog.nextOffset),
        'x-opt-enqueued-time': new Date(t),
        ...(key !== undefined && key !== null ? { 'x-opt-partition-key': String(key) } : {}),
      };
      plog.append(rhea.message.encode(m), t);
    }
    for (const sub of subscriptions) if (sub.log === plog) pump(sub);
  };

  const reply = (ctx: AnyContext, address: string, request: AnyContext, status: number, description: string, body?: unknown): void => {
    const senders: AnyLink[] = [];
    // The reply goes back over the connection's link whose source is the request address ($cbs, $management).
    ctx.connection.each_link((l: AnyLink) => {
      if (l.is_sender() && l.source?.address === address) senders.push(l);
    }, undefined);
    const target = senders.find((l) => l.target?.address === request.reply_to) ?? senders[0];
    if (!target) return;
    target.send({
      to: request.reply_to,
      correlation_id: request.message_id,
      application_properties: { 'status-code': status, 'status-description': description },
      body,
    });
  };

  const management = (ctx: AnyContext, request: AnyContext): void => {
    const props = request.application_properties ?? {};
    if (props.operation !== 'READ' || !props.name) return reply(ctx, '$management', request, 400, `Unsupported operation ${props.operation}`);
    const parts = hubFor(String(props.name));
    if (props.type === 'com.microsoft:eventhub') {
      return reply(ctx, '$management', request, 200, 'OK', {
        name: props.name,
        created_at: created,
        partition_count: parts.length,
        partition_ids: parts.map((_, i) => String(i)),
      });
    }
    if (props.type === 'com.microsoft:partition') {
      const plog = parts[Number(props.partition)];
      if (!plog || !/^\d+$/.test(String(props.partition))) return reply(ctx, '$management', request, 404, `Partition ${props.partition} not found`);
      const last = plog.count - 1;
      return reply(ctx, '$management', request, 200, 'OK', {
        name: props.name,
        partition: String(props.partition),
        begin_sequence_number: rhea.types.wrap_long(0),
        last_enqueued_sequence_number: rhea.types.wrap_long(last),
        last_enqueued_offset: last < 0 ? '-1' : String(plog.offsets.get(last)),
        last_enqueued_time_utc: new Date(last < 0 ? 0 : plog.times.get(last)),
        is_partition_empty: plog.count === 0,
      });
    }
    reply(ctx, '$management', request, 400, `Unsupported type ${props.type}`);
  };

  const container = rhea.create_container({ id: 'c360-local-event-hubs' });

  // A client sender attached: our receiver. Events, CBS tokens and management requests arrive here.
  container.on('receiver_open', (ctx: AnyContext) => {
    const link = ctx.receiver;
    const address: string = link.remote.attach.target?.address ?? '';
    link.local.attach.max_message_size = MAX_MESSAGE_SIZE;
    link.set_target({ address });
    if (address !== '$cbs' && address !== '$management') {
      const m = /^([^/]+)(?:\/Partitions\/(\d+))?$/i.exec(address);
      const parts = m ? hubFor(m[1]!) : undefined;
      if (!m || !parts || (m[2] !== undefined && !parts[Number(m[2])])) {
        link.close({ condition: 'amqp:not-found', description: `No such send address: ${address}` });
      }
    }
  });

  container.on('message', (ctx: AnyContext) => {
    const address: string = ctx.receiver.target?.address ?? '';
    try {
      if (address === '$cbs') {
        return reply(ctx, '$cbs', ctx.message, 200, 'OK');
      }
      if (address === '$management') return management(ctx, ctx.message);
      const m = /^([^/]+)(?:\/Partitions\/(\d+))?$/i.exec(address)!;
      const partition = m[2] === undefined ? undefined : Number(m[2]);
      if (ctx.format === BATCH_FORMAT) {
        const envelope = rhea.message.decode(ctx.message as Buffer) as AnyContext;
        const body = envelope.body;
        const sections: Buffer[] = body?.multiple ? body.content : body?.content !== undefined ? [body.content] : [];
        const inner = sections.map((b) => rhea.message.decode(b));
        append(m[1]!, partition, envelope.message_annotations?.['x-opt-partition-key'], inner);
      } else {
        append(m[1]!, partition, undefined, [ctx.message]);
      }
    } catch (e) {
      ctx.delivery?.reject({ condition: 'amqp:internal-error', description: (e as Error).message });
    }
  });

  // A client receiver attached: our sender, fed from the partition log from the position its filter names.
  container.on('sender_open', (ctx: AnyContext) => {
    const link = ctx.sender;
    const source = link.remote.attach.source ?? {};
    const address: string = source.address ?? '';
    link.set_source(source);
    if (address === '$cbs' || address === '$management') return;
    const m = /^([^/]+)\/ConsumerGroups\/([^/]+)\/Partitions\/(\d+)$/i.exec(address);
    const plog = m ? hubFor(m[1]!)[Number(m[3])] : undefined;
    if (!m || !plog) {
      link.close({ condition: 'amqp:not-found', description: `No such receive address: ${address}` });
      return;
    }
    const filter = source.filter?.['apache.org:selector-filter:string'];
    const expr = typeof filter === 'string' ? filter : filter?.value;
    let next: number;
    try {
      next = plog.startFor(parseSelector(expr));
    } catch (e) {
      link.close({ condition: 'amqp:invalid-field', description: (e as Error).message });
      return;
    }
    const epochRaw = link.remote.attach.properties?.['com.microsoft:epoch'];
    const epoch = epochRaw === undefined ? undefined : Number(epochRaw);
    // An owner level (epoch) takes the partition over from receivers of the same consumer group with a lower one.
    if (epoch !== undefined) {
      for (const other of subscriptions) {
        if (other.log === plog && other.consumerGroup === m[2] && (other.epoch ?? -1) < epoch) {
          other.link.close({ condition: 'amqp:link:stolen', description: `Receiver with higher epoch ${epoch} took over` });
          subscriptions.delete(other);
        }
      }
    }
    const sub: Subscription = { link, log: plog, next, consumerGroup: m[2]!, epoch };
    link.c360Subscription = sub;
    subscriptions.add(sub);
    log('receiver attached', { address, filter: expr, from: next });
  });

  container.on('sendable', (ctx: AnyContext) => {
    const sub = ctx.sender?.c360Subscription as Subscription | undefined;
    if (sub) pump(sub);
  });

  const drop = (link: AnyLink | undefined) => {
    const sub = link?.c360Subscription as Subscription | undefined;
    if (sub) subscriptions.delete(sub);
  };
  container.on('sender_close', (ctx: AnyContext) => drop(ctx.sender));
  container.on('disconnected', (ctx: AnyContext) => {
    for (const sub of [...subscriptions]) if (sub.link.connection === ctx.connection) subscriptions.delete(sub);
  });
  container.on('connection_close', (ctx: AnyContext) => {
    for (const sub of [...subscriptions]) if (sub.link.connection === ctx.connection) subscriptions.delete(sub);
  });
  // Errors on one client's connection must not take the endpoint down.
  container.on('error', (ctx: AnyContext) => log('connection error', { error: String(ctx?.error ?? ctx) }));

  const server = container.listen({ port: options.port ?? 5672, host: options.host ?? '127.0.0.1' }) as unknown as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  log('listening', { port });

  return {
    port,
    connectionString: emulatorConnectionString(port),
    partitionCounts: (hub) => hubFor(hub).map((p) => p.count),
    close: async () => {
      // With an error, so rhea's connection sees it ('error', not just 'close') and clears its heartbeat timers,
      // which would otherwise keep `c360 hub` alive after SIGTERM.
      for (const s of sockets) s.destroy(new Error('local Event Hubs endpoint closing'));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const parts of hubs.values()) for (const p of parts) p.close();
    },
  };
}
