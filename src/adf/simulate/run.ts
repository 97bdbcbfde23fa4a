// Executes generated pipelines offline against a caller-supplied HTTP handler and a simulated clock, following ADF's
// documented control-flow rules: an activity runs when every dependency ended in one of its conditions (otherwise
// it is Skipped); a container (pipeline, ForEach, If, Switch, Until) fails if any leaf failed, where a skipped leaf
// is judged by its parents; ExecutePipeline with waitOnCompletion takes the child's outcome; Fail fails.
// It lets tests run the master -> sub-pipeline -> job runner chain end to end with a fake Container Apps API.
import { evalValue, type ExpressionScope } from './expression.ts';

type Json = Record<string, any>;
export type RunStatus = 'Succeeded' | 'Failed' | 'Skipped';

export interface WebRequest {
  method: string;
  url: string;
  body: unknown;
  authentication?: unknown;
}

export interface WebResponse {
  status: number;
  body: unknown;
}

export interface SimulatorOptions {
  /** Pipelines by name: the `properties` of each pipeline resource. */
  pipelines: Map<string, Json>;
  globalParameters: Record<string, unknown>;
  web(request: WebRequest, now: number): WebResponse;
  /** Simulated start time (ms since epoch). */
  start?: number;
  dataFactory?: string;
}

export interface ActivityRecord {
  pipeline: string;
  runId: string;
  activity: string;
  type: string;
  status: RunStatus;
  error?: { message: string; errorCode: string };
}

export interface PipelineRunResult {
  pipeline: string;
  runId: string;
  status: 'Succeeded' | 'Failed';
  error?: { message: string; errorCode: string };
}

interface RunState {
  pipeline: string;
  runId: string;
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
  variableTypes: Record<string, string>;
  results: Map<string, { status: RunStatus; output?: unknown; error?: { message: string; errorCode: string } }>;
  triggerTime: string;
}

export class Simulator {
  now: number;
  readonly activities: ActivityRecord[] = [];
  readonly runs: PipelineRunResult[] = [];
  private seq = 0;
  constructor(private readonly options: SimulatorOptions) {
    this.now = options.start ?? Date.parse('2026-03-01T02:00:00Z');
  }

