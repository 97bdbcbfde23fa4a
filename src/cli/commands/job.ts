// `c360 job <name>`: runs one job of the pipeline definition. This is the command ADF's job compute runs,
// so what runs in Azure is exactly what runs on a laptop.
import { Engine } from '../../engine/duckdb.ts';
import { localLakeOf, openLake } from '../../lake/index.ts';
import { resolveAsOf } from '../../runtime/as-of.ts';
import { jobRegistry, runJob, today } from '../../orchestrator/local-runner.ts';
import { UsageError } from '../../runtime/errors.ts';
import { newRunId, writeManifest } from '../../runtime/manifest.ts';
import type { Job } from '../../runtime/job.ts';
import { checkJobLocations, checkJobParams } from '../../runtime/params.ts';
import { HOME_OPTION, homeOf, isoDate, str, type Command, type Values } from '../command.ts';

export const command: Command = {
  name: 'job',
  summary: 'Run one job of the pipeline definition (what ADF runs on the job compute)',
  args: '<job-name>',
  options: {
    ...HOME_OPTION,
    param: { type: 'string', multiple: true, description: 'Job parameter name=value (repeatable)' },
    'run-date': { type: 'string', description: 'Ingestion partition date YYYY-MM-DD (default: today, UTC)' },
    'as-of': { type: 'string', description: 'As-of date YYYY-MM-DD (default: --param asOf, else the latest event date in the data)' },
    'load-id': { type: 'string', description: 'Load id (ADF: @pipeline().RunId)' },
    'run-id': { type: 'string', description: 'Run id for the manifest (default: new)' },
    lake: { type: 'string', description: 'Lake location (default: $C360_LAKE_URL or HOME/lake)' },
    list: { type: 'boolean', description: 'List the jobs' },
    force: { type: 'boolean', description: "Accept an as-of date outside the data's event dates" },
  },
  details(positionals) {
    const job = positionals[0] ? jobRegistry().get(positionals[0]) : undefined;
    if (!job) return '\n\n`c360 job --list` lists the jobs; `c360 job <name> --help` shows its parameters.';
    const lines = ['', '', `${job.name}: ${job.description}`, '', 'Parameters (--param name=value):'];
    for (const p of job.params ?? []) lines.push(`  ${p.name.padEnd(24)}${p.description}${p.required ? ' (required)' : ''}`);
    if ((job.params ?? []).length === 0) lines.push('  (none)');
    return lines.join('\n');
  },
  lockScope(values, positionals) {
    // One writer per job and table/hub: ADF's ForEach runs tables in parallel, a second run of the same one waits.
    const scoped = ((values.param as string[] | undefined) ?? []).filter((p) => /^(table|hub)=/.test(p)).map((p) => p.slice(p.indexOf('=') + 1));
    return positionals[0] && !values.list ? [positionals[0], ...scoped].join('.') : undefined;
  },
  async precheck(values, positionals) {
    // Every refusal before the home lock (which creates the home) and the 'running' manifest: a typo changes nothing.
    if (values.list || positionals.length === 0) return;
    const { job, params } = invocationOf(values, positionals);
    isoDate(values, 'run-date');
    isoDate(values, 'as-of');
    homeOf(values);
    // Input folders and prefixes of a local lake (an ADLS lake's are checked by runJob, after its lease).
    const lake = localLakeOf(homeOf(values), str(values, 'lake'));
    if (!lake) return;
    await checkJobLocations(job, params, lake);
    // The as-of date by the rule runJob applies (given and in the data's range, or the data's latest date): a wrong
    // one is refused before the lock and the manifest. runJob resolves it again under the lock, as the data may move.
    if (job.usesAsOf) {
      await resolveAsOf({ option: isoDate(values, 'as-of'), param: params.asOf, lake, force: values.force === true, openEngine: () => Engine.open() });
    }
  },
  async run(values, positionals, io) {
    const jobs = jobRegistry();
    if (values.list || positionals.length === 0) {
      const width = Math.max(...[...jobs.keys()].map((n) => n.length)) + 2;
      for (const j of jobs.values()) io.out(`${j.name.padEnd(width)}${j.description}`);
      return positionals.length === 0 && !values.list ? 2 : 0;
    }
    const { job, params } = invocationOf(values, positionals);
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const runId = str(values, 'run-id') ?? newRunId();
    const loadId = str(values, 'load-id') ?? runId;
    const runDate = isoDate(values, 'run-date') ?? today();
    const asOf = isoDate(values, 'as-of');
    const started = new Date().toISOString();
    const manifestName = `${runId}.${job.name}${params.table ? `.${params.table}` : ''}`;
    // A 'running' manifest first: a job killed mid-way still leaves one (c360 runs shows it as interrupted).
    await writeManifest(home, lake, {
      runId, loadId, command: `c360 job ${job.name}`, pipeline: 'job', runDate, asOf, home, lake: lake.location,
      status: 'running', startedAt: started, jobs: [],
    }, manifestName);
    const entry = await runJob(
      job,
      { home, lake, log: io.log.child({ runId, job: job.name }), runId, loadId, runDate, asOf, force: values.force === true },
      params,
      { activity: job.name, stage: 'job', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 24 * 60 },
    );
    await writeManifest(
      home,
      lake,
      {
        runId, loadId, command: `c360 job ${job.name}`, pipeline: 'job', runDate, asOf: entry.asOf, home, lake: lake.location,
        status: entry.status, startedAt: started, endedAt: entry.endedAt, durationMs: entry.durationMs, jobs: [entry],
      },
      manifestName,
    );
    if (entry.status === 'failed') {
      io.log.error(`${job.name} failed`, { error: entry.error?.message });
      // Exit 75 (EX_TEMPFAIL) tells the orchestrator a retry may help; 1 means it will not.
      return entry.error?.transient ? 75 : entry.error?.usage ? 2 : 1;
    }
    io.log.info(`${job.name} succeeded`, { rowCounts: entry.rowCounts });
    return 0;
  },
};

/** The job named and its --param values, checked (unknown job, extra words, malformed or repeated --param, values). */
function invocationOf(values: Values, positionals: string[]): { job: Job; params: Record<string, string> } {
  const jobs = jobRegistry();
  const job = jobs.get(positionals[0]!);
  if (!job) throw new UsageError(`Unknown job '${positionals[0]}'. Jobs: ${[...jobs.keys()].join(', ')}`);
  if (positionals.length > 1) throw new UsageError(`c360 job takes one job name; '${positionals.slice(1).join(' ')}' is extra (parameters go as --param name=value)`);
  const params: Record<string, string> = {};
  for (const p of (values.param as string[] | undefined) ?? []) {
    const eq = p.indexOf('=');
    if (eq < 1) throw new UsageError(`--param takes name=value, got '${p}'`);
    const name = p.slice(0, eq);
    // Given twice, the last one won silently (input=a then input=b ingested only b). Own keys only: 'constructor'
    // is `in` every object.
    if (Object.hasOwn(params, name)) throw new UsageError(`--param ${name} is given twice ('${params[name]}' and '${p.slice(eq + 1)}'): give it once`);
    params[name] = p.slice(eq + 1);
  }
  checkJobParams(job, params);
  return { job, params };
}
