// Snowflake connection settings from the environment (names match the ADF factory parameters), with key-pair auth:
// the private key comes from SNOWFLAKE_PRIVATE_KEY (PEM), SNOWFLAKE_PRIVATE_KEY_PATH, or Key Vault
// (C360_KEY_VAULT_URL + SNOWFLAKE_PRIVATE_KEY_SECRET, read with the managed identity). Pure apart from the key fetch.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../runtime/errors.ts';

export interface SnowflakeConnectionConfig {
  account: string;
  username: string;
  database: string;
  warehouse?: string;
  role?: string;
  key: { pem: string } | { path: string } | { vaultUrl: string; secretName: string };
  passphrase?: string;
}

type Env = Record<string, string | undefined>;

export function snowflakeConfigFromEnv(env: Env = process.env): SnowflakeConnectionConfig {
  const missing: string[] = [];
  const need = (name: string) => {
    const v = env[name];
    if (!v) missing.push(name);
    return v ?? '';
  };
  const account = need('SNOWFLAKE_ACCOUNT');
  const username = need('SNOWFLAKE_USER');
  let key: SnowflakeConnectionConfig['key'] | undefined;
  if (env.SNOWFLAKE_PRIVATE_KEY) key = { pem: env.SNOWFLAKE_PRIVATE_KEY.replaceAll('\\n', '\n') };
  else if (env.SNOWFLAKE_PRIVATE_KEY_PATH) key = { path: env.SNOWFLAKE_PRIVATE_KEY_PATH };
  else if (env.C360_KEY_VAULT_URL && env.SNOWFLAKE_PRIVATE_KEY_SECRET) key = { vaultUrl: env.C360_KEY_VAULT_URL, secretName: env.SNOWFLAKE_PRIVATE_KEY_SECRET };
  else missing.push('SNOWFLAKE_PRIVATE_KEY | SNOWFLAKE_PRIVATE_KEY_PATH | C360_KEY_VAULT_URL+SNOWFLAKE_PRIVATE_KEY_SECRET');
  if (missing.length) {
    throw new UsageError(`Snowflake is not configured: set ${missing.join(', ')} (key-pair auth; see docs/warehouse.md)`);
  }
  return {
    account,
    username,
    database: env.SNOWFLAKE_DATABASE || 'CUSTOMER360',
    warehouse: env.SNOWFLAKE_WAREHOUSE || undefined,
    role: env.SNOWFLAKE_ROLE || undefined,
    key: key!,
    passphrase: env.SNOWFLAKE_PRIVATE_KEY_PASSPHRASE || undefined,
  };
}

/** The PEM private key, fetched from Key Vault with the ambient Azure identity when configured so. */
export async function resolvePrivateKey(config: SnowflakeConnectionConfig): Promise<string> {
  const k = config.key;
  if ('pem' in k) return k.pem;
  if ('path' in k) return readFile(k.path, 'utf8');
  const { DefaultAzureCredential } = await import('@azure/identity');
  const token = await new DefaultAzureCredential().getToken('https://vault.azure.net/.default');
  const url = `${k.vaultUrl.replace(/\/$/, '')}/secrets/${encodeURIComponent(k.secretName)}?api-version=7.4`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${token.token}` } });
  if (!res.ok) throw new Error(`Key Vault ${k.vaultUrl}: reading secret '${k.secretName}' failed with HTTP ${res.status}`);
  return ((await res.json()) as { value: string }).value;
}
