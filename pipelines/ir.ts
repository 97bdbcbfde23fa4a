// The pipeline definition as data. Two executors read it: the local runner (src/orchestrator/local-runner.ts)
// and the ADF compiler (src/adf/). Parameter values may use placeholders that both executors resolve:
//   {{runDate}} {{asOf}} {{loadId}} {{horizonDays}}  pipeline parameters
//   {{item}}                                         the current ForEach item
import type { Job } from '../src/runtime/job.ts';
import type { ParamType } from '../src/runtime/params.ts';

export interface Policy {
  timeoutMinutes: number;
  /** Retries after the first attempt, for transient failures. */
  retry: number;
  retryIntervalSeconds: number;
}

export const DEFAULT_POLICY: Policy = { timeoutMinutes: 120, retry: 2, retryIntervalSeconds: 60 };

export interface Activity {
  /** Unique within its sub-pipeline; PascalCase-free snake_case, used as the ADF activity name. */
  name: string;
  description: string;
  job: Job;
  params?: Record<string, string>;
  /** Names of activities in the same sub-pipeline that must succeed first. */
  dependsOn?: readonly string[];
  policy?: Partial<Policy>;
  /** Fan-out: run once per item with {{item}} bound (ADF ForEach). */
  forEach?: { items: readonly string[]; batchCount?: number };
  /** Runs only when the named pipeline parameter is truthy (e.g. the streaming path). */
  when?: string;
}

export interface SubPipeline {
  /** e.g. bronze_ingestion; the ADF pipeline is named c360_<name>. */
  name: string;
  title: string;
  description: string;
  activities: readonly Activity[];
}

export interface PipelineParameter {
  name: string;
  description: string;
  /** ADF type. */
  type: 'String' | 'Int' | 'Bool';
  default?: string | number | boolean;
  /** What a value must be beyond its ADF type, checked before a local run starts (src/runtime/params.ts). */
  check?: ParamType;
}

export interface MasterPipeline {
  name: string;
  description: string;
  parameters: readonly PipelineParameter[];
  /** Run in order; each starts only when the previous one succeeded. */
  stages: readonly SubPipeline[];
}

export function policyOf(activity: Activity): Policy {
  return { ...DEFAULT_POLICY, ...activity.policy };
}

/** Resolves {{name}} placeholders; unknown names are an error so typos surface at build time. */
export function bindParams(params: Record<string, string> | undefined, values: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, template] of Object.entries(params ?? {})) {
    out[key] = template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
      if (!(name in values)) throw new Error(`Unknown placeholder {{${name}}} in parameter '${key}'`);
      return values[name] ?? '';
    });
  }
  return out;
}

/** Activities of a sub-pipeline in dependency order; throws on unknown dependencies and cycles. */
export function topoSort(activities: readonly Activity[]): Activity[] {
  const byName = new Map(activities.map((a) => [a.name, a]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const order: Activity[] = [];
  const visit = (a: Activity) => {
    if (done.has(a.name)) return;
    if (visiting.has(a.name)) throw new Error(`Dependency cycle at activity '${a.name}'`);
    visiting.add(a.name);
    for (const dep of a.dependsOn ?? []) {
      const d = byName.get(dep);
      if (!d) throw new Error(`Activity '${a.name}' depends on unknown activity '${dep}'`);
      visit(d);
    }
    visiting.delete(a.name);
    done.add(a.name);
    order.push(a);
  };
  activities.forEach(visit);
  return order;
}
