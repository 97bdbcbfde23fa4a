// Linked services, datasets and global parameters of the factory. Everything authenticates with the factory's
// system-assigned managed identity; the only secret (the Snowflake private key) stays in Key Vault.
import { param } from './factory-params.ts';
import type { FactoryResource } from './types.ts';

export const LS_LAKE = 'ls_adls_lake';
export const LS_KEY_VAULT = 'ls_key_vault';
export const LS_SNOWFLAKE = 'ls_snowflake';
export const DS_LAKE_PARQUET = 'ds_lake_parquet';
export const DS_SNOWFLAKE_TABLE = 'ds_snowflake_table';

const ann = ['c360', 'generated'];

export function linkedServices(): FactoryResource[] {
  return [
    {
      kind: 'linkedService',
      name: LS_KEY_VAULT,
      references: [],
      properties: {
        description: 'Key Vault with the Snowflake private key (factory identity: Key Vault Secrets User).',
        annotations: ann,
        type: 'AzureKeyVault',
        typeProperties: { baseUrl: param('keyVaultUrl') },
      },
    },
    {
      kind: 'linkedService',
      name: LS_LAKE,
      references: [],
      properties: {
        // No credential properties: AzureBlobFS then authenticates with the factory's system-assigned identity.
        description: 'ADLS Gen2 lake (managed identity; factory identity: Storage Blob Data Reader).',
        annotations: ann,
        type: 'AzureBlobFS',
        typeProperties: { url: param('lakeDfsUrl') },
      },
    },
    {
      kind: 'linkedService',
      name: LS_SNOWFLAKE,
      references: [`linkedService:${LS_KEY_VAULT}`],
      properties: {
        description: 'Snowflake warehouse (SnowflakeV2, key-pair authentication; private key from Key Vault).',
        annotations: ann,
        type: 'SnowflakeV2',
        typeProperties: {
          accountIdentifier: param('snowflakeAccountIdentifier'),
          user: param('snowflakeUser'),
          database: param('snowflakeDatabase'),
          warehouse: param('snowflakeWarehouse'),
          role: param('snowflakeRole'),
          authenticationType: 'KeyPair',
          privateKey: {
            type: 'AzureKeyVaultSecret',
            store: { referenceName: LS_KEY_VAULT, type: 'LinkedServiceReference' },
            secretName: param('snowflakePrivateKeySecretName'),
          },
        },
      },
    },
  ];
}

/** For monitoring and ad-hoc Lookup activities over the lake and the warehouse (parameterised, not per table). */
export function datasets(): FactoryResource[] {
  return [
    {
      kind: 'dataset',
      name: DS_LAKE_PARQUET,
      references: [`linkedService:${LS_LAKE}`],
      properties: {
        description: 'Any Parquet folder of the lake, e.g. gold/customer360/customer_360.',
        annotations: ann,
        linkedServiceName: { referenceName: LS_LAKE, type: 'LinkedServiceReference' },
        parameters: { folderPath: { type: 'String' } },
        folder: { name: 'customer360' },
        type: 'Parquet',
        typeProperties: {
          location: {
            type: 'AzureBlobFSLocation',
            fileSystem: param('lakeFileSystem'),
            folderPath: { value: '@dataset().folderPath', type: 'Expression' },
          },
          compressionCodec: 'snappy',
        },
        schema: [],
      },
    },
    {
      kind: 'dataset',
      name: DS_SNOWFLAKE_TABLE,
      references: [`linkedService:${LS_SNOWFLAKE}`],
      properties: {
        description: 'Any Snowflake table of the warehouse, e.g. GOLD.CUSTOMER_360.',
        annotations: ann,
        linkedServiceName: { referenceName: LS_SNOWFLAKE, type: 'LinkedServiceReference' },
        parameters: { schema: { type: 'String' }, table: { type: 'String' } },
        folder: { name: 'customer360' },
        type: 'SnowflakeV2Table',
        typeProperties: {
          schema: { value: '@dataset().schema', type: 'Expression' },
          table: { value: '@dataset().table', type: 'Expression' },
        },
        schema: [],
      },
    },
  ];
}

/** Global parameters the pipelines read as pipeline().globalParameters.<name>. */
export const GLOBAL_PARAMETERS = ['containerAppsJobId', 'jobImage', 'jobEnvironment', 'jobResources', 'notifyWebhookUrl'] as const;

export function globalParameters(): FactoryResource {
  const types: Record<string, string> = { jobEnvironment: 'Array', jobResources: 'Object' };
  return {
    kind: 'globalParameters',
    name: 'default',
    references: [],
    properties: Object.fromEntries(GLOBAL_PARAMETERS.map((n) => [n, { type: types[n] ?? 'String', value: param(n) }])),
  };
}
