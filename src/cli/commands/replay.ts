// `c360 replay`: publishes the rows of a drop as events (batched, partition key = customer id) with
// EventHubProducerClient, for demos and tests against the local endpoint or Event Hubs.
import { resolve } from 'node:path';
import { partitionIdsOf, producerFor, resolveTarget } from '../../streaming/connect.ts';
import { replayDrop } from '../../streaming/replay.ts';
import { requireStr, str, type Command } from '../command.ts';
import { UsageError } from '../../runtime/errors.ts';

export const command: Command = {
  name: 'replay',
  summary: 'Publish the rows of a drop file to an event hub, one record per event (table in the `table` property)',
  options: {
    table: { type: 'string', description: 'Source table (contract name), e.g. CUSTOMER_BEHAVIORAL_EVENTS' },
    file: { type: 'string', description: 'Drop file (.parquet, .csv, .json/.jsonl)' },
    hub: { type: 'string', description: 'Event hub name' },
    'connection-string': { type: 'string', description: 'Connection string (default: $C360_EVENTHUBS_CONNECTION_STRING)' },
    namespace: { type: 'string', description: 'Namespace for DefaultAzureCredential (default: $C360_EVENTHUBS_NAMESPACE)' },
    limit: { type: 'string', description: 'Publish at most this many rows' },
    json: { type: 'boolean', description: 'JSON log lines even on a terminal' },
  },
  async run(values, _p, io) {
    const table = requireStr(values, 'table');
    const file = resolve(requireStr(values, 'file'));
    const limit = str(values, 'limit');
    if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError(`--limit must be a whole number, got '${limit}'`);
    const target = resolveTarget(str(values, 'hub'), str(values, 'connection-string'), str(values, 'namespace'));
    const producer = await producerFor(target);
    try {
      // Reach the hub first: an unreachable one fails within the connect bound, as a transient error (exit 75).
      await partitionIdsOf(producer, target);
      const r = await replayDrop(producer, table, file, {
        limit: limit === undefined ? undefined : Number(limit),
        onProgress: (sent) => io.log.progress('publishing', { table, sent }),
      });
      io.log.info('replayed', { table: r.table, hub: target.hub, events: r.events, batches: r.batches });
      io.out(JSON.stringify(r));
    } finally {
      await producer.close();
    }
    return 0;
  },
};
