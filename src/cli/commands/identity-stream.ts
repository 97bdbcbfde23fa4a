// `c360 identity-stream`: link customer records from the identity topic into the graph as they arrive and publish
// the change events (src/identity/stream.ts). SIGTERM/SIGINT drain: stop receiving, commit what is buffered, exit 0.
import { resolve } from 'node:path';
import { CHANGES_HUB } from '../../identity/outbox.ts';
import { IDENTITY_CONSUMER_GROUP, RECORDS_HUB, runIdentityStream } from '../../identity/stream.ts';
import { UsageError } from '../../runtime/errors.ts';
import { resolveTarget } from '../../streaming/connect.ts';
import { HOME_OPTION, int, requireStr, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'identity-stream',
  summary: `Link customer records from ${RECORDS_HUB} into the identity graph (--state DIR) as they arrive; publish each change to ${CHANGES_HUB}`,
  options: {
    ...HOME_OPTION,
    state: { type: 'string', description: 'Identity graph folder (DIR/graph.duckdb), built first with c360 resolve --incremental --state DIR --input F' },
    hub: { type: 'string', description: 'Records topic', default: RECORDS_HUB },
    'changes-hub': { type: 'string', description: 'Topic the change events go to', default: CHANGES_HUB },
    'connection-string': { type: 'string', description: 'Connection string (default: $C360_EVENTHUBS_CONNECTION_STRING)' },
    namespace: { type: 'string', description: 'Namespace for DefaultAzureCredential (default: $C360_EVENTHUBS_NAMESPACE)' },
    'consumer-group': { type: 'string', description: 'Consumer group on the records topic', default: IDENTITY_CONSUMER_GROUP },
    tenant: { type: 'string', description: 'Tenant of records without a TENANT_ID', default: 'default' },
    'max-records': { type: 'string', description: 'Largest batch linked in one graph transaction', default: '1000' },
    'until-idle': { type: 'string', description: 'Stop after this many seconds without records (default: run until SIGTERM)' },
  },
  async run(values, _p, io) {
    const state = resolve(requireStr(values, 'state'));
    const target = resolveTarget(str(values, 'hub') ?? RECORDS_HUB, str(values, 'connection-string'), str(values, 'namespace'));
    const maxRecords = int(values, 'max-records', 1000);
    if (maxRecords < 1) throw new UsageError(`--max-records must be at least 1, got ${maxRecords}`);
    const untilIdle = str(values, 'until-idle') === undefined ? undefined : int(values, 'until-idle', 0);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    try {
      const r = await runIdentityStream({
        state, target, changesHub: str(values, 'changes-hub'), consumerGroup: str(values, 'consumer-group'), tenant: str(values, 'tenant'),
        log: io.log, maxRecords, untilIdleSeconds: untilIdle, signal: abort.signal,
      });
      io.log.info('identity stream stopped', { ...r });
      io.out(JSON.stringify(r));
      return 0;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  },
};
