// The deploy plan of `c360 adf deploy` against fake "current factory" states, and parameter files.
import { describe, expect, it } from 'vitest';
import { MASTER } from '../pipelines/master.ts';
import type { MasterPipeline } from '../pipelines/ir.ts';
import { compileFactory } from '../src/adf/compile.ts';
import { deployPlan, formatPlan, type CurrentState, type PlanStep } from '../src/adf/deploy-plan.ts';
import { defaultValues } from '../src/adf/factory-params.ts';
import { parameterValues } from '../src/adf/parameters-file.ts';
import { withValues } from '../src/adf/render.ts';
import { STARTED_ON_DEPLOY, TR_BACKFILL, TR_DAILY } from '../src/adf/triggers.ts';

const job = (name: string) => ({ name, description: name, run: async () => {} });
const DEF: MasterPipeline = {
  ...MASTER,
  stages: ['bronze_ingestion', 'silver_processing', 'gold_aggregation', 'snowflake_load'].map((name) => ({
    name, title: name, description: name, activities: [{ name: `${name}_job`, description: 'x', job: job(`${name}-job`) }],
  })),
};
const desired = withValues(compileFactory(DEF), defaultValues());
const key = (s: PlanStep) => `${s.action} ${s.kind}:${s.name}`;
const indexOf = (plan: PlanStep[], k: string) => {
  const i = plan.map(key).indexOf(k);
  if (i < 0) throw new Error(`step '${k}' not in plan:\n${formatPlan(plan).join('\n')}`);
  return i;
};

describe('deploy plan', () => {
  it('creates everything in dependency order on an empty factory and starts the daily trigger', () => {
    const plan = deployPlan(desired, {}, { startTriggers: STARTED_ON_DEPLOY });
    expect(plan.map((s) => s.action).filter((a) => a !== 'create')).toEqual(['start-trigger']);
    const kinds = plan.filter((s) => s.action === 'create').map((s) => s.kind);
    const rank = { globalParameters: 0, linkedService: 1, dataset: 2, pipeline: 3, trigger: 4 };
    expect(kinds.map((k) => rank[k])).toEqual([...kinds.map((k) => rank[k])].sort());
    // Key Vault before the Snowflake linked service that reads its secret from it.
    expect(indexOf(plan, 'create linkedService:ls_key_vault')).toBeLessThan(indexOf(plan, 'create linkedService:ls_snowflake'));
    // Job runner before sub-pipelines before the master.
    const runner = indexOf(plan, 'create pipeline:c360_run_job');
    for (const s of DEF.stages) {
      const sub = indexOf(plan, `create pipeline:c360_${s.name}`);
      expect(runner).toBeLessThan(sub);
      expect(sub).toBeLessThan(indexOf(plan, `create pipeline:${DEF.name}`));
    }
    expect(plan.at(-1)).toMatchObject({ action: 'start-trigger', name: TR_DAILY });
    expect(plan.some((s) => s.name === TR_BACKFILL && s.action === 'start-trigger')).toBe(false);
    expect(plan.find((s) => s.name === 'ls_adls_lake')!.properties).toMatchObject({ typeProperties: { url: defaultValues().lakeDfsUrl } });
  });

  it('stops running triggers first, updates, deletes what left the definition, restarts afterwards', () => {
    const same = desired.find((r) => r.name === 'ls_key_vault')!;
    const current: CurrentState = {
      globalParameters: [{ name: 'default', properties: {} }],
      linkedService: [{ name: 'ls_key_vault', properties: structuredClone(same.properties) }, { name: 'ls_adls_lake', properties: { type: 'AzureBlobFS' } }, { name: 'ls_old_sql' }],
      dataset: [{ name: 'ds_old_table' }],
      pipeline: [
        { name: 'c360_run_job', properties: {} },
        { name: 'old_parent', properties: { activities: [{ type: 'ExecutePipeline', typeProperties: { pipeline: { referenceName: 'old_child', type: 'PipelineReference' } } }] } },
        { name: 'old_child', properties: { activities: [] } },
      ],
      trigger: [
        { name: TR_DAILY, runtimeState: 'Started' },
        { name: TR_BACKFILL, runtimeState: 'Stopped' },
        { name: 'tr_old_hourly', runtimeState: 'Started' },
      ],
    };
    const plan = deployPlan(desired, current, { startTriggers: STARTED_ON_DEPLOY });
    const keys = plan.map(key);
    expect(keys.slice(0, 2)).toEqual([`stop-trigger trigger:${TR_DAILY}`, 'stop-trigger trigger:tr_old_hourly']);
    expect(keys).toContain('unchanged linkedService:ls_key_vault');
    expect(keys).toContain('update linkedService:ls_adls_lake');
    expect(keys).toContain('update pipeline:c360_run_job');
    expect(keys).toContain(`update trigger:${TR_BACKFILL}`);
    expect(keys).toContain('create linkedService:ls_snowflake');
    // Deletes after all upserts: triggers, then pipelines (the caller before its child), datasets, linked services.
    const lastUpsert = Math.max(...plan.map((s, i) => (['create', 'update', 'unchanged'].includes(s.action) ? i : -1)));
    const deletes = plan.filter((s) => s.action === 'delete').map((s) => `${s.kind}:${s.name}`);
    expect(deletes).toEqual(['trigger:tr_old_hourly', 'pipeline:old_parent', 'pipeline:old_child', 'dataset:ds_old_table', 'linkedService:ls_old_sql']);
    expect(indexOf(plan, 'delete trigger:tr_old_hourly')).toBeGreaterThan(lastUpsert);
    // Only the previously running trigger that still exists, plus the daily one, start again; backfill stays stopped.
    expect(plan.filter((s) => s.action === 'start-trigger').map((s) => s.name)).toEqual([TR_DAILY]);
    expect(plan.at(-1)!.action).toBe('start-trigger');
    expect(plan.find((s) => s.action === 'unchanged')!.properties).toBeUndefined();
  });

  it('restarts a backfill trigger that was running', () => {
    const plan = deployPlan(desired, { trigger: [{ name: TR_BACKFILL, runtimeState: 'Started' }] }, { startTriggers: [] });
    expect(plan[0]).toMatchObject({ action: 'stop-trigger', name: TR_BACKFILL });
    expect(plan.at(-1)).toMatchObject({ action: 'start-trigger', name: TR_BACKFILL });
  });

  it('formats one numbered line per step', () => {
    const lines = formatPlan(deployPlan(desired, {}, { startTriggers: STARTED_ON_DEPLOY }));
    expect(lines[0]).toMatch(/^ {2}1\. create +globalParameters +default$/);
    expect(lines).toHaveLength(desired.length + 1);
  });
});

