// `c360 adf build` renders the pipeline definition into adf-templates/; `c360 adf deploy` applies it to a factory.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ALL_STAGES, MASTER } from '../../../pipelines/master.ts';
import { diffTemplates, writeTemplates } from '../../adf/build.ts';
import { compileFactory } from '../../adf/compile.ts';
import { deployPlan, formatPlan } from '../../adf/deploy-plan.ts';
import { parameterValues } from '../../adf/parameters-file.ts';
import { withValues } from '../../adf/render.ts';
import { STARTED_ON_DEPLOY } from '../../adf/triggers.ts';
import { requireStr, str, type Command } from '../command.ts';

const build: Command = {
  name: 'adf build',
  summary: 'Render the pipeline definition into Data Factory JSON and an ARM template (adf-templates/)',
  options: {
    out: { type: 'string', description: 'Output folder', default: 'adf-templates' },
    check: { type: 'boolean', description: 'Do not write; exit 1 if the committed files differ from a fresh build' },
    validate: { type: 'boolean', description: 'Also validate every resource against the official ARM schema (needs dev dependencies and ../shared/schemas/arm)' },
  },
  async run(values, _positionals, io) {
    const dir = resolve(str(values, 'out') ?? 'adf-templates');
    if (values.validate) {
      const { dataFactoryChecker } = await import('../../adf/schema-check.ts');
      const { renderArmTemplate } = await import('../../adf/render.ts');
      const checker = dataFactoryChecker();
      const arm = renderArmTemplate(compileFactory(MASTER)) as { resources: Record<string, unknown>[] };
      let bad = 0;
      for (const r of arm.resources) {
        const errors = checker.check(r);
        if (errors.length) {
          bad++;
          io.out(`INVALID ${String(r.name)}: ${errors.slice(0, 5).join('; ')}`);
        }
      }
      io.out(`schema: ${arm.resources.length - bad}/${arm.resources.length} resources valid`);
      if (bad) return 1;
    }
    if (values.check) {
      const diff = await diffTemplates(MASTER, dir);
      const n = diff.added.length + diff.changed.length + diff.removed.length;
      for (const p of diff.added) io.out(`missing  ${p}`);
      for (const p of diff.changed) io.out(`changed  ${p}`);
      for (const p of diff.removed) io.out(`stale    ${p}`);
      io.out(n === 0 ? `${dir} is up to date` : `${n} file(s) differ: run c360 adf build`);
      return n === 0 ? 0 : 1;
    }
    const { written, removed } = await writeTemplates(MASTER, dir);
    io.out(`wrote ${written} files to ${dir}${removed.length ? `, removed ${removed.join(', ')}` : ''}`);
    io.out(`stages: ${MASTER.stages.map((s) => `${s.name} (${s.activities.length})`).join(' -> ')}`);
    for (const s of ALL_STAGES.filter((x) => x.activities.length === 0)) {
      io.log.warn(`stage ${s.name} has no activities yet: the master pipeline does not run it`);
    }
    return 0;
  },
};

const deploy: Command = {
  name: 'adf deploy',
  summary: 'Create/update/delete the factory resources in dependency order (triggers stopped around it)',
  options: {
    subscription: { type: 'string', description: 'Azure subscription id' },
    'resource-group': { type: 'string', description: 'Resource group of the factory' },
    factory: { type: 'string', description: 'Data Factory name' },
    parameters: { type: 'string', description: 'ARM parameters file or Bicep outputs JSON (default: adf-templates/ARMTemplateParametersForFactory.json)' },
    'dry-run': { type: 'boolean', description: 'Print the plan; with no --subscription, plan against an empty factory without calling Azure' },
  },
  async run(values, _positionals, io) {
    const dryRun = values['dry-run'] === true;
    const paramsFile = resolve(str(values, 'parameters') ?? 'adf-templates/ARMTemplateParametersForFactory.json');
    const fileValues = parameterValues(JSON.parse(await readFile(paramsFile, 'utf8')));
    const factory = dryRun ? str(values, 'factory') ?? String(fileValues.factoryName) : requireStr(values, 'factory');
    const desired = withValues(compileFactory(MASTER), { ...fileValues, factoryName: factory });
    const subscription = dryRun ? str(values, 'subscription') : requireStr(values, 'subscription');
    let client: import('../../adf/deploy-client.ts').FactoryClient | undefined;
    if (subscription) {
      const { FactoryClient } = await import('../../adf/deploy-client.ts');
      client = new FactoryClient({ subscription, resourceGroup: requireStr(values, 'resource-group'), factory });
    }
    const current = client ? await client.currentState() : {};
    const plan = deployPlan(desired, current, { startTriggers: STARTED_ON_DEPLOY });
    io.out(`${dryRun ? 'Plan (dry run)' : 'Plan'} for factory ${factory}${client ? '' : ' (current state: empty, Azure not called)'}:`);
    for (const line of formatPlan(plan)) io.out(line);
    if (dryRun || !client) return 0;
    for (const step of plan) {
      if (step.action === 'unchanged') continue;
      io.log.info(`${step.action} ${step.kind} ${step.name}`);
      await client.apply(step);
    }
    io.out(`deployed ${plan.filter((s) => s.action !== 'unchanged').length} change(s) to ${factory}`);
    return 0;
  },
};

export const commands: Command[] = [build, deploy];
