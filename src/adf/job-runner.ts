// The shared child pipeline that runs one `c360 job ...` command on the Azure Container Apps job and waits for it.
// Every job activity of the definition is an ExecutePipeline of this pipeline (ADF allows only one level of
// ForEach/Until nesting, so the poll loop cannot live inside a ForEach of a sub-pipeline).
//
// One Until loop is a small state machine over pipeline variables:
//   start   : wait (retry interval after a failed attempt), POST .../jobs/<job>/start with the container args
//             overridden, remember the execution name, count the attempt, set the attempt deadline;
//   poll    : wait, GET .../executions/<name>, copy properties.status;
//   timeout : the attempt ran past timeoutMinutes: POST .../executions/<name>/stop, status TimedOut.
// It ends on Succeeded, or on a failed status once retry + 1 attempts were made. A final IfCondition turns anything
// but Succeeded into a Fail activity, so the run (and every caller up to the master) reports failure.
import { concat, expr, lit, timeSpan } from './expressions.ts';
import type { Activity, PipelineProperties, WebActivity } from './types.ts';
import { after, base } from './types.ts';

export const JOB_RUNNER = 'c360_run_job';
/** Container Apps REST API version for jobs start / executions (GA). */
export const CONTAINER_APPS_API = '2024-03-01';
export const ARM_ENDPOINT = 'https://management.azure.com';
/** Name of the container in the Container Apps job template (bicep/modules/job-compute.bicep). */
export const JOB_CONTAINER_NAME = 'c360';
export const POLL_SECONDS = 30;
const FAILED_STATES = ['Failed', 'Stopped', 'Degraded', 'TimedOut'];
const MSI = { type: 'MSI' as const, resource: `${ARM_ENDPOINT}/` };
/** Start and status calls are cheap and idempotent to retry on a flaky control plane. */
const CALL_POLICY = { timeout: '0.00:10:00', retry: 3, retryIntervalInSeconds: 30, secureOutput: false, secureInput: false };

const v = (name: string) => `variables('${name}')`;
const p = (name: string) => `pipeline().parameters.${name}`;
const g = (name: string) => `pipeline().globalParameters.${name}`;
const jobUrl = (suffix: string[]) => concat([lit(ARM_ENDPOINT), g('containerAppsJobId'), ...suffix]);

function setVar(name: string, variableName: string, value: string, dependsOn: string[]): Activity {
  return {
    ...base(name, dependsOn.map((d) => after(d))),
    type: 'SetVariable',
    typeProperties: { variableName, value: expr(value) },
  };
}

function web(name: string, method: 'GET' | 'POST', url: string, body: string | undefined, dependsOn: string[]): WebActivity {
  return {
    ...base(name, dependsOn.map((d) => after(d))),
    type: 'WebActivity',
    policy: CALL_POLICY,
    typeProperties: {
      method,
      url: expr(url),
      headers: { 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: expr(body) } : {}),
      authentication: MSI,
    },
  };
}

/**
 * The start body: the job's one container with args replaced by this job's command line. The image, environment and
 * resources come from factory global parameters because an execution template replaces the container definition.
 */
function startBody(): string {
  return concat([
    lit(`{"containers":[{"name":"${JOB_CONTAINER_NAME}","image":"`),
    g('jobImage'),
    lit('","args":'),
    `string(${p('args')})`,
    lit(',"env":'),
    `string(${g('jobEnvironment')})`,
    lit(',"resources":'),
    `string(${g('jobResources')})`,
    lit('}]}'),
  ]);
}

