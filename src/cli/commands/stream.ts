// `c360 stream`: the Event Hubs -> Bronze consumer (job bronze-stream) with a run manifest, as ADF runs it.
import { bronzeStreamJob } from '../../../jobs/bronze-stream.ts';
import { openLake } from '../../lake/index.ts';
import { runJob, today } from '../../orchestrator/local-runner.ts';
import { newRunId, writeManifest } from '../../runtime/manifest.ts';
import { HOME_OPTION, homeOf, int, isoDate, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'stream',
  summary: 'Consume Event Hubs into Bronze/quarantine exactly once (checkpoints in the lake; SIGTERM drains and commits)',
  options: {
    ...HOME_OPTION,
    hub: { type: 'string', description: 'Event hub name (or EntityPath in the connection string, or $C360_EVENTHUBS_HUB)' },
    'connection-string': { type: 'string', description: 'Connection string (default: $C360_EVENTHUBS_CONNECTION_STRING)' },
    namespace: { type: 'string', description: 'Namespace for DefaultAzureCredential (default: $C360_EVENTHUBS_NAMESPACE)' },
    'consumer-group': { type: 'string', description: 'Consumer group', default: '$Default' },
    'until-idle': { type: 'string', description: 'Stop after this many seconds with every partition caught up (default: run until SIGTERM)' },
    input: { type: 'string', description: 'With no connection: replay this folder\'s streaming drops through a local endpoint first' },
    'max-rows': { type: 'string', description: 'Roll a partition batch at this many events (default 50000)' },
    'max-bytes': { type: 'string', description: 'Roll a partition batch at this many bytes (default 32 MiB)' },
    'max-age': { type: 'string', description: 'Roll a partition batch at this age in seconds (default 30)' },
    lake: { type: 'string', description: 'Lake location (default: $C360_LAKE_URL or HOME/lake)' },
    'load-id': { type: 'string', description: 'Load id (ADF: @pipeline().RunId)' },
    'run-date': { type: 'string', description: 'Run date YYYY-MM-DD for the manifest (ingest dates come from enqueued times)' },
  },
  lockScope: (values) => `bronze-stream.${String(values.hub ?? 'default')}`,
  async run(values, _p, io) {
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const runId = newRunId();
    const loadId = str(values, 'load-id') ?? runId;
    const runDate = isoDate(values, 'run-date') ?? today();
    const untilIdle = str(values, 'until-idle');
    if (untilIdle !== undefined) int(values, 'until-idle', 0);
    const params: Record<string, string> = {};
    const set = (name: string, flag: string) => {
      const v = str(values, flag);
      if (v !== undefined) params[name] = v;
    };
    set('hub', 'hub');
    set('connectionString', 'connection-string');
    set('namespace', 'namespace');
    set('consumerGroup', 'consumer-group');
    set('untilIdle', 'until-idle');
    set('input', 'input');
    set('maxRows', 'max-rows');
    set('maxBytes', 'max-bytes');
    set('maxAgeSeconds', 'max-age');
    const started = new Date().toISOString();
    const log = io.log.child({ runId, job: bronzeStreamJob.name });
    const entry = await runJob(bronzeStreamJob, { home, lake, log, runId, loadId, runDate }, params, {
      activity: 'stream_events',
      stage: 'bronze',
      retry: 0,
      retryIntervalSeconds: 0,
      timeoutMinutes: 7 * 24 * 60,
    });
    const redacted = { ...entry, params: { ...entry.params, ...(entry.params.connectionString ? { connectionString: '***' } : {}) } };
    await writeManifest(
      home,
      lake,
      {
        runId, loadId, command: 'c360 stream', pipeline: 'stream', runDate, home, lake: lake.location,
        status: entry.status, startedAt: started, endedAt: entry.endedAt, durationMs: entry.durationMs, jobs: [redacted],
      },
      `${runId}.bronze-stream`,
    );
    if (entry.status === 'failed') {
      log.error('stream failed', { error: entry.error?.message });
      return entry.error?.usage ? 2 : entry.error?.transient ? 75 : 1;
    }
    log.info('stream committed', { rowCounts: entry.rowCounts, eventsPerSecond: entry.metrics.eventsPerSecond });
    io.out(JSON.stringify({ runId, rowCounts: entry.rowCounts, metrics: entry.metrics }));
    return 0;
  },
};
