// Lake paths of the Silver layer (the lead's layout) and of the identity state.
import type { TableContract } from '../../schemas/contract.ts';

export const BRONZE_ROOT = 'bronze/customer360';
export const SILVER_ROOT = 'silver/customer360';
/** Standardised tables before identity stamping and cross-table checks; not read by anyone else. */
export const STAGING_ROOT = 'silver/customer360/_staging';
export const IDENTITY_ROOT = 'silver/customer360/identity';

export const bronzePrefix = (c: TableContract) => `${BRONZE_ROOT}/${c.bronzeDir}/`;
export const stagingFile = (c: TableContract) => `${STAGING_ROOT}/${c.bronzeDir}/part-0.parquet`;
export const silverPrefix = (c: TableContract) => `${SILVER_ROOT}/${c.bronzeDir}/`;
export const silverFile = (c: TableContract) => `${SILVER_ROOT}/${c.bronzeDir}/part-0.parquet`;

export const IDENTITY_PATHS = {
  crosswalk: `${IDENTITY_ROOT}/crosswalk/part-0.parquet`,
  ledger: `${IDENTITY_ROOT}/match_ledger/part-0.parquet`,
  clusters: `${IDENTITY_ROOT}/clusters/part-0.parquet`,
  registry: `${IDENTITY_ROOT}/id_registry/part-0.parquet`,
  retired: `${IDENTITY_ROOT}/retired_ids/part-0.parquet`,
  /** Overrides file a data steward maintains (never_match / always_match / block). */
  overrides: 'config/identity_overrides.csv',
} as const;
