// Activity dependencies from the catalogue: within a sub-pipeline, an activity runs after every activity whose job
// writes a dataset its job reads. The pipeline definition lists activities; it never writes a dependsOn between them.
import type { Activity } from '../../pipelines/ir.ts';
import { upstreamJobs } from './index.ts';

export function withDatasetDependencies(activities: readonly Omit<Activity, 'dependsOn'>[]): Activity[] {
  return activities.map((a) => {
    const upstream = new Set(upstreamJobs(a.job.name));
    const dependsOn = activities.filter((b) => b !== a && upstream.has(b.job.name)).map((b) => b.name);
    return dependsOn.length ? { ...a, dependsOn } : { ...a };
  });
}
