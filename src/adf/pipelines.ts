// Sub-pipelines and the master pipeline, compiled from the pipeline definition (pipelines/ir.ts).
import { policyOf, topoSort, type Activity as DefActivity, type MasterPipeline, type SubPipeline } from '../../pipelines/ir.ts';
import { concat, expr, lit, placeholderScope, templateExpr } from './expressions.ts';
import { JOB_RUNNER, POLL_SECONDS } from './job-runner.ts';
import type { Activity, ExecutePipelineActivity, PipelineProperties } from './types.ts';
import { after, base } from './types.ts';

export const FOLDER = 'customer360';
export const subPipelineName = (stage: SubPipeline) => `c360_${stage.name}`;
export const masterPipelineName = (master: MasterPipeline) => master.name;
export const stageActivityName = (stage: SubPipeline) => `run_${stage.name}`;

/**
 * Jobs whose Azure form is another `c360` command. The local warehouse load writes a DuckDB file, which means nothing
 * in an ephemeral container; in Azure the same stage is the Snowflake load of the same Gold snapshot and load id.
 * Placeholders as in the definition's params.
 */
export const AZURE_COMMANDS: Readonly<Record<string, readonly string[]>> = {
  'warehouse-load': ['snowflake', 'load', '--as-of', '{{asOf}}', '--load-id', '{{loadId}}', '--full-refresh={{fullRefresh}}'],
};

/** The command line of one job, as an ADF array expression: the same `c360 job` command that runs locally. */
export function jobArgs(master: MasterPipeline, a: DefActivity, inForEach: boolean): string {
  const scope = placeholderScope(master, inForEach);
  const where = `activity '${a.name}'`;
  const override = AZURE_COMMANDS[a.job.name];
  if (override) return `createArray(${override.map((t) => templateExpr(t, scope, where)).join(', ')})`;
  const args: string[] = [lit('job'), lit(a.job.name)];
  for (const [k, t] of Object.entries(a.params ?? {})) args.push(lit('--param'), templateExpr(`${k}=${t}`, scope, where));
  args.push(lit('--run-date'), scope.get('runDate') ?? "''");
  args.push(lit('--as-of'), scope.get('asOf') ?? "''");
  args.push(lit('--load-id'), scope.get('loadId') ?? "''");
  return `createArray(${args.join(', ')})`;
}

function runJob(master: MasterPipeline, a: DefActivity, name: string, inForEach: boolean, dependsOn = [] as ReturnType<typeof after>[]): ExecutePipelineActivity {
  const policy = policyOf(a);
  const label = inForEach ? concat([lit(`${a.name}[`), 'item()', lit(']')]) : lit(a.name);
  return {
    ...base(name, dependsOn, a.description),
    type: 'ExecutePipeline',
    typeProperties: {
      pipeline: { referenceName: JOB_RUNNER, type: 'PipelineReference' },
      waitOnCompletion: true,
      parameters: {
        activity: inForEach ? expr(label) : a.name,
        args: expr(jobArgs(master, a, inForEach)),
        timeoutMinutes: policy.timeoutMinutes,
        retry: policy.retry,
        retryIntervalSeconds: policy.retryIntervalSeconds,
      },
    },
  };
}

/** Truthiness as the local runner sees it: not '', 'false' or '0'. */
function truthy(paramName: string): string {
  return `not(contains(createArray('', 'false', '0'), toLower(string(pipeline().parameters.${paramName}))))`;
}

/** One top-level ADF activity named after the definition activity (IfCondition > ForEach > ExecutePipeline). */
export function compileActivity(master: MasterPipeline, a: DefActivity): Activity {
  if (a.when && !master.parameters.some((p) => p.name === a.when)) {
    throw new Error(`activity '${a.name}': 'when' names unknown pipeline parameter '${a.when}'`);
  }
  const deps = (a.dependsOn ?? []).map((d) => after(d));
  const inner = (name: string, dependsOn: ReturnType<typeof after>[]): Activity => {
    if (!a.forEach) return runJob(master, a, name, false, dependsOn);
    if (a.forEach.items.length === 0) throw new Error(`activity '${a.name}': forEach has no items`);
    return {
      ...base(name, dependsOn, a.description),
      type: 'ForEach',
      typeProperties: {
        items: expr(`json(${lit(JSON.stringify(a.forEach.items))})`),
        isSequential: false,
        ...(a.forEach.batchCount ? { batchCount: Math.min(50, a.forEach.batchCount) } : {}),
        activities: [runJob(master, a, `${a.name}_item`, true)],
      },
    };
  };
  if (!a.when) return inner(a.name, deps);
  return {
    ...base(a.name, deps, `${a.description} (only when pipeline parameter '${a.when}' is true)`),
    type: 'IfCondition',
    typeProperties: { expression: expr(truthy(a.when)), ifTrueActivities: [inner(`${a.name}_run`, [])] },
  };
}

