// `c360 adf deploy` end to end against an in-memory Azure Resource Manager: the client reads the factory (with
// paging), the plan is applied through the REST PUTs and the @azure/arm-datafactory SDK (trigger stop/start,
// deletes), and afterwards the factory holds exactly the generated resources with the right trigger states.
import { describe, expect, it } from 'vitest';
import type { MasterPipeline } from '../pipelines/ir.ts';
import { MASTER } from '../pipelines/master.ts';
import { compileFactory } from '../src/adf/compile.ts';
import { FactoryClient } from '../src/adf/deploy-client.ts';
import { deployPlan } from '../src/adf/deploy-plan.ts';
import { defaultValues } from '../src/adf/factory-params.ts';
import { withValues } from '../src/adf/render.ts';
import { STARTED_ON_DEPLOY, TR_BACKFILL, TR_DAILY } from '../src/adf/triggers.ts';

const ENDPOINT = 'https://arm.test';
const FACTORY = '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.DataFactory/factories/f-1';
const SEGMENTS = ['linkedservices', 'datasets', 'pipelines', 'triggers', 'globalParameters'];

class Headers {
  private readonly map = new Map<string, string>();
  constructor(init: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(init)) this.map.set(k.toLowerCase(), v);
  }
  get(n: string) { return this.map.get(n.toLowerCase()); }
  has(n: string) { return this.map.has(n.toLowerCase()); }
  set(n: string, v: string | number | boolean) { this.map.set(n.toLowerCase(), String(v)); }
  delete(n: string) { this.map.delete(n.toLowerCase()); }
  toJSON() { return Object.fromEntries(this.map); }
  [Symbol.iterator]() { return this.map.entries(); }
}

/** The part of the ARM Data Factory API that deploy uses, in memory. */
class FakeArm {
  readonly store = new Map<string, Map<string, { properties: Record<string, unknown> }>>(SEGMENTS.map((s) => [s, new Map()]));
  readonly log: string[] = [];
  readonly auth = new Set<string>();

  handle(method: string, url: string, body: string | undefined, authorization: string | undefined): { status: number; body?: unknown } {
    const u = new URL(url);
    expect(u.origin).toBe(ENDPOINT);
    expect(u.searchParams.get('api-version')).toBe('2018-06-01');
    if (authorization) this.auth.add(authorization);
    expect(u.pathname.startsWith(`${FACTORY}/`), u.pathname).toBe(true);
    const [segment, name, action] = u.pathname.slice(FACTORY.length + 1).split('/').map(decodeURIComponent);
    const items = this.store.get(segment!);
    if (!items) return { status: 404, body: { error: { code: 'NotFound' } } };
    this.log.push(`${method} ${segment}${name ? `/${name}` : ''}${action ? `/${action}` : ''}`);
    if (method === 'GET' && !name) {
      // Two pages, to exercise nextLink.
      const all = [...items.entries()].map(([n, v]) => ({ name: n, properties: v.properties }));
      const page = Number(u.searchParams.get('page') ?? '0');
      const next = page === 0 && all.length > 1 ? `${ENDPOINT}${u.pathname}?api-version=2018-06-01&page=1` : undefined;
      const value = next ? all.slice(0, 1) : page === 1 ? all.slice(1) : all;
      return { status: 200, body: { value, ...(next ? { nextLink: next } : {}) } };
    }
    const item = items.get(name!);
    if (method === 'GET') return item ? { status: 200, body: { name, properties: item.properties } } : { status: 404, body: { error: { code: 'NotFound' } } };
    if (method === 'PUT') {
      const props = (JSON.parse(body!) as { properties: Record<string, unknown> }).properties;
      if (segment === 'triggers' && items.get(name!)?.properties.runtimeState === 'Started') return { status: 400, body: { error: { code: 'TriggerEnabledCannotUpdate' } } };
      items.set(name!, { properties: segment === 'triggers' ? { ...props, runtimeState: items.get(name!)?.properties.runtimeState ?? 'Stopped' } : props });
      return { status: 200, body: { name, properties: props } };
    }
    if (method === 'DELETE') {
      if (segment === 'triggers' && item?.properties.runtimeState === 'Started') return { status: 400, body: { error: { code: 'TriggerEnabledCannotDelete' } } };
      items.delete(name!);
      return { status: 200 };
    }
    if (method === 'POST' && (action === 'start' || action === 'stop') && item) {
      item.properties.runtimeState = action === 'start' ? 'Started' : 'Stopped';
      return { status: 200 };
    }
    return { status: 400, body: { error: { code: 'Unsupported', message: `${method} ${url}` } } };
  }

  fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const headers = new globalThis.Headers(init?.headers);
    const r = this.handle(init?.method ?? 'GET', String(input), init?.body as string | undefined, headers.get('authorization') ?? undefined);
    return new Response(r.body === undefined ? '' : JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;

  httpClient = {
    sendRequest: async (request: { url: string; method: string; body?: unknown; headers: Headers }) => {
      const r = this.handle(request.method, request.url, typeof request.body === 'string' ? request.body : undefined, request.headers.get('authorization'));
      return { request, status: r.status, headers: new Headers({ 'content-type': 'application/json' }), bodyAsText: r.body === undefined ? '' : JSON.stringify(r.body) };
    },
  };
}

const job = (name: string) => ({ name, description: name, run: async () => {} });
const DEF: MasterPipeline = {
  ...MASTER,
  stages: ['bronze_ingestion', 'silver_processing'].map((name) => ({ name, title: name, description: name, activities: [{ name: `${name}_job`, description: 'x', job: job(`${name}-job`) }] })),
};

describe('c360 adf deploy against an in-memory ARM', () => {
  it('converges the factory to the definition in a safe order', async () => {
    const desired = withValues(compileFactory(DEF), defaultValues());
    const arm = new FakeArm();
    const put = (segment: string, name: string, properties: Record<string, unknown>) => arm.store.get(segment)!.set(name, { properties });
    put('linkedservices', 'ls_key_vault', structuredClone(desired.find((r) => r.name === 'ls_key_vault')!.properties));
    put('linkedservices', 'ls_old_sql', { type: 'AzureSqlDatabase' });
    put('datasets', 'ds_old', { type: 'Json', linkedServiceName: { referenceName: 'ls_old_sql', type: 'LinkedServiceReference' } });
    put('pipelines', 'old_parent', { activities: [{ name: 'x', type: 'ExecutePipeline', typeProperties: { pipeline: { referenceName: 'old_child', type: 'PipelineReference' } } }] });
    put('pipelines', 'old_child', { activities: [] });
    put('pipelines', 'c360_run_job', { activities: [] });
    put('triggers', TR_DAILY, { type: 'ScheduleTrigger', runtimeState: 'Started' });
    put('triggers', 'tr_old', { type: 'ScheduleTrigger', runtimeState: 'Started' });

    const client = new FactoryClient(
      { subscription: 'sub-1', resourceGroup: 'rg-1', factory: 'f-1' },
      { endpoint: ENDPOINT, fetch: arm.fetch, httpClient: arm.httpClient as never, credential: { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) } },
    );
    const current = await client.currentState();
    expect(current.pipeline!.map((p) => p.name).sort()).toEqual(['c360_run_job', 'old_child', 'old_parent']);
    expect(current.trigger!.find((t) => t.name === TR_DAILY)!.runtimeState).toBe('Started');
    expect(current.globalParameters).toEqual([]);

    const plan = deployPlan(desired, current, { startTriggers: STARTED_ON_DEPLOY });
    arm.log.length = 0;
    for (const step of plan) await client.apply(step);

    // The factory now holds exactly the generated resources, with their generated properties.
    const kinds: Record<string, string> = { linkedService: 'linkedservices', dataset: 'datasets', pipeline: 'pipelines', trigger: 'triggers', globalParameters: 'globalParameters' };
    for (const [kind, segment] of Object.entries(kinds)) {
      const want = desired.filter((r) => r.kind === kind);
      expect([...arm.store.get(segment)!.keys()].sort(), segment).toEqual(want.map((r) => r.name).sort());
      for (const r of want) {
        const { runtimeState: _state, ...got } = arm.store.get(segment)!.get(r.name)!.properties;
        expect(got, `${segment}/${r.name}`).toEqual(r.properties);
      }
    }
    expect(arm.store.get('triggers')!.get(TR_DAILY)!.properties.runtimeState).toBe('Started');
    expect(arm.store.get('triggers')!.get(TR_BACKFILL)!.properties.runtimeState).toBe('Stopped');
    // Stops first, starts last; the unchanged Key Vault linked service was not written.
    expect(arm.log.slice(0, 2)).toEqual([`POST triggers/${TR_DAILY}/stop`, 'POST triggers/tr_old/stop']);
    expect(arm.log.at(-1)).toBe(`POST triggers/${TR_DAILY}/start`);
    expect(arm.log).not.toContain('PUT linkedservices/ls_key_vault');
    expect(arm.log.indexOf('DELETE pipelines/old_parent')).toBeLessThan(arm.log.indexOf('DELETE pipelines/old_child'));
    expect(arm.log.indexOf('DELETE datasets/ds_old')).toBeLessThan(arm.log.indexOf('DELETE linkedservices/ls_old_sql'));
    expect([...arm.auth]).toEqual(['Bearer test-token']);

    // A second deploy finds nothing to change.
    const again = deployPlan(desired, await client.currentState(), { startTriggers: STARTED_ON_DEPLOY });
    expect(again.filter((s) => !['unchanged', 'stop-trigger', 'start-trigger'].includes(s.action))).toEqual([]);
  });
});