/** @param untilTimeoutMinutes upper bound of one job with all its retries (the Until loop's own timeout). */
export function jobRunnerPipeline(untilTimeoutMinutes: number): PipelineProperties {
  const failedStates = `createArray(${FAILED_STATES.map(lit).join(', ')})`;
  const start: Activity[] = [
    {
      ...base('backoff'),
      type: 'Wait',
      typeProperties: { waitTimeInSeconds: expr(`if(equals(${v('attempts')}, '0'), 1, ${p('retryIntervalSeconds')})`) },
    },
    web('start_execution', 'POST', jobUrl([lit(`/start?api-version=${CONTAINER_APPS_API}`)]), startBody(), ['backoff']),
    setVar('set_execution', 'executionName', "activity('start_execution').output.name", ['start_execution']),
    setVar('set_running', 'status', "'Running'", ['set_execution']),
    setVar('count_attempt', 'attemptsNext', `string(add(int(${v('attempts')}), 1))`, ['set_execution']),
    setVar('set_attempts', 'attempts', v('attemptsNext'), ['count_attempt']),
    setVar('set_deadline', 'deadline', `addMinutes(utcNow(), ${p('timeoutMinutes')})`, ['set_execution']),
  ];
  const poll: Activity[] = [
    { ...base('poll_wait'), type: 'Wait', typeProperties: { waitTimeInSeconds: POLL_SECONDS } },
    web('get_execution', 'GET', jobUrl([lit('/executions/'), v('executionName'), lit(`?api-version=${CONTAINER_APPS_API}`)]), undefined, ['poll_wait']),
    setVar('set_status', 'status', "activity('get_execution').output.properties.status", ['get_execution']),
  ];
  const timeout: Activity[] = [
    web('stop_execution', 'POST', jobUrl([lit('/executions/'), v('executionName'), lit(`/stop?api-version=${CONTAINER_APPS_API}`)]), "'{}'", []),
    { ...base('set_timed_out', [after('stop_execution', 'Completed')]), type: 'SetVariable', typeProperties: { variableName: 'status', value: 'TimedOut' } },
  ];
  const phase =
    `if(or(equals(${v('executionName')}, ''), contains(${failedStates}, ${v('status')})), 'start', ` +
    `if(greater(ticks(utcNow()), ticks(${v('deadline')})), 'timeout', 'poll'))`;
  const done =
    `or(equals(${v('status')}, 'Succeeded'), and(contains(${failedStates}, ${v('status')}), ` +
    `greaterOrEquals(int(${v('attempts')}), add(${p('retry')}, 1))))`;
  const failMessage = concat([
    lit('c360 job '),
    p('activity'),
    lit(' ended '),
    v('status'),
    lit(' after '),
    v('attempts'),
    lit(' attempt(s); last Container Apps execution: '),
    v('executionName'),
    lit(' (see its console logs in Log Analytics: ContainerAppConsoleLogs_CL)'),
  ]);
  return {
    description: 'Runs one c360 job command on the Container Apps job, polls the execution until it ends, retries failed attempts, and fails visibly.',
    activities: [
      {
        ...base('run_attempts', [], 'Start / poll / retry state machine over the Container Apps job execution.'),
        type: 'Until',
        typeProperties: {
          expression: expr(done),
          timeout: timeSpan(untilTimeoutMinutes),
          activities: [
            {
              ...base('next_step'),
              type: 'Switch',
              typeProperties: {
                on: expr(phase),
                cases: [
                  { value: 'start', activities: start },
                  { value: 'poll', activities: poll },
                  { value: 'timeout', activities: timeout },
                ],
              },
            },
          ],
        },
      },
      {
        ...base('check_result', [after('run_attempts', 'Completed')]),
        type: 'IfCondition',
        typeProperties: {
          expression: expr(`equals(${v('status')}, 'Succeeded')`),
          ifFalseActivities: [
            { ...base('job_failed'), type: 'Fail', typeProperties: { message: expr(failMessage), errorCode: 'C360JobFailed' } },
          ],
        },
      },
    ],
    parameters: {
      activity: { type: 'String' },
      args: { type: 'Array' },
      timeoutMinutes: { type: 'Int', defaultValue: 120 },
      retry: { type: 'Int', defaultValue: 0 },
      retryIntervalSeconds: { type: 'Int', defaultValue: 60 },
    },
    variables: {
      executionName: { type: 'String', defaultValue: '' },
      status: { type: 'String', defaultValue: 'NotStarted' },
      attempts: { type: 'String', defaultValue: '0' },
      attemptsNext: { type: 'String', defaultValue: '0' },
      // Far future until the first start, so ticks() always has a date to read.
      deadline: { type: 'String', defaultValue: '9999-12-31T00:00:00Z' },
    },
    folder: { name: 'customer360/runtime' },
    annotations: ['c360', 'generated'],
  };
}
