// The local executor of the pipeline definition: runs the master pipeline in process, stage by stage, activities in
// dependency order, retrying transient failures by each activity's policy, and writes the run manifest.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MASTER } from '../../pipelines/master.ts';
import { bindParams, policyOf, topoSort, type Activity, type MasterPipeline } from '../../pipelines/ir.ts';
import { Engine } from '../engine/duckdb.ts';
import { RunEngines } from './engines.ts';
import type { Lake } from '../lake/lake.ts';
import { resolveAsOf, type AsOfResolution } from '../runtime/as-of.ts';
import { C360Error, isTransient, UsageError, withHint } from '../runtime/errors.ts';
import { emptyReport, type Job, type JobContext } from '../runtime/job.ts';
import type { Logger } from '../runtime/logger.ts';
import { newRunId, writeManifest, type JobRun, type RunManifest } from '../runtime/manifest.ts';
import { checkJobLocations, checkJobParams, checkValue } from '../runtime/params.ts';

export interface RunOptions {
  home: string;
  lake: Lake;
  log: Logger;
  runDate?: string;
  asOf?: string;
  loadId?: string;
  runId?: string;
  /** Pipeline parameters by name (input, stream, horizonDays, ...). */
  params?: Record<string, string | undefined>;
  pipeline?: MasterPipeline;
  command?: string;
  /** Seconds to wait between retries (tests shorten it). */
  retryIntervalOverride?: number;
  /** Accept an as-of date outside the data's range. */
  force?: boolean;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

export function makeJobContext(o: {
  home: string;
  lake: Lake;
  log: Logger;
  runId: string;
  loadId: string;
  runDate: string;
  asOf?: string;
  params: Record<string, string>;
  /** The run's shared DuckDB instance (a pipeline run); else each engine is an instance of its own. */
  engines?: RunEngines;
}): JobContext {
  const { engines, ...rest } = o;
  return {
    ...rest,
    report: emptyReport(),
    openEngine: (options) => (engines ? engines.open(options) : Engine.open({ tempDirectory: join(o.home, 'tmp', 'duckdb'), ...options })),
  };
}

/**
 * Runs one job with retries for transient errors; returns its manifest entry. A job that uses the as-of date gets the
 * one in `base` (the pipeline's), else one resolved here by the same rule (its asOf parameter, else the data).
 */
export async function runJob(
  job: Job,
  base: Omit<Parameters<typeof makeJobContext>[0], 'params'> & { force?: boolean },
  params: Record<string, string>,
  meta: { activity: string; stage: string; retry: number; retryIntervalSeconds: number; timeoutMinutes: number },
): Promise<JobRun> {
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const entry: JobRun = {
    activity: meta.activity,
    stage: meta.stage,
    job: job.name,
    params,
    status: 'running',
    attempts: 0,
    startedAt: new Date(started).toISOString(),
    ...emptyReport(),
  };
  const log = base.log.child({ activity: meta.activity });
  // Parameters are checked before any work: a typo fails here, not after Silver was rewritten or with nothing loaded.
  try {
    checkJobParams(job, params);
    await checkJobLocations(job, params, base.lake);
  } catch (error) {
    return finish(entry, started, { status: 'failed', error: errorOf(error) }, cpu0);
  }
  let asOf = base.asOf;
  if (job.usesAsOf) {
    try {
      const resolved = await resolveAsOf({ option: base.asOf, param: params.asOf, lake: base.lake, force: base.force, openEngine: () => base.engines?.open() ?? openScratchEngine(base.home) });
      asOf = resolved.asOf;
      entry.asOf = asOf;
    } catch (error) {
      return finish(entry, started, { status: 'failed', error: errorOf(error) }, cpu0);
    }
  }
  for (;;) {
    entry.attempts++;
    const ctx = makeJobContext({ ...base, asOf, log, params });
    try {
      await withTimeout(job.run(ctx), meta.timeoutMinutes * 60_000, `${meta.activity} timed out after ${meta.timeoutMinutes} min`);
      Object.assign(entry, ctx.report, { status: 'succeeded' });
      break;
    } catch (error) {
      const transient = isTransient(error);
      const message = (error as Error).message ?? String(error);
      if (transient && entry.attempts <= meta.retry) {
        log.warn(`transient failure, retrying in ${meta.retryIntervalSeconds}s`, { attempt: entry.attempts, error: message });
        await sleep(meta.retryIntervalSeconds * 1000);
        continue;
      }
      Object.assign(entry, ctx.report, { status: 'failed', error: errorOf(error) });
      break;
    } finally {
      base.engines?.afterJob();
    }
  }
  return finish(entry, started, {}, cpu0);
}

/** How a failure is recorded: its message, whether a retry may help, and whether it was the caller's input (exit 2). */
function errorOf(error: unknown): NonNullable<JobRun['error']> {
  const message = withHint((error as Error)?.message || String(error));
  return { message, transient: isTransient(error), ...(error instanceof UsageError ? { usage: true } : {}) };
}

function finish(entry: JobRun, started: number, patch: Partial<JobRun>, cpu0?: NodeJS.CpuUsage): JobRun {
  Object.assign(entry, patch);
  entry.endedAt = new Date().toISOString();
  entry.durationMs = Date.now() - started;
  if (cpu0) {
    const used = process.cpuUsage(cpu0);
    entry.cpuMs = Math.round((used.user + used.system) / 1000);
  }
  return entry;
}

function openScratchEngine(home: string): Promise<Engine> {
  return Engine.open({ tempDirectory: join(home, 'tmp', 'duckdb') });
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new C360Error(message, { transient: true })), ms);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

