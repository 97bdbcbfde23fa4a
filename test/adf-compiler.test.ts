// The ADF compiler: official-schema validity, one activity per job with its dependencies, master order and failure
// branches, fan-out / conditions / policies, and that the committed adf-templates/ equal a fresh build.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MasterPipeline, Activity as DefActivity } from '../pipelines/ir.ts';
import { MASTER } from '../pipelines/master.ts';
import { diffTemplates } from '../src/adf/build.ts';
import { activityNames, compileFactory } from '../src/adf/compile.ts';
import { JOB_RUNNER } from '../src/adf/job-runner.ts';
import { AZURE_COMMANDS } from '../src/adf/pipelines.ts';

/** What an activity runs in Azure: its job, or the command that stands in for it (AZURE_COMMANDS). */
const azureName = (job: string) => (AZURE_COMMANDS[job] ? AZURE_COMMANDS[job]!.slice(0, 2).join(' ') : job);
import { renderAll, renderArmTemplate } from '../src/adf/render.ts';
import { dataFactoryChecker } from '../src/adf/schema-check.ts';
import { ARM_TYPES, type Activity, type FactoryResource } from '../src/adf/types.ts';
import { SHARED } from './shared.ts';

const SCHEMAS = join(SHARED, 'schemas', 'arm');
const checker = dataFactoryChecker(SCHEMAS);

const job = (name: string) => ({ name, description: `job ${name}`, run: async () => {} });
/** A small hand-built definition exercising every IR feature. */
const HAND: MasterPipeline = {
  ...MASTER,
  stages: [
    {
      name: 'bronze_ingestion', title: 'Bronze ingestion', description: 'b',
      activities: [
        { name: 'ingest_batch', description: 'per table', job: job('bronze-batch'), params: { table: '{{item}}', input: '{{input}}' }, forEach: { items: ['CUSTOMERS', 'CUSTOMER_TRANSACTIONS'], batchCount: 2 } },
        { name: 'ingest_stream', description: 'streams', job: job('bronze-stream'), when: 'stream', forEach: { items: ['transactions'] }, params: { hub: '{{item}}' } },
      ],
    },
    {
      name: 'silver_processing', title: 'Silver processing', description: 's',
      activities: [
        { name: 'identity', description: 'idr', job: job('silver-identity'), dependsOn: ['standardise'], policy: { retry: 0, timeoutMinutes: 30, retryIntervalSeconds: 5 } },
        { name: 'standardise', description: 'std', job: job('silver-standardise'), params: { asOf: '{{asOf}}', horizon: 'h={{horizonDays}}' } },
      ],
    },
    { name: 'gold_aggregation', title: 'Gold aggregation', description: 'g', activities: [{ name: 'gold', description: 'g', job: job('gold-all') }] },
    { name: 'snowflake_load', title: 'Snowflake load', description: 'l', activities: [{ name: 'load', description: 'l', job: job('warehouse-load'), dependsOn: [] }] },
  ],
};

const DEFINITIONS: [string, MasterPipeline][] = [['hand-built', HAND], ...(MASTER.stages.length ? [['MASTER', MASTER] as [string, MasterPipeline]] : [])];

function pipeline(resources: FactoryResource[], name: string) {
  const r = resources.find((x) => x.kind === 'pipeline' && x.name === name);
  if (!r) throw new Error(`no pipeline ${name}`);
  return r.properties as unknown as { activities: Activity[]; parameters: Record<string, unknown> };
}

/** ExecutePipeline calls of the job runner inside a top-level activity, with the job name read from the args. */
function jobCalls(a: Activity): string[] {
  const out: string[] = [];
  const walk = (x: Activity) => {
    if (x.type === 'ExecutePipeline' && x.typeProperties.pipeline.referenceName === JOB_RUNNER) {
      const args = (x.typeProperties.parameters.args as { value: string }).value;
      const m = /^@createArray\('job', '([^']+)'/.exec(args) ?? /^@createArray\('([a-z]+)', '([a-z]+)'/.exec(args);
      out.push(m ? m.slice(1).join(' ') : '?');
    }
    if (x.type === 'ForEach') x.typeProperties.activities.forEach(walk);
    if (x.type === 'IfCondition') [...(x.typeProperties.ifTrueActivities ?? []), ...(x.typeProperties.ifFalseActivities ?? [])].forEach(walk);
  };
  walk(a);
  return out;
}

