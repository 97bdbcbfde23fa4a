import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Engine } from '../../engine/duckdb.ts';
import { localLakeOf, openLake } from '../../lake/index.ts';
import { resolveAsOf } from '../../runtime/as-of.ts';
import { MASTER } from '../../../pipelines/master.ts';
import { checkPipelineParams, exitCodeOf, runPipeline } from '../../orchestrator/local-runner.ts';
import { UsageError } from '../../runtime/errors.ts';
import { HOME_OPTION, homeOf, isoDate, str, type Command, type Values } from '../command.ts';

export const command: Command = {
  name: 'run',
  summary: 'Run the master pipeline locally (Bronze -> Silver -> Gold -> warehouse load)',
  options: {
    ...HOME_OPTION,
    input: { type: 'string', description: 'Folder of source drops (<TABLE>.csv|.parquet|.ndjson) to ingest first' },
    'run-date': { type: 'string', description: 'Ingestion partition date YYYY-MM-DD (default: today, UTC)' },
    'as-of': { type: 'string', description: 'As-of date for Silver/Gold YYYY-MM-DD (default: latest event date in the data)' },
    'load-id': { type: 'string', description: 'Load id stamped on rows (default: the run id)' },
    'horizon-days': { type: 'string', description: 'CLV/churn horizon in days', default: '90' },
    stream: { type: 'boolean', description: 'Route the streaming tables through Event Hubs (local endpoint if no connection string)' },
    'full-refresh': { type: 'boolean', description: 'Rebuild Silver from every Bronze file and Gold\'s daily aggregates from all of Silver, and train the models (default: process only what is new)' },
    'train-every-days': { type: 'string', description: 'Retrain the models when the stored ones are this many days older than the as-of date (default 7; in between, score with them)' },
    lake: { type: 'string', description: 'Lake location: folder, or ADLS URL (default: $C360_LAKE_URL or HOME/lake)' },
    force: { type: 'boolean', description: "Accept an --as-of outside the data's event dates" },
  },
  lockScope: () => 'pipeline',
  async precheck(values) {
    // The flags' own values first: they are wrong whatever the home.
    isoDate(values, 'run-date');
    const asOf = isoDate(values, 'as-of');
    const input = str(values, 'input');
    if (input && !existsSync(input)) throw new UsageError(`--input ${resolve(input)} does not exist: pass the folder holding the <TABLE>.csv|.parquet|.ndjson drops`);
    checkPipelineParams(MASTER, paramsOf(values));
    // A run with nothing to ingest on a home that does not exist (a typo'd --home or C360_HOME) created the home and
    // ran every stage over nothing before failing at the as-of date; a home's lake elsewhere (--lake) may hold data.
    const home = homeOf(values);
    if (!input && !str(values, 'lake') && !process.env.C360_LAKE_URL && !existsSync(home)) {
      throw new UsageError(`Home ${home} does not exist: check --home (or C360_HOME), run \`c360 start\` to create a sample home, or pass --input with the drops to ingest first`);
    }
    // With nothing to ingest (no --input, no --stream), the data the as-of date is checked against (or taken from) is already in a local lake:
    // a wrong date or a lake with no dated rows is refused before the lock and the manifest. The runner resolves it
    // again after Bronze ingestion (the data may have moved, or this run brings it).
    const lake = input || values.stream ? undefined : localLakeOf(home, str(values, 'lake'));
    if (lake) await resolveAsOf({ option: asOf, lake, force: values.force === true, openEngine: () => Engine.open() });
  },
  async run(values, _positionals, io) {
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const manifest = await runPipeline({
      home,
      lake,
      log: io.log,
      runDate: isoDate(values, 'run-date'),
      asOf: isoDate(values, 'as-of'),
      loadId: str(values, 'load-id'),
      force: values.force === true,
      command: `c360 run ${process.argv.slice(3).join(' ')}`.trim(),
      params: paramsOf(values),
    });
    return exitCodeOf(manifest);
  },
};

/** The pipeline parameters the flags set (checked by precheck, then passed to the runner). */
function paramsOf(values: Values): Record<string, string | undefined> {
  const input = str(values, 'input');
  return {
    input: input ? resolve(input) : undefined,
    stream: values.stream ? 'true' : 'false',
    fullRefresh: values['full-refresh'] ? 'true' : 'false',
    horizonDays: str(values, 'horizon-days'),
    ...(str(values, 'train-every-days') ? { trainEveryDays: str(values, 'train-every-days') } : {}),
  };
}
