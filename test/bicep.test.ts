// Bicep: every file parses with tree-sitter-bicep, every resource type@apiVersion exists in the official ARM schemas
// (or is an allow-listed newer one), modules are called with the parameters they declare, the parameter files fit
// main.bicep, and main.bicep outputs exactly what the ADF ARM template takes as parameters.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FACTORY_PARAMS } from '../src/adf/factory-params.ts';
import { JOB_CONTAINER_NAME } from '../src/adf/job-runner.ts';
import { SHARED } from './shared.ts';

type SyntaxNode = { type: string; text: string; isMissing: boolean; children: SyntaxNode[]; namedChildren: SyntaxNode[]; startPosition: { row: number; column: number }; descendantsOfType(t: string): SyntaxNode[]; childForFieldName(n: string): SyntaxNode | null };
const require = createRequire(import.meta.url);
const Parser = require('tree-sitter') as new () => { setLanguage(l: unknown): void; parse(s: string): { rootNode: SyntaxNode } };
const parser = new Parser();
parser.setLanguage(require('tree-sitter-bicep'));

const ROOT = join(import.meta.dirname, '..', 'bicep');
const SCHEMAS = join(SHARED, 'schemas', 'arm');
const files = ['main.bicep', ...readdirSync(join(ROOT, 'modules')).filter((f) => f.endsWith('.bicep')).map((f) => `modules/${f}`)];
const trees = new Map(files.map((f) => [f, parser.parse(readFileSync(join(ROOT, f), 'utf8')).rootNode]));

/** Resource types and API versions newer than (or absent from) ../shared/schemas/arm, each with a reason. */
const ALLOWED_NEWER: Record<string, string> = {
  // Only referenced as `existing` for the AcrPull assignment; the registry is created outside this template.
  'Microsoft.ContainerRegistry/registries@2023-07-01': 'no Container Registry schema in ../shared/schemas/arm',
};

function problems(node: SyntaxNode): string[] {
  const out: string[] = [];
  const walk = (n: SyntaxNode) => {
    if (n.type === 'ERROR' || n.isMissing) out.push(`${n.isMissing ? 'MISSING ' : ''}${n.type} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${n.text.slice(0, 60)}`);
    n.children.forEach(walk);
  };
  walk(node);
  return out;
}

const unquote = (s: string) => s.replace(/^'|'$/g, '');
const top = (root: SyntaxNode, type: string) => root.namedChildren.filter((n) => n.type === type);
const nameOf = (n: SyntaxNode) => n.namedChildren.find((c) => c.type === 'identifier')!.text;

/** Declared parameters: name -> has a default value. */
function params(root: SyntaxNode): Map<string, boolean> {
  return new Map(top(root, 'parameter_declaration').map((p) => [nameOf(p), p.namedChildren.length > 2]));
}

function objectKeys(obj: SyntaxNode | undefined): string[] {
  return (obj?.namedChildren ?? []).filter((c) => c.type === 'object_property').map((c) => unquote(c.namedChildren[0]!.text));
}

function property(obj: SyntaxNode | undefined, key: string): SyntaxNode | undefined {
  return obj?.namedChildren.find((c) => c.type === 'object_property' && unquote(c.namedChildren[0]!.text) === key)?.namedChildren[1];
}

function knownTypes(): Set<string> {
  const out = new Set<string>();
  const visit = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith('.json')) {
        const schema = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
        for (const [k, defs] of Object.entries(schema)) {
          if (!/resourceDefinitions$/i.test(k) || !defs || typeof defs !== 'object') continue;
          for (const d of Object.values(defs as Record<string, { properties?: { type?: { enum?: string[] }; apiVersion?: { enum?: string[] } } }>)) {
            for (const t of d.properties?.type?.enum ?? []) for (const v of d.properties?.apiVersion?.enum ?? []) out.add(`${t}@${v}`.toLowerCase());
          }
        }
      }
    }
  };
  visit(SCHEMAS);
  return out;
}

