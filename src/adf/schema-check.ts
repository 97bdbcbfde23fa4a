// Validation of generated resources against the official ARM JSON schemas (draft-04) in ../shared/schemas/arm/.
// Used by the tests and `c360 adf build --validate`; ajv is a dev dependency, so import this module lazily.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';

export const DEFAULT_SCHEMA_DIR = resolve(process.env.C360_ARM_SCHEMAS ?? join(process.cwd(), '..', 'shared', 'schemas', 'arm'));
const DF_ID = 'https://schema.management.azure.com/schemas/2018-06-01/Microsoft.DataFactory.json';

export interface SchemaChecker {
  /** Errors of one resource ({name, type, apiVersion, properties}) against its resourceDefinition; [] when valid. */
  check(resource: Record<string, unknown>): string[];
}

const RESOURCE_DEFINITIONS: Record<string, string> = {
  'Microsoft.DataFactory/factories/linkedservices': 'factories_linkedservices',
  'Microsoft.DataFactory/factories/datasets': 'factories_datasets',
  'Microsoft.DataFactory/factories/pipelines': 'factories_pipelines',
  'Microsoft.DataFactory/factories/triggers': 'factories_triggers',
  'Microsoft.DataFactory/factories/globalParameters': 'factories_globalParameters',
  'Microsoft.DataFactory/factories': 'factories',
};

export function dataFactoryChecker(schemaDir = DEFAULT_SCHEMA_DIR): SchemaChecker {
  const ajv = new (Ajv04 as unknown as typeof Ajv04.default)({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, 'common', 'definitions.json'), 'utf8')));
  ajv.addSchema(JSON.parse(readFileSync(join(schemaDir, '2018-06-01', 'Microsoft.DataFactory.json'), 'utf8')));
  const cache = new Map<string, ValidateFunction>();
  return {
    check(resource) {
      const type = String(resource.type);
      const def = RESOURCE_DEFINITIONS[type];
      if (!def) return [`no schema for resource type '${type}'`];
      let validate = cache.get(def);
      if (!validate) {
        validate = ajv.getSchema(`${DF_ID}#/resourceDefinitions/${def}`) as ValidateFunction;
        cache.set(def, validate);
      }
      if (validate(resource)) return [];
      return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
  };
}
