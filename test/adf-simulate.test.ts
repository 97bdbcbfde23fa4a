// Runs the generated factory offline (src/adf/simulate) against a fake Container Apps jobs API: the master runs the
// stages in order, each job runs the same `c360 job` command line the local CLI accepts, failed attempts are retried
// per the definition's policy, timeouts stop the execution, and a failing job fails its stage and the master
// visibly (webhook + Fail) with later stages never started.
import { describe, expect, it } from 'vitest';
import type { MasterPipeline } from '../pipelines/ir.ts';
import { MASTER } from '../pipelines/master.ts';
import { parse } from '../src/cli/command.ts';
import { command as jobCommand } from '../src/cli/commands/job.ts';
import { commands as snowflakeCommands } from '../src/cli/commands/snowflake.ts';
import { compileFactory } from '../src/adf/compile.ts';
import { defaultValues } from '../src/adf/factory-params.ts';
import { withValues } from '../src/adf/render.ts';
import { AZURE_COMMANDS } from '../src/adf/pipelines.ts';
import { Simulator, type WebRequest, type WebResponse } from '../src/adf/simulate/run.ts';
import { evalValue, parseExpression } from '../src/adf/simulate/expression.ts';

const job = (name: string) => ({ name, description: name, run: async () => {} });
const DEF: MasterPipeline = {
  ...MASTER,
  stages: [
    {
      name: 'bronze_ingestion', title: 'Bronze ingestion', description: 'b',
      activities: [
        { name: 'ingest_batch', description: 'per table', job: job('bronze-batch'), params: { table: '{{item}}', input: '{{input}}' }, forEach: { items: ['CUSTOMERS', 'CUSTOMER_TRANSACTIONS'], batchCount: 2 } },
        { name: 'ingest_stream', description: 'streams', job: job('bronze-stream'), when: 'stream', params: { untilIdle: '30', stream: '{{stream}}' } },
      ],
    },
    {
      name: 'silver_processing', title: 'Silver processing', description: 's',
      activities: [
        { name: 'standardise', description: 'std', job: job('silver-standardise'), params: { asOf: '{{asOf}}', horizon: 'h={{horizonDays}}' } },
        { name: 'identity', description: 'idr', job: job('silver-identity'), dependsOn: ['standardise'], policy: { retry: 0, timeoutMinutes: 30, retryIntervalSeconds: 5 } },
      ],
    },
    { name: 'gold_aggregation', title: 'Gold aggregation', description: 'g', activities: [{ name: 'gold', description: 'g', job: job('gold-all') }] },
    { name: 'snowflake_load', title: 'Snowflake load', description: 'l', activities: [{ name: 'load', description: 'l', job: job('warehouse-load'), params: { warehouse: 'local.duckdb' } }] },
  ],
};

interface Outcome {
  minutes: number;
  status: 'Succeeded' | 'Failed';
}

/** A fake of the Container Apps jobs REST API (start, get execution, stop) and the notify webhook. */
class FakeAzure {
  readonly starts: { args: string[]; at: number; execution: string }[] = [];
  readonly stops: string[] = [];
  readonly notifications: Record<string, unknown>[] = [];
  private readonly executions = new Map<string, { startedAt: number; outcome: Outcome; stopped: boolean }>();
  constructor(private readonly script: (args: string[], attempt: number) => Outcome, private readonly values = defaultValues()) {}

  handle = (req: WebRequest, now: number): WebResponse => {
    if (req.url === this.values.notifyWebhookUrl) {
      this.notifications.push(req.body as Record<string, unknown>);
      return { status: 200, body: {} };
    }
    const base = `https://management.azure.com${this.values.containerAppsJobId as string}`;
    expect(req.authentication).toEqual({ type: 'MSI', resource: 'https://management.azure.com/' });
    expect(req.url.startsWith(base), req.url).toBe(true);
    const path = req.url.slice(base.length);
    if (req.method === 'POST' && path === '/start?api-version=2024-03-01') {
      const container = (req.body as { containers: { name: string; image: string; args: string[]; env: unknown; resources: unknown }[] }).containers[0]!;
      expect(container.name).toBe('c360');
      expect(container.image).toBe(this.values.jobImage);
      expect(container.env).toEqual(this.values.jobEnvironment);
      expect(container.resources).toEqual(this.values.jobResources);
      const attempt = this.starts.filter((s) => JSON.stringify(s.args) === JSON.stringify(container.args)).length + 1;
      const execution = `exec-${this.starts.length + 1}`;
      this.starts.push({ args: container.args, at: now, execution });
      this.executions.set(execution, { startedAt: now, outcome: this.script(container.args, attempt), stopped: false });
      return { status: 200, body: { name: execution, id: `${base}/executions/${execution}` } };
    }
    const m = /^\/executions\/([\w-]+)(\/stop)?\?api-version=2024-03-01$/.exec(path);
    const e = m && this.executions.get(m[1]!);
    if (!m || !e) return { status: 404, body: { error: { code: 'NotFound', message: path } } };
    if (m[2]) {
      expect(req.method).toBe('POST');
      e.stopped = true;
      this.stops.push(m[1]!);
      return { status: 200, body: {} };
    }
    const status = e.stopped ? 'Stopped' : now < e.startedAt + e.outcome.minutes * 60_000 ? 'Running' : e.outcome.status;
    return { status: 200, body: { name: m[1], properties: { status } } };
  };

