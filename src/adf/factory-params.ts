// The values that differ per environment. In the ARM template each is a parameter ("[parameters('x')]"); in the
// git-mode files (adf-templates/<kind>/*.json) the dev default is written in. Bicep's main.bicep outputs a value for
// every one of these names (test/bicep.test.ts checks it), so `az deployment group show ... outputs` feeds them.

export interface FactoryParam {
  name: string;
  armType: 'string' | 'array' | 'object' | 'int';
  description: string;
  /** Dev default: written into the git-mode files and the parameters file. */
  default: unknown;
}

export const FACTORY_PARAMS: readonly FactoryParam[] = [
  { name: 'factoryName', armType: 'string', description: 'Data Factory name', default: 'c360-dev-adf' },
  { name: 'lakeDfsUrl', armType: 'string', description: 'ADLS Gen2 account dfs endpoint, e.g. https://<account>.dfs.core.windows.net/', default: 'https://c360devlake.dfs.core.windows.net/' },
  { name: 'lakeFileSystem', armType: 'string', description: 'Container (file system) that holds the lake root (bronze/, silver/, gold/, quarantine/, landing/, _runs/)', default: 'lake' },
  { name: 'keyVaultUrl', armType: 'string', description: 'Key Vault URI holding the Snowflake private key', default: 'https://c360-dev-kv.vault.azure.net/' },
  { name: 'containerAppsJobId', armType: 'string', description: 'Resource id of the Container Apps job that runs `c360 job ...`', default: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/c360-dev/providers/Microsoft.App/jobs/c360-dev-job' },
  { name: 'jobImage', armType: 'string', description: 'Container image of the job (must match the Container Apps job image)', default: 'c360devacr.azurecr.io/c360:latest' },
  { name: 'jobEnvironment', armType: 'array', description: 'Environment variables of the job container ([{name, value}]): C360_LAKE_URL, AZURE_CLIENT_ID, ...', default: [{ name: 'C360_HOME', value: '/tmp/c360' }, { name: 'C360_LAKE_URL', value: 'https://c360devlake.dfs.core.windows.net/lake' }] },
  { name: 'jobResources', armType: 'object', description: 'CPU and memory of one job execution ({cpu, memory})', default: { cpu: 2, memory: '4Gi' } },
  { name: 'snowflakeAccountIdentifier', armType: 'string', description: 'Snowflake account identifier (orgname-accountname)', default: 'myorg-c360dev' },
  { name: 'snowflakeUser', armType: 'string', description: 'Snowflake user with key-pair authentication', default: 'C360_LOADER' },
  { name: 'snowflakeDatabase', armType: 'string', description: 'Snowflake database', default: 'C360' },
  { name: 'snowflakeWarehouse', armType: 'string', description: 'Snowflake virtual warehouse', default: 'C360_WH' },
  { name: 'snowflakeRole', armType: 'string', description: 'Snowflake role', default: 'C360_LOADER' },
  { name: 'snowflakePrivateKeySecretName', armType: 'string', description: 'Key Vault secret holding the Snowflake private key (PEM, PKCS#8)', default: 'snowflake-private-key' },
  { name: 'notifyWebhookUrl', armType: 'string', description: 'Webhook that receives a JSON POST when an activity or stage fails (Teams/Slack/Logic App)', default: 'https://example.invalid/c360-alerts' },
  { name: 'dailyStartTime', armType: 'string', description: 'First run of the daily schedule (UTC)', default: '2026-01-01T02:00:00Z' },
  { name: 'backfillStartTime', armType: 'string', description: 'First window of the backfill tumbling-window trigger (UTC, midnight)', default: '2026-01-01T00:00:00Z' },
];

const TOKEN = /^\{\{arm:(\w+)\}\}$/;

/** A whole-value reference to a factory parameter, resolved by the renderer (git mode: default; ARM: parameters()). */
export function param(name: string): string {
  if (!FACTORY_PARAMS.some((p) => p.name === name)) throw new Error(`Unknown factory parameter '${name}'`);
  return `{{arm:${name}}}`;
}

/** Replaces parameter tokens anywhere in a JSON value; a token inside a longer string is an error. */
export function resolveParams(value: unknown, resolve: (name: string) => unknown): unknown {
  if (typeof value === 'string') {
    const m = TOKEN.exec(value);
    if (m) return resolve(m[1]!);
    if (value.includes('{{arm:')) throw new Error(`Factory parameter token inside a longer string: ${value}`);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => resolveParams(v, resolve));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveParams(v, resolve)]));
  }
  return value;
}

export function defaultValues(): Record<string, unknown> {
  return Object.fromEntries(FACTORY_PARAMS.map((p) => [p.name, p.default]));
}
