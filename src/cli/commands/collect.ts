// `c360 collect`: the Segment-compatible HTTP collector (docs/collect.md). Runs until SIGTERM/SIGINT, then stops
// accepting, waits for Event Hubs to acknowledge everything queued, and exits 0.
import { startCollector } from '../../collect/collector.ts';
import { loadWriteKeys } from '../../collect/write-keys.ts';
import { int, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'collect',
  summary: 'HTTP collector speaking the Segment tracking API (identify, track, page, screen, group, alias, batch) into Event Hubs',
  options: {
    port: { type: 'string', description: 'TCP port (0: any free port)', default: '8080' },
    host: { type: 'string', description: 'Interface to listen on', default: '0.0.0.0' },
    'write-key': { type: 'string', multiple: true, description: 'KEY[:TENANT[:SOURCE]], repeatable (also $C360_COLLECT_WRITE_KEYS, comma separated)' },
    'connection-string': { type: 'string', description: 'Event Hubs connection string (default: $C360_EVENTHUBS_CONNECTION_STRING)' },
    namespace: { type: 'string', description: 'Namespace for the managed identity (default: $C360_EVENTHUBS_NAMESPACE)' },
    'behavioral-hub': { type: 'string', description: 'Hub for track/page/screen', default: 'c360-behavioral-events' },
    'identity-hub': { type: 'string', description: 'Hub for identify/alias/group and identity links', default: 'c360-id-resolution' },
    'ack-timeout': { type: 'string', description: 'Milliseconds a request waits for Event Hubs before 503', default: '10000' },
    'max-pending-mb': { type: 'string', description: 'Memory for records awaiting Event Hubs; beyond it requests get 503', default: '64' },
    'public-url': { type: 'string', description: 'Public base URL analytics.js should send to (default: $C360_COLLECT_PUBLIC_URL, else the request Host)' },
    'log-requests': { type: 'boolean', description: 'Log every request (default: refused ones only)' },
    'metrics-interval': { type: 'string', description: 'Seconds between metrics log lines (0: none)', default: '60' },
    json: { type: 'boolean', description: 'JSON log lines even on a terminal' },
  },
  async run(values, _p, io) {
    const keys = loadWriteKeys((values['write-key'] as string[] | undefined) ?? []);
    const collector = await startCollector({
      keys,
      connectionString: str(values, 'connection-string'),
      namespace: str(values, 'namespace'),
      hubs: { behavioral: str(values, 'behavioral-hub'), identity: str(values, 'identity-hub') },
      port: int(values, 'port', 8080),
      host: str(values, 'host'),
      ackTimeoutMs: int(values, 'ack-timeout', 10_000),
      maxPendingBytes: int(values, 'max-pending-mb', 64) * 1024 * 1024,
      publicUrl: str(values, 'public-url') ?? (process.env.C360_COLLECT_PUBLIC_URL || undefined),
      logRequests: values['log-requests'] === true,
      metricsIntervalSeconds: int(values, 'metrics-interval', 60),
      log: io.log,
    });
    io.log.info('collector listening', {
      url: collector.url,
      writeKeys: keys.size,
      hubs: Object.fromEntries(Object.entries(collector.senders).map(([role, s]) => [role, `${s.hub} (${s.partitions} partitions)`])),
    });
    io.out(collector.url);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    io.log.info('stopping: answering requests in flight and waiting for Event Hubs');
    await collector.stop();
    return 0;
  },
};
