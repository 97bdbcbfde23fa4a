// Renders compiled resources to files: the ADF git-mode layout (pipeline/, linkedService/, dataset/, trigger/,
// factory/) and the ARM template + parameters in the shape ADF's own publish produces.
import type { FactoryResource, ResourceKind } from './types.ts';
import { ARM_TYPES } from './types.ts';
import { FACTORY_PARAMS, defaultValues, resolveParams } from './factory-params.ts';

const FOLDERS: Record<Exclude<ResourceKind, 'globalParameters'>, string> = {
  linkedService: 'linkedService',
  dataset: 'dataset',
  pipeline: 'pipeline',
  trigger: 'trigger',
};

/** Stable JSON: 4-space indent like ADF Studio, trailing newline. Key order is the builders' insertion order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, null, 4) + '\n';
}

/** Git-mode files by relative path, with the dev defaults of the factory parameters written in. */
export function renderGitMode(resources: FactoryResource[], values: Record<string, unknown> = defaultValues()): Map<string, string> {
  const files = new Map<string, string>();
  const resolve = (n: string) => values[n];
  for (const r of resources) {
    if (r.kind === 'globalParameters') continue;
    files.set(`${FOLDERS[r.kind]}/${r.name}.json`, stableJson({ name: r.name, properties: resolveParams(r.properties, resolve) }));
  }
  const globals = resources.find((r) => r.kind === 'globalParameters');
  const factoryName = String(values.factoryName);
  files.set(
    `factory/${factoryName}.json`,
    stableJson({
      name: factoryName,
      properties: { globalParameters: resolveParams(globals?.properties ?? {}, resolve) },
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
    }),
  );
  return files;
}

export function armResourceName(r: FactoryResource): string {
  return `[concat(parameters('factoryName'), '/${r.name}')]`;
}

function armDependency(ref: string, byKey: Map<string, FactoryResource>): string {
  const target = byKey.get(ref);
  if (!target) throw new Error(`reference to unknown resource ${ref}`);
  const segment = { linkedService: 'linkedServices', dataset: 'datasets', pipeline: 'pipelines', trigger: 'triggers', globalParameters: 'globalparameters' }[target.kind];
  return `[concat(variables('factoryId'), '/${segment}/${target.name}')]`;
}

/** ARMTemplateForFactory.json: every resource with dependsOn; pipelines also depend on the global parameters. */
export function renderArmTemplate(resources: FactoryResource[]): Record<string, unknown> {
  const byKey = new Map(resources.map((r) => [`${r.kind}:${r.name}`, r]));
  const armParam = (n: string) => `[parameters('${n}')]`;
  return {
    $schema: 'http://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#',
    contentVersion: '1.0.0.0',
    parameters: Object.fromEntries(
      FACTORY_PARAMS.map((p) => [p.name, { type: p.armType, metadata: p.description, ...(p.name === 'factoryName' ? {} : { defaultValue: p.default }) }]),
    ),
    variables: { factoryId: "[concat('Microsoft.DataFactory/factories/', parameters('factoryName'))]" },
    resources: resources.map((r) => {
      const refs = [...r.references];
      if (r.kind === 'pipeline') refs.unshift('globalParameters:default');
      return {
        name: armResourceName(r),
        type: ARM_TYPES[r.kind],
        apiVersion: '2018-06-01',
        properties: resolveParams(r.properties, armParam),
        dependsOn: refs.map((ref) => armDependency(ref, byKey)),
      };
    }),
  };
}

/** ARMTemplateParametersForFactory.json with the dev defaults (production values come from Bicep outputs). */
export function renderArmParameters(values: Record<string, unknown> = defaultValues()): Record<string, unknown> {
  return {
    $schema: 'https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#',
    contentVersion: '1.0.0.0',
    parameters: Object.fromEntries(FACTORY_PARAMS.map((p) => [p.name, { value: values[p.name] }])),
  };
}

/** Every file of adf-templates/, by relative path. */
export function renderAll(resources: FactoryResource[]): Map<string, string> {
  const files = renderGitMode(resources);
  files.set('ARMTemplateForFactory.json', stableJson(renderArmTemplate(resources)));
  files.set('ARMTemplateParametersForFactory.json', stableJson(renderArmParameters()));
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** The resources with concrete parameter values, as `c360 adf deploy` PUTs them. */
export function withValues(resources: FactoryResource[], values: Record<string, unknown>): FactoryResource[] {
  return resources.map((r) => ({ ...r, properties: resolveParams(r.properties, (n) => values[n]) as Record<string, unknown> }));
}
