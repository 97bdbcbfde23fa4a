// The deploy plan of `c360 adf deploy`: a pure function from (desired resources, current factory state) to ordered
// steps. Order: stop running triggers; create/update global parameters, linked services, datasets, pipelines
// (referenced ones first: the job runner, then sub-pipelines, then the master), triggers; delete what the definition
// no longer has (triggers, then pipelines referencing others first, datasets, linked services); start triggers.
import type { FactoryResource, ResourceKind } from './types.ts';

export type DeployKind = Exclude<ResourceKind, 'globalParameters'> | 'globalParameters';

export interface CurrentResource {
  name: string;
  /** REST properties if known; equal properties make the step 'unchanged'. */
  properties?: unknown;
  /** Triggers only. */
  runtimeState?: 'Started' | 'Stopped' | 'Disabled' | string;
}

export type CurrentState = Partial<Record<DeployKind, CurrentResource[]>>;

export type StepAction = 'stop-trigger' | 'create' | 'update' | 'unchanged' | 'delete' | 'start-trigger';

export interface PlanStep {
  action: StepAction;
  kind: DeployKind;
  name: string;
  /** Create/update only: the REST properties to PUT. */
  properties?: Record<string, unknown>;
  reason?: string;
}

const UPSERT_ORDER: DeployKind[] = ['globalParameters', 'linkedService', 'dataset', 'pipeline', 'trigger'];
const DELETE_ORDER: DeployKind[] = ['trigger', 'pipeline', 'dataset', 'linkedService'];

/** Sorts so that what a resource references (within `kind`) comes first; ties by name for a stable plan. */
function dependencyOrder(items: { name: string; refs: string[] }[]): string[] {
  const byName = new Map(items.map((i) => [i.name, i]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: string[] = [];
  const visit = (name: string) => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new Error(`reference cycle at '${name}'`);
    visiting.add(name);
    for (const r of [...byName.get(name)!.refs].sort()) if (byName.has(r)) visit(r);
    visiting.delete(name);
    done.add(name);
    out.push(name);
  };
  for (const i of [...items].sort((a, b) => a.name.localeCompare(b.name))) visit(i.name);
  return out;
}

/** Pipeline names an existing pipeline's REST properties reference through ExecutePipeline. */
export function referencedPipelines(properties: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'PipelineReference' && typeof o.referenceName === 'string') out.add(o.referenceName);
      Object.values(o).forEach(walk);
    }
  };
  walk(properties);
  return [...out];
}

/** Read-only properties the service adds to what was PUT; ignored when deciding 'unchanged'. */
const READ_ONLY = new Set(['runtimeState']);

function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(Object.entries(val).filter(([k]) => !READ_ONLY.has(k)).sort(([a], [b]) => a.localeCompare(b)))
      : val,
  );
}

export interface PlanOptions {
  /** Triggers to start after deploying even if they were not running before (the daily schedule). */
  startTriggers: readonly string[];
}

export function deployPlan(desired: FactoryResource[], current: CurrentState, options: PlanOptions): PlanStep[] {
  const steps: PlanStep[] = [];
  const currentOf = (kind: DeployKind) => new Map((current[kind] ?? []).map((r) => [r.name, r]));
  const desiredOf = (kind: DeployKind) => desired.filter((r) => r.kind === kind);

  const currentTriggers = currentOf('trigger');
  const running = [...currentTriggers.values()].filter((t) => t.runtimeState === 'Started').map((t) => t.name).sort();
  for (const name of running) steps.push({ action: 'stop-trigger', kind: 'trigger', name, reason: 'triggers must be stopped while the factory changes' });

  for (const kind of UPSERT_ORDER) {
    const mine = desiredOf(kind);
    const byName = new Map(mine.map((r) => [r.name, r]));
    const order = dependencyOrder(mine.map((r) => ({ name: r.name, refs: r.references.filter((x) => x.startsWith(`${kind}:`)).map((x) => x.slice(kind.length + 1)) })));
    const existing = currentOf(kind);
    for (const name of order) {
      const r = byName.get(name)!;
      const now = existing.get(name);
      const action: StepAction = !now ? 'create' : now.properties !== undefined && canonical(now.properties) === canonical(r.properties) ? 'unchanged' : 'update';
      steps.push({ action, kind, name, ...(action === 'unchanged' ? {} : { properties: r.properties }) });
    }
  }

  for (const kind of DELETE_ORDER) {
    const wanted = new Set(desiredOf(kind).map((r) => r.name));
    const gone = (current[kind] ?? []).filter((r) => !wanted.has(r.name));
    // Delete referencing resources before what they reference: reverse of the dependency order.
    const order = dependencyOrder(gone.map((r) => ({ name: r.name, refs: kind === 'pipeline' ? referencedPipelines(r.properties) : [] }))).reverse();
    for (const name of order) steps.push({ action: 'delete', kind, name, reason: 'no longer in the pipeline definition' });
  }

  const desiredTriggers = new Set(desiredOf('trigger').map((r) => r.name));
  const toStart = new Set([...running.filter((n) => desiredTriggers.has(n)), ...options.startTriggers.filter((n) => desiredTriggers.has(n))]);
  for (const name of [...toStart].sort()) steps.push({ action: 'start-trigger', kind: 'trigger', name });
  return steps;
}

/** One line per step, for --dry-run and the deploy log. */
export function formatPlan(steps: PlanStep[]): string[] {
  return steps.map((s, i) => `${String(i + 1).padStart(3)}. ${s.action.padEnd(13)} ${s.kind.padEnd(16)} ${s.name}${s.reason ? `  (${s.reason})` : ''}`);
}
