// Starting and stopping the collector: producers for the two hubs, the HTTP server, the periodic metrics log line, and
// a drain on stop (no new calls; every queued record answered by Event Hubs before the process exits).
import type { FastifyInstance } from 'fastify';
import { TransientError } from '../runtime/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import { producerFor, resolveTarget } from '../streaming/connect.ts';
import { DEFAULT_HUBS } from './hubs.ts';
import type { HubRole } from './mapping.ts';
import { Metrics } from './metrics.ts';
import { buildCollector } from './server.ts';
import { Budget, HubSender } from './sender.ts';
import type { WriteKey } from './write-keys.ts';


export interface StartOptions {
  keys: ReadonlyMap<string, WriteKey>;
  connectionString?: string;
  namespace?: string;
  hubs?: Partial<Record<HubRole, string>>;
  port?: number;
  host?: string;
  /** Byte budget for records waiting for Event Hubs (default 64 MiB). */
  maxPendingBytes?: number;
  ackTimeoutMs?: number;
  publicUrl?: string;
  logRequests?: boolean;
  /** Seconds between metrics log lines (0: none; default 60). */
  metricsIntervalSeconds?: number;
  log: Logger;
}

export interface RunningCollector {
  app: FastifyInstance;
  url: string;
  port: number;
  metrics: Metrics;
  senders: Record<HubRole, HubSender>;
  budget: Budget;
  /** Stop accepting, answer what is in flight, wait for Event Hubs on everything queued, close the producers. */
  stop(): Promise<void>;
}

export async function startCollector(o: StartOptions): Promise<RunningCollector> {
  const hubs = { ...DEFAULT_HUBS, ...Object.fromEntries(Object.entries(o.hubs ?? {}).filter(([, v]) => v)) };
  const budget = new Budget(o.maxPendingBytes ?? 64 * 1024 * 1024);
  const ackTimeoutMs = o.ackTimeoutMs ?? 10_000;
  // Fail a send within the request's wait instead of the client's 60 s default, so the caller learns to retry.
  const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1000, timeoutInMs: Math.max(1000, Math.floor(ackTimeoutMs / 2)) };
  const senders = {} as Record<HubRole, HubSender>;
  for (const role of ['behavioral', 'identity'] as const) {
    const target = resolveTarget(hubs[role], o.connectionString, o.namespace);
    const producer = await producerFor(target, { retryOptions });
    const sender = new HubSender(hubs[role], producer, budget, { onError: (e) => o.log.warn('Event Hubs send failed', { hub: hubs[role], error: e instanceof Error ? e.message : String(e) }) });
    try {
      await sender.open();
    } catch (e) {
      await producer.close().catch(() => {});
      throw new TransientError(`Cannot reach event hub '${hubs[role]}' at ${target.namespace ?? 'the connection string\'s endpoint'}: ${describe(e)}`, e);
    }
    senders[role] = sender;
  }
  const metrics = new Metrics();
  const app = await buildCollector({ keys: o.keys, senders, budget, ackTimeoutMs, log: o.log, metrics, publicUrl: o.publicUrl, logRequests: o.logRequests });
  await app.listen({ port: o.port ?? 8080, host: o.host ?? '0.0.0.0' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (o.port ?? 8080);
  const gauges = () => ({ pendingBytes: budget.bytes, hubs: Object.fromEntries(Object.values(senders).map((s) => [s.hub, { ...s.stats, available: s.retryAfterSeconds() === 0 }])) });
  const interval = (o.metricsIntervalSeconds ?? 60) * 1000;
  const timer = interval > 0 ? setInterval(() => o.log.info('collector metrics', metrics.summary(gauges())), interval) : undefined;
  timer?.unref();
  return {
    app,
    port,
    url: `http://${o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1'}:${port}`,
    metrics,
    senders,
    budget,
    async stop() {
      if (timer) clearInterval(timer);
      await app.close();
      await Promise.all(Object.values(senders).map((s) => s.close()));
      o.log.info('collector stopped', metrics.summary(gauges()));
    },
  };
}

/** The Event Hubs client's errors may carry only a code (ECONNREFUSED) or a nested cause. */
function describe(e: unknown): string {
  const err = e as { message?: string; code?: string; name?: string; cause?: unknown; errors?: unknown[] };
  const inner = err?.errors?.[0] ?? err?.cause;
  return [err?.message, err?.code, inner ? describe(inner) : undefined, err?.name].filter((x) => x && String(x).trim() !== '')[0] ?? String(e);
}