  /** The job (c360 job <name>) or command (e.g. 'snowflake load') of every start, in order. */
  jobs(): string[] {
    return this.starts.map((s) => (s.args[0] === 'job' ? s.args[1]! : s.args.slice(0, 2).join(' ')));
  }
}

function simulate(def: MasterPipeline, script: (args: string[], attempt: number) => Outcome, parameters: Record<string, unknown> = { runDate: '2026-03-01' }) {
  const values = defaultValues();
  const resources = withValues(compileFactory(def), values);
  const pipelines = new Map(resources.filter((r) => r.kind === 'pipeline').map((r) => [r.name, r.properties]));
  const globals = resources.find((r) => r.kind === 'globalParameters')!.properties as Record<string, { value: unknown }>;
  const azure = new FakeAzure(script, values);
  const sim = new Simulator({ pipelines, globalParameters: Object.fromEntries(Object.entries(globals).map(([k, v]) => [k, v.value])), web: azure.handle });
  const run = sim.runPipeline(def.name, parameters);
  return { run, azure, sim };
}

const ok = (minutes = 3): Outcome => ({ minutes, status: 'Succeeded' });

/** Parses a generated command line with the real CLI command it names. */
function parseArgs(args: string[]) {
  if (args[0] === 'job') return parse(jobCommand, args.slice(1));
  const command = snowflakeCommands.find((c) => c.name === args.slice(0, 2).join(' '));
  if (!command) throw new Error(`no CLI command for ${args.slice(0, 2).join(' ')}`);
  return parse(command, args.slice(2));
}