describe.each(DEFINITIONS)('ADF compiler on the %s definition', (_label, def) => {
  const resources = compileFactory(def);
  const arm = renderArmTemplate(resources) as { resources: Record<string, unknown>[]; parameters: Record<string, unknown> };

  it('emits ARM resources that pass the official Data Factory schema', () => {
    expect(arm.resources.length).toBe(resources.length);
    for (const r of arm.resources) expect(checker.check(r), String(r.name)).toEqual([]);
  });

  it('emits git-mode files that pass the official schema as resources', () => {
    const files = renderAll(resources);
    const kinds: Record<string, string> = { pipeline: ARM_TYPES.pipeline, linkedService: ARM_TYPES.linkedService, dataset: ARM_TYPES.dataset, trigger: ARM_TYPES.trigger };
    let n = 0;
    for (const [path, text] of files) {
      const folder = path.split('/')[0]!;
      if (!kinds[folder]) continue;
      const body = JSON.parse(text) as { name: string; properties: unknown };
      expect(path).toBe(`${folder}/${body.name}.json`);
      expect(checker.check({ ...body, type: kinds[folder], apiVersion: '2018-06-01' }), path).toEqual([]);
      n++;
    }
    expect(n).toBe(resources.filter((r) => r.kind !== 'globalParameters').length);
  });

  it('runs every job of the definition exactly once per activity, with its dependencies', () => {
    for (const stage of def.stages) {
      const p = pipeline(resources, `c360_${stage.name}`);
      for (const a of stage.activities) {
        const top = p.activities.filter((x) => x.name === a.name);
        expect(top, `${stage.name}.${a.name}`).toHaveLength(1);
        expect(jobCalls(top[0]!)).toEqual([azureName(a.job.name)]);
        expect(top[0]!.dependsOn).toEqual((a.dependsOn ?? []).map((d) => ({ activity: d, dependencyConditions: ['Succeeded'] })));
      }
      const allCalls = p.activities.flatMap(jobCalls).sort();
      expect(allCalls).toEqual(stage.activities.map((a) => azureName(a.job.name)).sort());
      // Every activity has a failure branch: notify_<a> on Failed, then fail_<a> (a Fail activity).
      for (const a of stage.activities) {
        const notify = p.activities.find((x) => x.name === `notify_${a.name}`)!;
        expect(notify.dependsOn).toEqual([{ activity: a.name, dependencyConditions: ['Failed'] }]);
        const fail = p.activities.find((x) => x.name === `fail_${a.name}`)!;
        expect(fail.type).toBe('Fail');
        expect(fail.dependsOn).toEqual([{ activity: `notify_${a.name}`, dependencyConditions: ['Completed'] }]);
      }
    }
  });

  it('keeps activity names unique within each pipeline and within ADF limits', () => {
    for (const r of resources.filter((x) => x.kind === 'pipeline')) {
      const names = activityNames((r.properties as unknown as { activities: Activity[] }).activities);
      expect(new Set(names).size, r.name).toBe(names.length);
      for (const n of names) expect(n.length).toBeLessThanOrEqual(55);
    }
  });

  it('has a master that runs every stage in order, waits, passes the load id down, and fails visibly', () => {
    const master = pipeline(resources, def.name);
    const runs = master.activities.filter((a) => a.type === 'ExecutePipeline');
    expect(runs.map((a) => a.type === 'ExecutePipeline' && a.typeProperties.pipeline.referenceName)).toEqual(def.stages.map((s) => `c360_${s.name}`));
    runs.forEach((a, i) => {
      if (a.type !== 'ExecutePipeline') throw new Error('unreachable');
      expect(a.typeProperties.waitOnCompletion).toBe(true);
      expect(a.typeProperties.parameters.loadId).toEqual({ value: "@variables('loadId')", type: 'Expression' });
      expect(a.typeProperties.parameters.runDate).toEqual({ value: "@variables('runDate')", type: 'Expression' });
      const prev = i === 0 ? ['resolve_run_date', 'resolve_load_id', 'resolve_as_of'] : [runs[i - 1]!.name];
      expect(a.typeProperties.parameters.asOf).toEqual({ value: "@variables('asOf')", type: 'Expression' });
      expect(a.dependsOn).toEqual(prev.map((p) => ({ activity: p, dependencyConditions: ['Succeeded'] })));
      const fail = master.activities.find((x) => x.name === `fail_${a.name}`)!;
      expect(fail.type).toBe('Fail');
    });
    const loadId = master.activities.find((a) => a.name === 'resolve_load_id')!;
    expect(JSON.stringify(loadId)).toContain('pipeline().RunId');
  });

  it('makes the ARM template self-consistent: dependsOn targets exist, parameters are declared', () => {
    const text = JSON.stringify(arm);
    const ids = new Set(
      arm.resources.map((r) => {
        const name = /'\/([^']+)'\)\]$/.exec(String(r.name))![1];
        const seg = { [ARM_TYPES.linkedService]: 'linkedServices', [ARM_TYPES.dataset]: 'datasets', [ARM_TYPES.pipeline]: 'pipelines', [ARM_TYPES.trigger]: 'triggers', [ARM_TYPES.globalParameters]: 'globalparameters' }[String(r.type)];
        return `[concat(variables('factoryId'), '/${seg}/${name}')]`;
      }),
    );
    for (const r of arm.resources) for (const d of r.dependsOn as string[]) expect(ids.has(d), `${String(r.name)} -> ${d}`).toBe(true);
    for (const m of text.matchAll(/parameters\('(\w+)'\)/g)) expect(arm.parameters).toHaveProperty(m[1]!);
    // A property value starting with '[' would be evaluated by ARM: only our own parameter references may.
    const strings: string[] = [];
    const walk = (v: unknown) => (typeof v === 'string' ? strings.push(v) : v && typeof v === 'object' ? Object.values(v).forEach(walk) : undefined);
    arm.resources.forEach((r) => walk(r.properties));
    for (const s of strings.filter((x) => x.startsWith('['))) expect(s).toMatch(/^\[parameters\('\w+'\)\]$/);
    expect(text).not.toContain('{{');
  });
});