export async function runPipeline(options: RunOptions): Promise<RunManifest> {
  const pipeline = options.pipeline ?? MASTER;
  const runId = options.runId ?? newRunId();
  const loadId = options.loadId ?? runId;
  const runDate = options.runDate ?? today();
  checkPipelineParams(pipeline, { ...options.params, runDate: options.runDate, asOf: options.asOf });
  const started = Date.now();
  const manifest: RunManifest = {
    runId,
    loadId,
    command: options.command ?? 'run',
    pipeline: pipeline.name,
    runDate,
    asOf: options.asOf,
    home: options.home,
    lake: options.lake.location,
    status: 'running',
    startedAt: new Date(started).toISOString(),
    jobs: [],
  };
  const values: Record<string, string | undefined> = {
    ...Object.fromEntries(pipeline.parameters.map((p) => [p.name, p.default === undefined ? undefined : String(p.default)])),
    ...options.params,
    runDate,
    asOf: options.asOf ?? '',
    loadId,
  };
  // Sub-pipelines run alone (tests, tools) still bind the Silver activities' fullRefresh: incremental by default.
  values.fullRefresh ??= 'false';
  // Every activity's bound parameters are checked before the first stage: a value only a late job reads fails the
  // run here, not after Bronze and Silver were written.
  await checkActivityParams(pipeline, values, options.lake);
  const log = options.log.child({ runId });
  const engines = new RunEngines(join(options.home, 'tmp', 'duckdb'));
  try {
    return await runStages(options, pipeline, manifest, values, engines, log, started);
  } finally {
    await engines.close();
  }
}

async function runStages(
  options: RunOptions,
  pipeline: MasterPipeline,
  manifest: RunManifest,
  values: Record<string, string | undefined>,
  engines: RunEngines,
  log: Logger,
  started: number,
): Promise<RunManifest> {
  const { runId, loadId, runDate } = manifest;
  // Written now and after every job: a run killed at any point leaves a manifest saying how far it got.
  await writeManifest(options.home, options.lake, manifest);
  log.info('run started', { pipeline: pipeline.name, runDate, asOf: options.asOf ?? 'latest', lake: options.lake.location });
  // The as-of date is resolved once, before the first job that uses it (after Bronze ingestion, so a default taken
  // from the data sees the drops of this run), and the same value goes to every later job.
  let resolved: AsOfResolution | undefined;
  const ensureAsOf = async (stage: string): Promise<boolean> => {
    if (resolved) return true;
    const at = Date.now();
    try {
      resolved = await resolveAsOf({ option: options.asOf, lake: options.lake, force: options.force, openEngine: () => engines.open() });
    } catch (error) {
      const entry = finish({ activity: 'resolve_as_of', stage, job: 'resolve-as-of', params: {}, status: 'failed', attempts: 1, startedAt: new Date(at).toISOString(), ...emptyReport() }, at,
        { error: errorOf(error) });
      manifest.jobs.push(entry);
      log.error('as-of date unresolved', { error: entry.error?.message });
      return false;
    }
    manifest.asOf = resolved.asOf;
    manifest.asOfSource = resolved.source;
    values.asOf = resolved.asOf;
    log.info('as-of date', { asOf: resolved.asOf, source: resolved.source });
    return true;
  };

  // The as-of date (given, or taken from the data) is resolved before the first stage after Bronze ingestion (which does
  // not depend on it and may bring the data it is checked against or taken from): a wrong date, or a lake with no dated
  // rows, fails the run before Silver or Gold runs, not after they ran over nothing.
  const asOfLater = pipeline.stages.slice(1).some((s) => s.activities.some((a) => a.job.usesAsOf && (!a.when || truthy(values[a.when]))));
  outer: for (const stage of pipeline.stages) {
    if ((options.asOf || asOfLater) && stage !== pipeline.stages[0] && !(await ensureAsOf(stage.name))) {
      manifest.status = 'failed';
      break;
    }
    const activities = topoSort(stage.activities);
    log.info(`stage ${stage.title}`, { activities: activities.length });
    for (const activity of activities) {
      if (activity.when && !truthy(values[activity.when])) {
        manifest.jobs.push(skipped(activity, stage.name));
        continue;
      }
      if (activity.job.usesAsOf && !(await ensureAsOf(stage.name))) {
        manifest.status = 'failed';
        break outer;
      }
      const items = activity.forEach?.items ?? [undefined];
      const policy = policyOf(activity);
      for (const [i, item] of items.entries()) {
        const params = bindParams(activity.params, { ...values, item });
        const label = item === undefined ? activity.name : `${activity.name}[${item}]`;
        log.progress(`${stage.title}: ${label}`, { step: `${i + 1}/${items.length}` });
        const entry = await runJob(
          activity.job,
          // The run's as-of date was checked once when resolved: later jobs take it as is.
          { home: options.home, lake: options.lake, log, runId, loadId, runDate, asOf: resolved?.asOf ?? (options.asOf || undefined), force: true, engines },
          params,
          {
            activity: label,
            stage: stage.name,
            retry: policy.retry,
            retryIntervalSeconds: options.retryIntervalOverride ?? policy.retryIntervalSeconds,
            timeoutMinutes: policy.timeoutMinutes,
          },
        );
        manifest.jobs.push(entry);
        await writeManifest(options.home, options.lake, manifest);
        if (entry.status === 'failed') {
          log.error(`${label} failed`, { error: entry.error?.message, attempts: entry.attempts });
          manifest.status = 'failed';
          break outer;
        }
        log.info(`${label} done`, { ms: entry.durationMs, rowCounts: entry.rowCounts });
      }
    }
  }
  if (manifest.status === 'running') manifest.status = 'succeeded';
  manifest.endedAt = new Date().toISOString();
  manifest.durationMs = Date.now() - started;
  const file = await writeManifest(options.home, options.lake, manifest);
  log.info(`run ${manifest.status}`, { ms: manifest.durationMs, manifest: file });
  return manifest;
}