describe('simulated ADF run of the generated factory', () => {
  it('passes the pipeline\'s fullRefresh to the Snowflake load, which the real CLI parses', () => {
    for (const [given, want] of [[true, 'true'], [false, 'false']] as const) {
      const { run, azure } = simulate(DEF, () => ok(), { runDate: '2026-03-01', fullRefresh: given });
      expect(run.status).toBe('Succeeded');
      const load = azure.starts.at(-1)!.args;
      expect(load.at(-1)).toBe(`--full-refresh=${want}`);
      expect(parseArgs(load).values['full-refresh']).toBe(want);
    }
  });

  it('runs every job once, stage by stage, with the command line the local CLI accepts', () => {
    const { run, azure, sim } = simulate(DEF, () => ok(), { runDate: '2026-03-01', stream: true });
    expect(run.status).toBe('Succeeded');
    expect(azure.jobs()).toEqual(['bronze-batch', 'bronze-batch', 'bronze-stream', 'silver-standardise', 'silver-identity', 'gold-all', 'snowflake load']);
    expect(azure.notifications).toEqual([]);
    // Booleans reach the job as the local runner writes them ('true', not ADF's 'True').
    expect(azure.starts.find((s) => s.args[1] === 'bronze-stream')!.args).toContain('stream=true');
    const loadId = run.runId;
    const std = azure.starts.find((s) => s.args[1] === 'silver-standardise')!.args;
    // An empty asOf resolves to the run date in Azure, so Gold and the Snowflake load agree on one snapshot.
    expect(std).toEqual(['job', 'silver-standardise', '--param', 'asOf=2026-03-01', '--param', 'horizon=h=90', '--run-date', '2026-03-01', '--as-of', '2026-03-01', '--load-id', loadId]);
    // The local DuckDB warehouse load is the Snowflake load in Azure, for the same snapshot and load id.
    expect(azure.starts.at(-1)!.args).toEqual(['snowflake', 'load', '--as-of', '2026-03-01', '--load-id', loadId, '--full-refresh=false']);
    expect(azure.starts.filter((s) => s.args[1] === 'bronze-batch').map((s) => s.args.slice(2, 6))).toEqual([
      ['--param', 'table=CUSTOMERS', '--param', 'input='],
      ['--param', 'table=CUSTOMER_TRANSACTIONS', '--param', 'input='],
    ]);
    // The real `c360 job` option parser accepts every generated command line.
    for (const s of azure.starts) {
      const { values, positionals } = parseArgs(s.args);
      if (s.args[0] === 'job') {
        expect(positionals).toEqual([s.args[1]]);
        expect(values['run-date']).toBe('2026-03-01');
      }
      expect(values['as-of']).toBe('2026-03-01');
      expect(values['load-id']).toBe(loadId);
    }
    // Stages ran in order: each stage's sub-pipeline run ended before the next one started.
    const stageRuns = sim.runs.filter((r) => r.pipeline.startsWith('c360_') && r.pipeline !== 'c360_run_job').map((r) => r.pipeline);
    expect(stageRuns).toEqual(DEF.stages.map((s) => `c360_${s.name}`));
  });

  it('skips `when` activities whose parameter is false and uses the trigger date when runDate is empty', () => {
    const { run, azure } = simulate(DEF, () => ok(), { stream: false });
    expect(run.status).toBe('Succeeded');
    expect(azure.jobs()).not.toContain('bronze-stream');
    expect(azure.starts[0]!.args).toContain('2026-03-01');
  });

  it('retries a failed attempt after the retry interval and then succeeds', () => {
    const { run, azure } = simulate(DEF, (args, attempt) => (args[1] === 'silver-standardise' && attempt === 1 ? { minutes: 2, status: 'Failed' } : ok()));
    expect(run.status).toBe('Succeeded');
    const std = azure.starts.filter((s) => s.args[1] === 'silver-standardise');
    expect(std).toHaveLength(2);
    // Failure seen at the first poll after 2 minutes, then the 60 s retry interval of the default policy.
    expect(std[1]!.at - std[0]!.at).toBeGreaterThanOrEqual(2 * 60_000 + 60_000);
    expect(azure.jobs().slice(-2)).toEqual(['gold-all', 'snowflake load']);
  });

  it('fails the stage and the master visibly when a job keeps failing, and starts no later stage', () => {
    const { run, azure, sim } = simulate(DEF, (args) => (args[1] === 'silver-standardise' ? { minutes: 1, status: 'Failed' } : ok()));
    expect(run.status).toBe('Failed');
    expect(azure.jobs().filter((j) => j === 'silver-standardise')).toHaveLength(3); // retry 2 -> 3 attempts
    expect(azure.jobs()).not.toContain('silver-identity');
    expect(azure.jobs()).not.toContain('gold-all');
    expect(azure.jobs()).not.toContain('snowflake load');
    expect(azure.notifications.map((n) => n.failed)).toEqual(['standardise', 'run_silver_processing']);
    expect(run.error?.message).toMatch(/run_silver_processing failed/);
    expect(sim.activities.find((a) => a.pipeline === 'c360_run_job' && a.activity === 'job_failed')?.error?.message).toMatch(/c360 job standardise ended Failed after 3 attempt\(s\)/);
    expect(sim.activities.filter((a) => a.pipeline === DEF.name && a.type === 'Fail' && a.status === 'Failed').map((a) => a.activity)).toEqual(['fail_run_silver_processing']);
  });

  it('stops an execution that runs past the activity timeout and fails it (no retry: retry 0)', () => {
    const { run, azure } = simulate(DEF, (args) => (args[1] === 'silver-identity' ? ok(200) : ok()));
    expect(run.status).toBe('Failed');
    expect(azure.jobs().filter((j) => j === 'silver-identity')).toHaveLength(1);
    expect(azure.stops).toHaveLength(1);
    expect(run.error?.message).toMatch(/TimedOut/);
  });

  it('runs the real pipeline definition end to end', () => {
    if (MASTER.stages.length === 0) return;
    // Every `when` parameter of the real definition (input, stream, collect) is set, so every activity runs.
    const { run, azure } = simulate(MASTER, () => ok(), { runDate: '2026-03-01', stream: true, collect: true, input: 'landing/customer360' });
    expect(run.status, JSON.stringify(run.error)).toBe('Succeeded');
    const name = (job: string) => (AZURE_COMMANDS[job] ? AZURE_COMMANDS[job]!.slice(0, 2).join(' ') : job);
    const expected = MASTER.stages.flatMap((s) => s.activities.flatMap((a) => (a.forEach?.items ?? [undefined]).map(() => name(a.job.name))));
    expect([...azure.jobs()].sort()).toEqual([...expected].sort());
    for (const s of azure.starts) {
      expect(() => parseArgs(s.args)).not.toThrow();
      expect(s.args.join(' ')).not.toMatch(/=(True|False)\b/);
    }
  });
});

describe('ADF expression subset', () => {
  const scope = { pipeline: () => ({ parameters: { n: 2, b: true } }), variables: () => "it's", activity: () => ({}), item: () => 'x', now: () => Date.parse('2026-03-01T00:00:00Z') };
  it('evaluates what the compiler emits and rejects what it does not know', () => {
    expect(evalValue("@concat('a''b', string(pipeline().parameters.n), item())", scope)).toBe("a'b2x");
    expect(evalValue('@string(pipeline().parameters.b)', scope)).toBe('True');
    expect(evalValue("@not(contains(createArray('', 'false', '0'), toLower(string(pipeline().parameters.b))))", scope)).toBe(true);
    expect(evalValue("@json('[\"A\",\"B\"]')", scope)).toEqual(['A', 'B']);
    expect(evalValue("@greater(ticks(addMinutes(utcNow(), 5)), ticks(utcNow()))", scope)).toBe(true);
    expect(() => evalValue('@lenght(item())', scope)).toThrow(/unknown ADF function 'lenght'/);
    expect(() => parseExpression("concat('a'")).toThrow();
  });
});
