// How the streaming parts reach Event Hubs: a connection string (flag or C360_EVENTHUBS_CONNECTION_STRING), or in
// Azure a namespace (C360_EVENTHUBS_NAMESPACE, e.g. myns.servicebus.windows.net) with DefaultAzureCredential.
import { EventHubConsumerClient, EventHubProducerClient, type EventHubClientOptions } from '@azure/event-hubs';
import { UsageError } from '../runtime/errors.ts';

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

export async function producerFor(t: HubTarget, options?: EventHubClientOptions): Promise<EventHubProducerClient> {
  if (t.connectionString) return new EventHubProducerClient(namespaceOnly(t.connectionString), t.hub, options);
  return new EventHubProducerClient(t.namespace!, t.hub, await credential(), options);
}

export async function consumerFor(t: HubTarget, consumerGroup = DEFAULT_CONSUMER_GROUP): Promise<EventHubConsumerClient> {
  if (t.connectionString) return new EventHubConsumerClient(consumerGroup, namespaceOnly(t.connectionString), t.hub);
  return new EventHubConsumerClient(consumerGroup, t.namespace!, t.hub, await credential());
}