describe('ADF compiler details', () => {
  const resources = compileFactory(HAND);
  const bronze = pipeline(resources, 'c360_bronze_ingestion');
  const silver = pipeline(resources, 'c360_silver_processing');

  it('fans out with ForEach over a JSON array and binds {{item}}', () => {
    const a = bronze.activities.find((x) => x.name === 'ingest_batch')!;
    if (a.type !== 'ForEach') throw new Error(`expected ForEach, got ${a.type}`);
    expect(a.typeProperties.items.value).toBe(`@json('["CUSTOMERS","CUSTOMER_TRANSACTIONS"]')`);
    expect(a.typeProperties.batchCount).toBe(2);
    const run = a.typeProperties.activities[0]!;
    expect(JSON.stringify(run)).toContain("concat('table=', item())");
    expect(JSON.stringify(run)).toContain("concat('input=', pipeline().parameters.input)");
  });

  it('turns `when` into an IfCondition around the ForEach', () => {
    const a = bronze.activities.find((x) => x.name === 'ingest_stream')!;
    if (a.type !== 'IfCondition') throw new Error(`expected IfCondition, got ${a.type}`);
    expect(a.typeProperties.expression.value).toContain('pipeline().parameters.stream');
    expect(a.typeProperties.ifTrueActivities![0]!.type).toBe('ForEach');
  });

  it('passes the command line and policy to the job runner', () => {
    const a = silver.activities.find((x) => x.name === 'identity')!;
    if (a.type !== 'ExecutePipeline') throw new Error('expected ExecutePipeline');
    expect(a.typeProperties.parameters).toMatchObject({ activity: 'identity', timeoutMinutes: 30, retry: 0, retryIntervalSeconds: 5 });
    const std = silver.activities.find((x) => x.name === 'standardise')!;
    if (std.type !== 'ExecutePipeline') throw new Error('expected ExecutePipeline');
    expect((std.typeProperties.parameters.args as { value: string }).value).toBe(
      "@createArray('job', 'silver-standardise', '--param', concat('asOf=', pipeline().parameters.asOf), '--param', concat('horizon=h=', string(pipeline().parameters.horizonDays)), '--run-date', pipeline().parameters.runDate, '--as-of', pipeline().parameters.asOf, '--load-id', pipeline().parameters.loadId)",
    );
    expect(std.typeProperties.parameters).toMatchObject({ timeoutMinutes: 120, retry: 2, retryIntervalSeconds: 60 });
    // Dependency order: standardise is emitted before identity although declared after it.
    expect(silver.activities.findIndex((x) => x.name === 'standardise')).toBeLessThan(silver.activities.findIndex((x) => x.name === 'identity'));
  });

  it('runs jobs on the Container Apps job with managed identity and polls until the execution ends', () => {
    const runner = pipeline(resources, JOB_RUNNER);
    const text = JSON.stringify(runner);
    expect(runner.activities.map((a) => a.type)).toEqual(['Until', 'IfCondition']);
    const until = runner.activities[0]!;
    if (until.type !== 'Until') throw new Error('expected Until');
    const sw = until.typeProperties.activities[0]!;
    if (sw.type !== 'Switch') throw new Error('expected Switch');
    expect(sw.typeProperties.cases.map((c) => c.value)).toEqual(['start', 'poll', 'timeout']);
    expect(text).toContain("/start?api-version=2024-03-01");
    expect(text).toContain("'/executions/', variables('executionName')");
    expect(text).toContain('"authentication":{"type":"MSI","resource":"https://management.azure.com/"}');
    expect(until.typeProperties.expression.value).toContain("equals(variables('status'), 'Succeeded')");
    const check = runner.activities[1]!;
    if (check.type !== 'IfCondition') throw new Error('expected IfCondition');
    expect(check.typeProperties.ifFalseActivities![0]!.type).toBe('Fail');
    expect(check.dependsOn).toEqual([{ activity: 'run_attempts', dependencyConditions: ['Completed'] }]);
  });

  it('rejects unknown placeholders, unknown `when` parameters, cycles and empty stages at build time', () => {
    const withActivity = (a: DefActivity): MasterPipeline => ({ ...HAND, stages: [{ ...HAND.stages[0]!, activities: [a] }] });
    expect(() => compileFactory(withActivity({ name: 'x', description: '', job: job('x'), params: { d: '{{rundate}}' } }))).toThrow(/unknown placeholder \{\{rundate\}\}/);
    expect(() => compileFactory(withActivity({ name: 'x', description: '', job: job('x'), params: { d: '{{item}}' } }))).toThrow(/unknown placeholder \{\{item\}\}/);
    expect(() => compileFactory(withActivity({ name: 'x', description: '', job: job('x'), when: 'streaming' }))).toThrow(/unknown pipeline parameter 'streaming'/);
    expect(() => compileFactory({ ...HAND, stages: [{ ...HAND.stages[0]!, activities: [
      { name: 'a', description: '', job: job('a'), dependsOn: ['b'] },
      { name: 'b', description: '', job: job('b'), dependsOn: ['a'] },
    ] }] })).toThrow(/cycle/);
    expect(() => compileFactory({ ...HAND, stages: [{ ...HAND.stages[0]!, activities: [] }] })).toThrow(/no activities/);
    // 27 activities with their failure branches are 81 ADF activities, over ADF's 80 per pipeline.
    const many = Array.from({ length: 27 }, (_, i) => ({ name: `a${i}`, description: '', job: job(`j${i}`) }));
    expect(() => compileFactory({ ...HAND, stages: [{ ...HAND.stages[0]!, activities: many }] })).toThrow(/81 activities \(ADF allows 80\)/);
    expect(() => compileFactory({ ...HAND, stages: [{ ...HAND.stages[0]!, activities: many.slice(0, 26) }] })).not.toThrow();
  });

  it('is deterministic', () => {
    const a = renderAll(compileFactory(HAND));
    const b = renderAll(compileFactory(HAND));
    expect([...a.entries()]).toEqual([...b.entries()]);
  });

  it('is caught by the schema check when a resource is wrong (the validator is live)', () => {
    const arm = renderArmTemplate(resources) as { resources: Record<string, unknown>[] };
    const broken = structuredClone(arm.resources.find((r) => String(r.name).includes('/c360_silver_processing'))!) as any;
    broken.properties.activities[0].typeProperties.waitOnCompletion = 'yes';
    expect(checker.check(broken).length).toBeGreaterThan(0);
    const badTrigger = structuredClone(arm.resources.find((r) => String(r.name).includes('tr_backfill'))!) as any;
    badTrigger.properties.typeProperties.frequency = 'Day'; // tumbling windows have no Day frequency
    expect(checker.check(badTrigger).length).toBeGreaterThan(0);
  });
});

describe('committed adf-templates/', () => {
  it('equal a fresh `c360 adf build` of the pipeline definition', async () => {
    const dir = join(import.meta.dirname, '..', 'adf-templates');
    expect(existsSync(dir)).toBe(true);
    const diff = await diffTemplates(MASTER, dir);
    expect(diff, 'run `node bin/c360.mjs adf build` and commit adf-templates/').toEqual({ added: [], changed: [], removed: [] });
  });
});
