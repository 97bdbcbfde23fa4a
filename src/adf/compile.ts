// The ADF compiler: the pipeline definition in, every factory resource out (pure; no I/O).
import type { MasterPipeline } from '../../pipelines/ir.ts';
import { datasets, globalParameters, linkedServices } from './connections.ts';
import { JOB_RUNNER, jobRunnerPipeline } from './job-runner.ts';
import { longestJobMinutes, masterPipeline, subPipeline, subPipelineName } from './pipelines.ts';
import { triggers } from './triggers.ts';
import type { Activity, FactoryResource, PipelineProperties } from './types.ts';

/** ADF's limit on activities per pipeline, inner activities of containers included. */
export const MAX_ACTIVITIES_PER_PIPELINE = 80;

function pipelineResource(name: string, properties: PipelineProperties): FactoryResource {
  const count = activityNames(properties.activities).length;
  if (count > MAX_ACTIVITIES_PER_PIPELINE) {
    throw new Error(`pipeline '${name}' has ${count} activities (ADF allows ${MAX_ACTIVITIES_PER_PIPELINE}): split its stage into two sub-pipelines`);
  }
  const refs = new Set<string>();
  const walk = (activities: Activity[]) => {
    for (const a of activities) {
      if (a.type === 'ExecutePipeline') refs.add(`pipeline:${a.typeProperties.pipeline.referenceName}`);
      if (a.type === 'ForEach' || a.type === 'Until') walk(a.typeProperties.activities);
      if (a.type === 'IfCondition') walk([...(a.typeProperties.ifTrueActivities ?? []), ...(a.typeProperties.ifFalseActivities ?? [])]);
      if (a.type === 'Switch') {
        for (const c of a.typeProperties.cases) walk(c.activities);
        walk(a.typeProperties.defaultActivities ?? []);
      }
    }
  };
  walk(properties.activities);
  return { kind: 'pipeline', name, properties: properties as unknown as Record<string, unknown>, references: [...refs].sort() };
}

/** Every resource of the factory, in dependency order (what a resource references comes before it). */
export function compileFactory(master: MasterPipeline): FactoryResource[] {
  const names = new Set<string>();
  for (const stage of master.stages) {
    const n = subPipelineName(stage);
    if (names.has(n) || n === JOB_RUNNER || n === master.name) throw new Error(`duplicate pipeline name '${n}'`);
    names.add(n);
  }
  const resources: FactoryResource[] = [
    globalParameters(),
    ...linkedServices(),
    ...datasets(),
    pipelineResource(JOB_RUNNER, jobRunnerPipeline(longestJobMinutes(master))),
    ...master.stages.map((s) => pipelineResource(subPipelineName(s), subPipeline(master, s))),
    pipelineResource(master.name, masterPipeline(master)),
    ...triggers(master),
  ];
  return resources;
}

/** The activity names of a pipeline at every nesting level (ADF requires them unique per pipeline). */
export function activityNames(activities: Activity[]): string[] {
  const out: string[] = [];
  for (const a of activities) {
    out.push(a.name);
    if (a.type === 'ForEach' || a.type === 'Until') out.push(...activityNames(a.typeProperties.activities));
    if (a.type === 'IfCondition') out.push(...activityNames([...(a.typeProperties.ifTrueActivities ?? []), ...(a.typeProperties.ifFalseActivities ?? [])]));
    if (a.type === 'Switch') {
      for (const c of a.typeProperties.cases) out.push(...activityNames(c.activities));
      out.push(...activityNames(a.typeProperties.defaultActivities ?? []));
    }
  }
  return out;
}