describe('deploy parameter files', () => {
  it('reads ARM parameter files and Bicep deployment outputs, keeping defaults for the rest', () => {
    const arm = parameterValues({ parameters: { factoryName: { value: 'c360-prod-adf' }, unknownThing: { value: 1 } } });
    expect(arm.factoryName).toBe('c360-prod-adf');
    expect(arm).not.toHaveProperty('unknownThing');
    expect(arm.keyVaultUrl).toBe(defaultValues().keyVaultUrl);
    const outputs = parameterValues({ lakeDfsUrl: { type: 'String', value: 'https://c360prodlake.dfs.core.windows.net/' }, jobEnvironment: { type: 'Array', value: [{ name: 'A', value: 'b' }] } });
    expect(outputs.lakeDfsUrl).toBe('https://c360prodlake.dfs.core.windows.net/');
    expect(outputs.jobEnvironment).toEqual([{ name: 'A', value: 'b' }]);
    const resolved = withValues(compileFactory(DEF), outputs);
    expect(JSON.stringify(resolved)).not.toContain('{{arm:');
    expect(JSON.stringify(resolved.find((r) => r.kind === 'globalParameters'))).toContain('"value":[{"name":"A","value":"b"}]');
  });
});

describe('c360 adf deploy --dry-run', () => {
  it('prints the plan without calling Azure', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['bin/c360.mjs', 'adf', 'deploy', '--dry-run', '--factory', 'c360-test-adf'], { encoding: 'utf8' });
    expect(out).toContain('Plan (dry run) for factory c360-test-adf (current state: empty, Azure not called):');
    expect(out).toMatch(/create +pipeline +customer360_master/);
    expect(out).toMatch(/start-trigger +trigger +tr_daily_master\n?$/);
  });
});
