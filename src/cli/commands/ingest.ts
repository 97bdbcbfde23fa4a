// `c360 ingest --table T --file F`: one drop into Bronze/quarantine with the same core as the pipeline's
// bronze-ingest job; writes a run manifest and prints the counts.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { getContract } from '../../../schemas/index.ts';
import { ingestDrops } from '../../bronze/ingest-drops.ts';
import { formatOf } from '../../bronze/source.ts';
import { openLake } from '../../lake/index.ts';
import { runJob, today } from '../../orchestrator/local-runner.ts';
import { C360Error, deniedMessage, TransientError, UsageError } from '../../runtime/errors.ts';
import type { Job } from '../../runtime/job.ts';
import { newRunId, writeManifest } from '../../runtime/manifest.ts';
import { HOME_OPTION, homeOf, isoDate, requireStr, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'ingest',
  summary: 'Validate one drop (CSV, Parquet or NDJSON) of a table into Bronze; invalid records go to quarantine',
  options: {
    ...HOME_OPTION,
    table: { type: 'string', description: 'Source table, e.g. CUSTOMER_TRANSACTIONS' },
    file: { type: 'string', description: 'The drop file' },
    format: { type: 'string', description: 'csv | parquet | ndjson (default: from the file extension)' },
    'source-system': { type: 'string', description: 'Fallback _source_system for records without a SOURCE_SYSTEM field' },
    'run-date': { type: 'string', description: 'Ingest partition date YYYY-MM-DD (default: today, UTC)' },
    'load-id': { type: 'string', description: 'Load id stamped on rows (default: the run id)' },
    lake: { type: 'string', description: 'Lake location (default: $C360_LAKE_URL or HOME/lake)' },
  },
  lockScope: (values) => `bronze-ingest.${String(values.table ?? '').toUpperCase()}`,
  async precheck(values) {
    // The invocation's own mistakes before the home lock (which creates the home) and the 'running' manifest.
    contractOf(requireStr(values, 'table'));
    const file = resolve(requireStr(values, 'file'));
    const format = formatOf(file, str(values, 'format'));
    isoDate(values, 'run-date');
    const s = await stat(file).catch(() => undefined);
    if (!s) throw new UsageError(`Cannot read ${format} drop '${file}': no such file`);
    if (!s.isFile()) throw new UsageError(`Cannot read ${format} drop '${file}': not a regular file (a folder of drops is read by \`c360 run --input DIR\`)`);
  },
  async run(values, _positionals, io) {
    const contract = contractOf(requireStr(values, 'table'));
    const file = resolve(requireStr(values, 'file'));
    const format = formatOf(file, str(values, 'format'));
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const runId = newRunId();
    const loadId = str(values, 'load-id') ?? runId;
    const runDate = isoDate(values, 'run-date') ?? today();
    const job: Job = {
      name: 'bronze-ingest',
      description: 'Ingest one drop',
      params: [{ name: 'table', description: 'Source table' }, { name: 'file', description: 'The drop file' }],
      run: async (ctx) => {
        await ingestDrops(ctx, contract, [{ location: file, inLake: false, format }], { sourceSystem: str(values, 'source-system') });
      },
    };
    const started = new Date().toISOString();
    const command = `c360 ingest ${process.argv.slice(3).join(' ')}`.trim();
    // A 'running' manifest first: an ingest killed mid-way still leaves one (c360 runs shows it as interrupted).
    await writeManifest(home, lake, { runId, loadId, command, pipeline: 'ingest', runDate, home, lake: lake.location, status: 'running', startedAt: started, jobs: [] });
    const entry = await runJob(
      job,
      { home, lake, log: io.log.child({ runId }), runId, loadId, runDate },
      { table: contract.name, file },
      { activity: `ingest[${contract.name}]`, stage: 'bronze_ingestion', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 24 * 60 },
    );
    const manifestFile = await writeManifest(home, lake, {
      runId, loadId, command, pipeline: 'ingest', runDate, home, lake: lake.location,
      status: entry.status, startedAt: started, endedAt: entry.endedAt, durationMs: entry.durationMs, jobs: [entry],
    });
    if (entry.status === 'failed') {
      const message = entry.error?.message ?? 'ingest failed';
      // Bad input is the caller's to fix: report it as a usage error (exit 2) rather than a crash. A permission the
      // machine refused is not the input's fault (exit 1).
      if (!entry.error?.transient) throw deniedMessage(message) ? new C360Error(message) : new UsageError(message);
      // A busy lake, a full disk: retrying later can succeed (exit 75).
      throw new TransientError(message);
    }
    const c = (k: string) => entry.rowCounts[`${contract.name}.${k}`] ?? 0;
    io.out(`${contract.name}: input ${c('input')}, distinct ${c('distinct')}, already ingested ${c('alreadyIngested')}, duplicates dropped ${c('duplicatesDropped')}, bronze ${c('bronze')}, quarantine ${c('quarantine')}`);
    const codes = entry.metrics[`${contract.name}.reasonCodes`] as Record<string, number> | undefined;
    if (codes && Object.keys(codes).length > 0) io.out(`reasons: ${Object.entries(codes).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const o of entry.outputs) io.out(`wrote ${o}`);
    io.out(`manifest ${manifestFile}`);
    return 0;
  },
};

function contractOf(table: string) {
  try {
    return getContract(table);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