/** notify_<x> (webhook POST when <x> failed) then fail_<x> (a Fail activity, so the run reports failure). */
export function failureBranch(activity: string, context: string): Activity[] {
  const body = concat([
    lit('{"factory":"'),
    'pipeline().DataFactory',
    lit('","pipeline":"'),
    'pipeline().Pipeline',
    lit('","runId":"'),
    'pipeline().RunId',
    lit(`","failed":"${activity}","context":"${context}","error":`),
    `string(activity(${lit(activity)}).error)`,
    lit('}'),
  ]);
  return [
    {
      ...base(`notify_${activity}`, [after(activity, 'Failed')], `Posts the failure of ${activity} to the notify webhook.`),
      type: 'WebActivity',
      policy: { timeout: '0.00:05:00', retry: 1, retryIntervalInSeconds: 30, secureOutput: false, secureInput: false },
      typeProperties: {
        method: 'POST',
        url: expr('pipeline().globalParameters.notifyWebhookUrl'),
        headers: { 'Content-Type': 'application/json' },
        body: expr(body),
      },
    },
    {
      // Completed, not Succeeded: an unreachable webhook must not hide the failure.
      ...base(`fail_${activity}`, [after(`notify_${activity}`, 'Completed')]),
      type: 'Fail',
      typeProperties: {
        message: expr(concat([lit(`${context}: ${activity} failed: `), `string(activity(${lit(activity)}).error.message)`])),
        errorCode: 'C360ActivityFailed',
      },
    },
  ];
}

function parameterSpecs(master: MasterPipeline): PipelineProperties['parameters'] {
  return Object.fromEntries(
    master.parameters.map((p) => [p.name, { type: p.type, ...(p.default !== undefined ? { defaultValue: p.default } : {}) }]),
  );
}

export function subPipeline(master: MasterPipeline, stage: SubPipeline): PipelineProperties {
  if (stage.activities.length === 0) throw new Error(`stage '${stage.name}' has no activities`);
  const ordered = topoSort(stage.activities);
  const activities: Activity[] = [];
  for (const a of ordered) activities.push(compileActivity(master, a));
  for (const a of ordered) activities.push(...failureBranch(a.name, stage.title));
  return {
    description: `${stage.title}: ${stage.description}`,
    activities,
    parameters: parameterSpecs(master),
    folder: { name: FOLDER },
    annotations: ['c360', 'generated'],
  };
}

export function masterPipeline(master: MasterPipeline): PipelineProperties {
  if (master.stages.length === 0) throw new Error('the master pipeline has no stages');
  const passDown = Object.fromEntries(
    master.parameters.map((p) => {
      if (p.name === 'runDate') return [p.name, expr("variables('runDate')")];
      if (p.name === 'loadId') return [p.name, expr("variables('loadId')")];
      if (p.name === 'asOf') return [p.name, expr("variables('asOf')")];
      return [p.name, expr(`pipeline().parameters.${p.name}`)];
    }),
  );
  const activities: Activity[] = [
    {
      ...base('resolve_run_date', [], 'runDate, or the trigger date when empty.'),
      type: 'SetVariable',
      typeProperties: {
        variableName: 'runDate',
        value: expr("if(empty(pipeline().parameters.runDate), formatDateTime(pipeline().TriggerTime, 'yyyy-MM-dd'), pipeline().parameters.runDate)"),
      },
    },
    {
      ...base('resolve_load_id', [], 'loadId, or this run id (@pipeline().RunId) when empty; stamped on every row.'),
      type: 'SetVariable',
      typeProperties: { variableName: 'loadId', value: expr('if(empty(pipeline().parameters.loadId), pipeline().RunId, pipeline().parameters.loadId)') },
    },
  ];
  if (master.parameters.some((p) => p.name === 'asOf')) {
    activities.push({
      // One snapshot date for every stage: Gold writes as_of_date=<asOf> and the Snowflake load reads exactly it.
      ...base('resolve_as_of', [], 'asOf, or the run date when empty, so Gold and the Snowflake load agree on one snapshot.'),
      type: 'SetVariable',
      typeProperties: {
        variableName: 'asOf',
        value: expr(
          "if(empty(pipeline().parameters.asOf), if(empty(pipeline().parameters.runDate), formatDateTime(pipeline().TriggerTime, 'yyyy-MM-dd'), pipeline().parameters.runDate), pipeline().parameters.asOf)",
        ),
      },
    });
  }
  let previous: string[] = activities.map((a) => a.name);
  for (const stage of master.stages) {
    const name = stageActivityName(stage);
    activities.push({
      ...base(name, previous.map((d) => after(d)), stage.description),
      type: 'ExecutePipeline',
      typeProperties: {
        pipeline: { referenceName: subPipelineName(stage), type: 'PipelineReference' },
        waitOnCompletion: true,
        parameters: passDown,
      },
    });
    activities.push(...failureBranch(name, master.name));
    previous = [name];
  }
  return {
    description: master.description,
    activities,
    parameters: {
      ...parameterSpecs(master),
      // Empty means: the trigger date / this run id (resolved above), so manual runs need no input.
      runDate: { type: 'String', defaultValue: '' },
      loadId: { type: 'String', defaultValue: '' },
    },
    variables: { runDate: { type: 'String', defaultValue: '' }, asOf: { type: 'String', defaultValue: '' }, loadId: { type: 'String', defaultValue: '' } },
    folder: { name: FOLDER },
    annotations: ['c360', 'generated'],
  };
}

/** Upper bound of one job with all retries, for the job runner's Until timeout (attempts + waits + polling slack). */
export function longestJobMinutes(master: MasterPipeline): number {
  let max = 60;
  for (const stage of master.stages) {
    for (const a of stage.activities) {
      const p = policyOf(a);
      const attempts = p.retry + 1;
      const minutes = attempts * (p.timeoutMinutes + 2 * POLL_SECONDS / 60 + 10) + (p.retry * Math.max(30, p.retryIntervalSeconds)) / 60;
      max = Math.max(max, minutes);
    }
  }
  return Math.min(max, 7 * 24 * 60);
}