/**
 * The pipeline's parameters, checked before any work: unknown names, and each value against its declared check (or its
 * ADF type). Throws a UsageError naming every problem.
 */
/** Values the runner itself sets for every pipeline (checked by the CLI when given). */
const RUNNER_VALUES = ['runDate', 'asOf', 'loadId'];

export function checkPipelineParams(pipeline: MasterPipeline, values: Record<string, string | undefined>): void {
  const specs = new Map(pipeline.parameters.map((p) => [p.name, p]));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const spec = specs.get(name);
    if (!spec && (value === undefined || RUNNER_VALUES.includes(name))) continue;
    if (!spec) {
      problems.push(`unknown parameter '${name}' (known: ${[...specs.keys()].join(', ')})`);
      continue;
    }
    if (value === undefined || value === '') continue;
    const why = checkValue(spec.check ?? (spec.type === 'Int' ? { kind: 'int' } : spec.type === 'Bool' ? { kind: 'bool' } : undefined), value);
    if (why) problems.push(`${name}='${value}' ${why}`);
  }
  if (problems.length) throw new UsageError(`Pipeline ${pipeline.name}: ${problems.join('; ')}`);
}

/** Each activity that will run, its parameters bound to the run's values (the as-of date not yet resolved). */
async function checkActivityParams(pipeline: MasterPipeline, values: Record<string, string | undefined>, lake: Lake): Promise<void> {
  for (const stage of pipeline.stages) {
    for (const activity of stage.activities) {
      if (activity.when && !truthy(values[activity.when])) continue;
      for (const item of activity.forEach?.items ?? [undefined]) {
        const params = bindParams(activity.params, { ...values, item });
        checkJobParams(activity.job, params);
        await checkJobLocations(activity.job, params, lake);
      }
    }
  }
}

/** A run's exit code: 0 succeeded, 2 the caller's input was wrong, 75 a retry may help, 1 any other failure. */
export function exitCodeOf(manifest: RunManifest): number {
  if (manifest.status === 'succeeded') return 0;
  const error = manifest.jobs.find((j) => j.status === 'failed')?.error;
  return error?.usage ? 2 : error?.transient ? 75 : 1;
}

function skipped(activity: Activity, stage: string): JobRun {
  const now = new Date().toISOString();
  return { activity: activity.name, stage, job: activity.job.name, params: {}, status: 'skipped', attempts: 0, startedAt: now, endedAt: now, durationMs: 0, ...emptyReport() };
}

/** Every job the definition references, by name (the CLI's `c360 job <name>` registry). */
export function jobRegistry(pipeline: MasterPipeline = MASTER, extra: readonly Job[] = []): Map<string, Job> {
  const map = new Map<string, Job>();
  for (const stage of pipeline.stages) for (const a of stage.activities) map.set(a.job.name, a.job);
  for (const j of extra) map.set(j.name, j);
  return map;
}
