// How the streaming parts reach Event Hubs: a connection string (flag or C360_EVENTHUBS_CONNECTION_STRING), or in
// Azure a namespace (C360_EVENTHUBS_NAMESPACE, e.g. myns.servicebus.windows.net) with DefaultAzureCredential.
import { EventHubConsumerClient, EventHubProducerClient, type EventHubClientOptions } from '@azure/event-hubs';
import { C360Error, TransientError, UsageError } from '../runtime/errors.ts';

export const DEFAULT_CONSUMER_GROUP = '$Default';

export interface HubTarget {
  hub: string;
  connectionString?: string;
  /** Fully qualified namespace for DefaultAzureCredential. */
  namespace?: string;
}

export function resolveTarget(hub: string | undefined, connectionString?: string, namespace?: string): HubTarget {
  const cs = connectionString ?? process.env.C360_EVENTHUBS_CONNECTION_STRING;
  const ns = namespace ?? process.env.C360_EVENTHUBS_NAMESPACE;
  const entity = cs ? /EntityPath=([^;]+)/i.exec(cs)?.[1] : undefined;
  const name = hub ?? entity ?? process.env.C360_EVENTHUBS_HUB;
  if (!name) throw new UsageError('Name the event hub with --hub (or EntityPath in the connection string, or C360_EVENTHUBS_HUB).');
  if (!cs && !ns) {
    throw new UsageError(
      'No Event Hubs connection: pass --connection-string, set C360_EVENTHUBS_CONNECTION_STRING, or set C360_EVENTHUBS_NAMESPACE ' +
        '(<name>.servicebus.windows.net, authenticated with DefaultAzureCredential). For a local endpoint run `c360 hub`.',
    );
  }
  if (cs) checkConnectionString(cs);
  return { hub: name, connectionString: cs, namespace: cs ? undefined : fqdn(ns!) };
}

/** Refuses a malformed connection string up front, naming where it came from (the SDK's own error does not). */
function checkConnectionString(cs: string): void {
  const parts = cs.split(';').filter((p) => p.trim() !== '');
  if (parts.some((p) => !p.includes('=')) || !parts.some((p) => /^Endpoint=sb:\/\//i.test(p.trim()))) {
    throw new UsageError(
      'The Event Hubs connection string (--connection-string or C360_EVENTHUBS_CONNECTION_STRING) is malformed: expected ' +
        "'Endpoint=sb://<host>;SharedAccessKeyName=<name>;SharedAccessKey=<key>[;EntityPath=<hub>]' " +
        "(local endpoint: 'Endpoint=sb://localhost:5672;SharedAccessKeyName=any;SharedAccessKey=any;UseDevelopmentEmulator=true').",
    );
  }
}

function fqdn(ns: string): string {
  const host = ns.replace(/^sb:\/\//, '').replace(/\/$/, '');
  return host.includes('.') ? host : `${host}.servicebus.windows.net`;
}

/** The connection string without EntityPath: the hub is always passed by name so one string serves all hubs. */
function namespaceOnly(cs: string): string {
  return cs
    .split(';')
    .filter((p) => p && !/^EntityPath=/i.test(p))
    .join(';');
}

async function credential() {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/**
 * The SDK's default retry waits 30 s between 3 retries, so an unreachable namespace failed after ~95 s with an
 * empty AggregateError. Seconds between retries instead; a long-running subscription still reconnects indefinitely.
 */
const RETRY = { retryDelayInMs: 1000, maxRetryDelayInMs: 5000 };

export async function producerFor(t: HubTarget, options?: EventHubClientOptions): Promise<EventHubProducerClient> {
  const o = { ...options, retryOptions: { ...RETRY, ...options?.retryOptions } };
  if (t.connectionString) return new EventHubProducerClient(namespaceOnly(t.connectionString), t.hub, o);
  return new EventHubProducerClient(t.namespace!, t.hub, await credential(), o);
}

export async function consumerFor(t: HubTarget, consumerGroup = DEFAULT_CONSUMER_GROUP): Promise<EventHubConsumerClient> {
  const o = { retryOptions: RETRY };
  if (t.connectionString) return new EventHubConsumerClient(consumerGroup, namespaceOnly(t.connectionString), t.hub, o);
  return new EventHubConsumerClient(consumerGroup, t.namespace!, t.hub, await credential(), o);
}

/** Seconds a client may take to reach the hub before the command gives up (C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS). */
export function connectTimeoutSeconds(): number {
  const v = process.env.C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS;
  const n = v === undefined || v === '' ? 15 : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS must be a positive number of seconds, got '${v}'`);
  return n;
}

/** Where a target points, for messages: the namespace host, never the key. */
export function describeTarget(t: HubTarget): string {
  const host = t.connectionString ? /Endpoint=sb:\/\/([^;/]+)/i.exec(t.connectionString)?.[1] : t.namespace;
  return `event hub '${t.hub}' in namespace ${host ?? '?'}`;
}

/**
 * The client's partition ids, within connectTimeoutSeconds(). Failing to reach the namespace is transient (exit 75: a
 * retry later may succeed); a missing hub or a refused credential is not, and each says what to fix.
 */
export async function partitionIdsOf(client: EventHubConsumerClient | EventHubProducerClient, t: HubTarget): Promise<string[]> {
  const seconds = connectTimeoutSeconds();
  const started = Date.now();
  try {
    return await client.getPartitionIds({ abortSignal: AbortSignal.timeout(seconds * 1000) });
  } catch (error) {
    throw hubError(error, t, seconds, (Date.now() - started) / 1000);
  }
}

function causeOf(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string; errors?: unknown[] };
  if (Array.isArray(e.errors) && e.errors.length > 0) return [...new Set(e.errors.map(causeOf))].join('; ');
  return e.message || e.code || e.name || String(error);
}

function hubError(error: unknown, t: HubTarget, bound: number, took: number): C360Error {
  const e = error as { name?: string; code?: string };
  const where = describeTarget(t);
  if (e.code === 'MessagingEntityNotFoundError') {
    return new C360Error(`The ${where} does not exist: create it, or name the right one with --hub (or EntityPath, C360_EVENTHUBS_HUB).`, { cause: error });
  }
  if (e.code === 'UnauthorizedError' || e.name === 'CredentialUnavailableError' || e.name === 'AuthenticationError') {
    return new C360Error(
      `The ${where} refused the credentials (${causeOf(error)}): check the connection string's SharedAccessKeyName/SharedAccessKey, or the identity's 'Azure Event Hubs Data Receiver/Sender' role.`,
      { cause: error },
    );
  }
  const why = e.name === 'AbortError' || e.name === 'TimeoutError' ? `no answer within ${bound} s` : causeOf(error);
  return new TransientError(
    `Could not reach the ${where} after ${took.toFixed(1)} s (${why}). Check the namespace host and port, the network and ` +
      `firewall, or start a local endpoint with \`c360 hub\`; retrying later may succeed (wait bound: C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS=${bound}).`,
    error,
  );
}