  runPipeline(name: string, parameters: Record<string, unknown> = {}): PipelineRunResult {
    const props = this.options.pipelines.get(name);
    if (!props) throw new Error(`pipeline '${name}' does not exist`);
    const declared = (props.parameters ?? {}) as Record<string, { type: string; defaultValue?: unknown }>;
    for (const k of Object.keys(parameters)) if (!(k in declared)) throw new Error(`pipeline '${name}' has no parameter '${k}'`);
    const values: Record<string, unknown> = {};
    for (const [k, spec] of Object.entries(declared)) {
      const v = k in parameters ? parameters[k] : spec.defaultValue;
      if (v === undefined) throw new Error(`pipeline '${name}': parameter '${k}' has no value and no default`);
      checkType(`${name} parameter ${k}`, spec.type, v);
      values[k] = v;
    }
    const vars = (props.variables ?? {}) as Record<string, { type: string; defaultValue?: unknown }>;
    const state: RunState = {
      pipeline: name,
      runId: `run-${String(++this.seq).padStart(4, '0')}`,
      parameters: values,
      variables: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.defaultValue ?? (v.type === 'Array' ? [] : v.type === 'Bool' ? false : '')])),
      variableTypes: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.type])),
      results: new Map(),
      triggerTime: new Date(this.now).toISOString(),
    };
    const outcome = this.container(state, props.activities as Json[], undefined);
    const run: PipelineRunResult = { pipeline: name, runId: state.runId, status: outcome.status, ...(outcome.error ? { error: outcome.error } : {}) };
    this.runs.push(run);
    return run;
  }

  private scope(state: RunState, item: unknown): ExpressionScope {
    return {
      pipeline: () => ({
        parameters: state.parameters,
        globalParameters: this.options.globalParameters,
        RunId: state.runId,
        TriggerTime: state.triggerTime,
        DataFactory: this.options.dataFactory ?? 'simulated-factory',
        Pipeline: state.pipeline,
      }),
      variables: (n) => {
        if (!(n in state.variables)) throw new Error(`variable '${n}' is not declared in ${state.pipeline}`);
        return state.variables[n];
      },
      activity: (n) => {
        const r = state.results.get(n);
        if (!r) throw new Error(`activity('${n}') has not run in ${state.pipeline}`);
        return { output: r.output, error: r.error, status: r.status };
      },
      item: () => {
        if (item === undefined) throw new Error('item() outside a ForEach');
        return item;
      },
      now: () => this.now,
    };
  }

  /** Runs a list of activities in dependency order and judges the outcome by ADF's leaf rule. */
  private container(state: RunState, activities: Json[], item: unknown): { status: 'Succeeded' | 'Failed'; error?: { message: string; errorCode: string } } {
    const status = new Map<string, RunStatus>();
    const names = new Set(activities.map((a) => a.name as string));
    for (const a of activities) for (const d of a.dependsOn ?? []) if (!names.has(d.activity)) throw new Error(`${state.pipeline}: '${a.name}' depends on '${d.activity}', not in the same container`);
    const pending = [...activities];
    while (pending.length) {
      const i = pending.findIndex((a) => (a.dependsOn ?? []).every((d: Json) => status.has(d.activity)));
      if (i < 0) throw new Error(`${state.pipeline}: dependency cycle among ${pending.map((a) => a.name).join(', ')}`);
      const a = pending.splice(i, 1)[0]!;
      const runnable = (a.dependsOn ?? []).every((d: Json) => {
        const s = status.get(d.activity)!;
        return (d.dependencyConditions as string[]).some((c) => c === s || (c === 'Completed' && (s === 'Succeeded' || s === 'Failed')));
      });
      if (!runnable) {
        status.set(a.name, 'Skipped');
        state.results.set(a.name, { status: 'Skipped' });
        this.activities.push({ pipeline: state.pipeline, runId: state.runId, activity: a.name, type: a.type, status: 'Skipped' });
        continue;
      }
      const r = this.activity(state, a, item);
      status.set(a.name, r.status);
      state.results.set(a.name, r);
      this.activities.push({ pipeline: state.pipeline, runId: state.runId, activity: a.name, type: a.type, status: r.status, ...(r.error ? { error: r.error } : {}) });
    }
    const dependedOn = new Set(activities.flatMap((a) => (a.dependsOn ?? []).map((d: Json) => d.activity as string)));
    const byName = new Map(activities.map((a) => [a.name as string, a]));
    let failure: { message: string; errorCode: string } | undefined;
    const judge = (name: string): boolean => {
      const s = status.get(name)!;
      if (s === 'Failed') {
        failure ??= state.results.get(name)?.error ?? { message: `${name} failed`, errorCode: 'Failed' };
        return false;
      }
      if (s === 'Skipped') return (byName.get(name)!.dependsOn ?? []).every((d: Json) => judge(d.activity));
      return true;
    };
    const ok = activities.filter((a) => !dependedOn.has(a.name)).map((a) => judge(a.name)).every(Boolean);
    return ok ? { status: 'Succeeded' } : { status: 'Failed', error: failure };
  }

  private activity(state: RunState, a: Json, item: unknown): { status: RunStatus; output?: unknown; error?: { message: string; errorCode: string } } {
    const scope = this.scope(state, item);
    const ev = (v: unknown) => evalValue(v, scope);
    const tp = a.typeProperties ?? {};
    const fromContainer = (r: { status: 'Succeeded' | 'Failed'; error?: { message: string; errorCode: string } }) => (r.status === 'Failed' ? { status: 'Failed' as const, error: r.error } : { status: 'Succeeded' as const });
    switch (a.type) {
      case 'Wait':
        this.now += Number(ev(tp.waitTimeInSeconds)) * 1000;
        return { status: 'Succeeded' };
      case 'SetVariable': {
        const value = ev(tp.value);
        if (!(tp.variableName in state.variableTypes)) throw new Error(`${state.pipeline}: SetVariable of undeclared variable '${tp.variableName}'`);
        checkType(`${state.pipeline} variable ${tp.variableName}`, state.variableTypes[tp.variableName]!, value);
        state.variables[tp.variableName] = value;
        return { status: 'Succeeded' };
      }
      case 'Fail':
        return { status: 'Failed', error: { message: String(ev(tp.message)), errorCode: String(ev(tp.errorCode)) } };
      case 'IfCondition': {
        const branch = ev(tp.expression) === true ? tp.ifTrueActivities : tp.ifFalseActivities;
        return fromContainer(this.container(state, branch ?? [], item));
      }
      case 'Switch': {
        const on = String(ev(tp.on));
        const c = (tp.cases as Json[]).find((x) => x.value === on);
        return fromContainer(this.container(state, c ? c.activities : tp.defaultActivities ?? [], item));
      }
      case 'ForEach': {
        const items = ev(tp.items);
        if (!Array.isArray(items)) throw new Error(`${a.name}: ForEach items is not an array`);
        let result: { status: 'Succeeded' | 'Failed'; error?: { message: string; errorCode: string } } = { status: 'Succeeded' };
        for (const it of items) {
          const r = this.container(state, tp.activities, it);
          if (r.status === 'Failed' && result.status === 'Succeeded') result = r;
        }
        return fromContainer(result);
      }
      case 'Until': {
        const deadline = this.now + timeSpanMs(String(tp.timeout ?? '7.00:00:00'));
        for (let i = 0; i < 100_000; i++) {
          const r = this.container(state, tp.activities, item);
          if (r.status === 'Failed') return fromContainer(r);
          if (ev(tp.expression) === true) return { status: 'Succeeded' };
          if (this.now > deadline) return { status: 'Failed', error: { message: `${a.name} timed out`, errorCode: 'UntilTimeout' } };
        }
        throw new Error(`${a.name}: Until did not end after 100000 iterations`);
      }
      case 'ExecutePipeline': {
        if (tp.waitOnCompletion !== true) throw new Error(`${a.name}: the simulator only runs ExecutePipeline with waitOnCompletion true`);
        const params = Object.fromEntries(Object.entries((tp.parameters ?? {}) as Json).map(([k, v]) => [k, ev(v)]));
        const child = this.runPipeline(tp.pipeline.referenceName, params);
        return child.status === 'Succeeded'
          ? { status: 'Succeeded', output: { pipelineName: child.pipeline, pipelineRunId: child.runId } }
          : { status: 'Failed', error: { message: `Operation on target ${child.pipeline} failed: ${child.error?.message ?? ''}`, errorCode: '2011' } };
      }
      case 'WebActivity': {
        const attempts = 1 + Number(a.policy?.retry ?? 0);
        let last: { message: string; errorCode: string } = { message: '', errorCode: '' };
        for (let n = 0; n < attempts; n++) {
          if (n > 0) this.now += Number(a.policy?.retryIntervalInSeconds ?? 30) * 1000;
          const rawBody = tp.body === undefined ? undefined : ev(tp.body);
          const body = typeof rawBody === 'string' ? JSON.parse(rawBody) : rawBody;
          const response = this.options.web({ method: String(ev(tp.method)), url: String(ev(tp.url)), body, authentication: tp.authentication }, this.now);
          if (response.status < 400) return { status: 'Succeeded', output: response.body };
          last = { message: `HTTP ${response.status}: ${JSON.stringify(response.body)}`, errorCode: String(response.status) };
        }
        return { status: 'Failed', error: last };
      }
      default:
        throw new Error(`the simulator does not run activity type '${a.type}' (${a.name})`);
    }
  }
}

function checkType(where: string, type: string, v: unknown): void {
  const ok =
    (type === 'String' && typeof v === 'string') ||
    (type === 'Int' && Number.isInteger(v)) ||
    (type === 'Bool' && typeof v === 'boolean') ||
    (type === 'Array' && Array.isArray(v)) ||
    (type === 'Object' && v !== null && typeof v === 'object');
  if (!ok) throw new Error(`${where}: expected ${type}, got ${JSON.stringify(v)}`);
}

function timeSpanMs(ts: string): number {
  const m = /^(?:(\d+)\.)?(\d\d):(\d\d):(\d\d)$/.exec(ts);
  if (!m) throw new Error(`bad TimeSpan '${ts}'`);
  return (((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000;
}