describe('Bicep', () => {
  it('parses every .bicep file without ERROR or MISSING nodes', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const [f, root] of trees) expect(problems(root), f).toEqual([]);
    // The check is live: a broken file does produce errors.
    expect(problems(parser.parse("resource x 'Microsoft.Storage/storageAccounts@2026-04-01' = {\n  name: \n").rootNode).length).toBeGreaterThan(0);
  });

  it('uses only resource types and API versions from the official ARM schemas (or allow-listed newer ones)', () => {
    const known = knownTypes();
    expect(known.size).toBeGreaterThan(50);
    const used = new Set<string>();
    for (const [f, root] of trees) {
      for (const r of root.descendantsOfType('resource_declaration')) {
        const typeAt = unquote(r.namedChildren.find((c) => c.type === 'string')!.text);
        used.add(typeAt);
        expect(known.has(typeAt.toLowerCase()) || typeAt in ALLOWED_NEWER, `${f}: ${typeAt}`).toBe(true);
      }
    }
    for (const t of ['Microsoft.Storage/storageAccounts@2026-04-01', 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2026-01-01', 'Microsoft.DataFactory/factories@2018-06-01', 'Microsoft.App/jobs@2026-01-01', 'Microsoft.App/managedEnvironments@2026-01-01', 'Microsoft.KeyVault/vaults@2026-02-01', 'Microsoft.OperationalInsights/workspaces@2025-07-01', 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview', 'Microsoft.Authorization/roleAssignments@2022-04-01', 'Microsoft.Storage/storageAccounts/managementPolicies@2026-04-01']) {
      expect(used, t).toContain(t);
    }
    expect(known.has('microsoft.storage/storageaccounts@2019-01-01')).toBe(false);
  });

  it('calls every module with parameters it declares, including all required ones', () => {
    const main = trees.get('main.bicep')!;
    const modules = top(main, 'module_declaration');
    expect(modules.length).toBeGreaterThanOrEqual(9);
    for (const m of modules) {
      const path = unquote(m.namedChildren.find((c) => c.type === 'string')!.text);
      const tree = trees.get(path);
      expect(tree, `module file ${path}`).toBeDefined();
      const declared = params(tree!);
      // A conditional module (`= if (cond) {...}`) holds its body in an if_statement.
      const body = m.namedChildren.find((c) => c.type === 'object') ?? m.namedChildren.find((c) => c.type === 'if_statement')?.namedChildren.find((c) => c.type === 'object');
      const passed = objectKeys(property(body, 'params'));
      for (const p of passed) expect(declared.has(p), `${path}: unknown parameter ${p}`).toBe(true);
      for (const [p, hasDefault] of declared) if (!hasDefault) expect(passed, `${path}: required parameter ${p}`).toContain(p);
    }
  });

  it('outputs every parameter of the ADF ARM template, by the same name and type', () => {
    const main = trees.get('main.bicep')!;
    const outputs = new Map(top(main, 'output_declaration').map((o) => [nameOf(o), o.namedChildren.find((c) => c.type === 'type')!.text]));
    for (const p of FACTORY_PARAMS) {
      expect(outputs.has(p.name), `main.bicep output ${p.name}`).toBe(true);
      expect(outputs.get(p.name), p.name).toBe(p.armType);
    }
  });

  it('has dev and prod parameter files that fit main.bicep', () => {
    const declared = params(trees.get('main.bicep')!);
    for (const env of ['dev', 'prod']) {
      const file = JSON.parse(readFileSync(join(ROOT, 'parameters', `${env}.parameters.json`), 'utf8')) as { parameters: Record<string, { value: unknown }> };
      for (const k of Object.keys(file.parameters)) expect(declared.has(k), `${env}: unknown parameter ${k}`).toBe(true);
      for (const [p, hasDefault] of declared) if (!hasDefault) expect(file.parameters, `${env}: required ${p}`).toHaveProperty(p);
      expect(file.parameters.environmentName!.value).toBe(env);
    }
  });

  it('provisions what the platform needs with least privilege', () => {
    const text = (f: string) => readFileSync(join(ROOT, f), 'utf8');
    expect(text('modules/storage.bicep')).toMatch(/isHnsEnabled: true/);
    for (const prefix of ['bronze/', 'quarantine/', 'landing/', '_runs/']) expect(text('modules/storage.bicep')).toContain(`'\${lakeContainer}/${prefix}'`);
    expect(text('modules/data-factory.bicep')).toMatch(/type: 'SystemAssigned'/);
    expect(text('modules/key-vault.bicep')).toMatch(/enableRbacAuthorization: true/);
    expect(text('modules/event-hubs.bicep')).toMatch(/consumergroups@/);
    // The container ADF's start body overrides is the one the job defines.
    expect(text('modules/job-compute.bicep')).toContain(`name: '${JOB_CONTAINER_NAME}'`);
    expect(text('modules/job-compute.bicep')).toMatch(/triggerType: 'Manual'/);
    const factoryRoles = text('modules/roles-factory.bicep');
    expect(factoryRoles).toContain("'Microsoft.App/jobs/start/action'");
    expect(factoryRoles).not.toMatch(/Contributor'|'\*'/);
    const jobRoles = text('modules/roles-job.bicep');
    for (const role of ['storageBlobDataContributor', 'eventHubsDataReceiver', 'keyVaultSecretsUser']) expect(jobRoles).toContain(`roles.${role})`);
    // The collector sends to its two hubs only, reads only its write-keys secret, and the hubs always exist.
    const collector = text('modules/collector.bicep');
    expect(collector).toContain("'Microsoft.App/containerApps@");
    expect(collector).toMatch(/roles\.eventHubsDataSender\)[\s\S]*scope: hub\[i\]/);
    expect(collector).toMatch(/scope: writeKeys\n/);
    expect(collector).not.toMatch(/eventHubsDataReceiver|storageBlobData/);
    expect(collector).toMatch(/path: '\/health'/);
    expect(text('main.bicep')).toMatch(/hubs: union\(eventHubs, collectorHubs\)/);
    for (const h of ['c360-behavioral-events', 'c360-id-resolution']) expect(text('main.bicep')).toContain(`'${h}'`);
    // The profile API reads the lake container only (never writes), reads only its API-keys secret, and is ready
    // only once a snapshot is loaded.
    const serve = text('modules/serve.bicep');
    expect(serve).toContain("'Microsoft.App/containerApps@");
    expect(serve).toMatch(/roles\.storageBlobDataReader\)[\s\S]*?\}/);
    expect(serve).toMatch(/scope: lakeContainer\n/);
    expect(serve).toMatch(/scope: apiKeys\n/);
    expect(serve).not.toMatch(/storageBlobDataContributor|eventHubs/);
    expect(serve).toMatch(/type: 'Readiness'\s+httpGet: \{\s+path: '\/health'/);
    expect(serve).toMatch(/'serve'\s+'--source'\s+'lake'/);
    expect(text('main.bicep')).toMatch(/module serve 'modules\/serve\.bicep' = if \(deployServe\)/);
    const env = text('main.bicep');
    for (const v of ['C360_LAKE_URL', 'AZURE_CLIENT_ID', 'C360_EVENTHUBS_NAMESPACE']) expect(env).toContain(`name: '${v}'`);
  });
});
