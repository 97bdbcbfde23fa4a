// Reads factory parameter values for `c360 adf deploy --parameters FILE`: an ARM parameters file
// ({ parameters: { x: { value } } }, e.g. ARMTemplateParametersForFactory.json) or the outputs of the Bicep
// deployment (`az deployment group show -g G -n main --query properties.outputs`: { x: { type, value } }).
import { FACTORY_PARAMS, defaultValues } from './factory-params.ts';

export function parameterValues(json: unknown): Record<string, unknown> {
  const root = (json ?? {}) as Record<string, unknown>;
  const entries = (root.parameters && typeof root.parameters === 'object' ? root.parameters : root) as Record<string, unknown>;
  const values = defaultValues();
  const known = new Set(FACTORY_PARAMS.map((p) => p.name));
  for (const [k, v] of Object.entries(entries)) {
    if (!known.has(k)) continue;
    values[k] = v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v;
  }
  return values;
}
