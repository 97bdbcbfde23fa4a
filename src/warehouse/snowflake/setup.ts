// Snowflake account objects around the tables: database and schemas, masking policies on PII columns, the storage
// integration and external stage on ADLS, database roles and grants. Pure text, kept as golden files in snowflake/.
import type { PiiClass } from '../../../schemas/contract.ts';
import { quoteString } from '../dialect.ts';
import { snowflakeDialect as d, snowflakeIdent as id } from '../dialects/snowflake.ts';
import { SCHEMA_COMMENTS, renderTablesDdl } from '../load-plan.ts';
import { WAREHOUSE_TABLES, WAREHOUSE_VIEWS } from '../model.ts';
import { OPS_SCHEMA, SCHEMAS, STAGING_SCHEMA, type WarehouseTable } from '../types.ts';
import { MASK_RULES } from '../../privacy/masking.ts';

export interface SnowflakeSetup {
  database: string;
  /** Account-level storage integration (created by ACCOUNTADMIN). */
  storageIntegration: string;
  storageAccount: string;
  container: string;
  azureTenantId: string;
  /** Stage name inside the OPS schema. */
  stage: string;
  /** Account roles the database roles are granted to. */
  accountRoles: { analyst: string; engineer: string; loader: string };
}

export const DEFAULT_SETUP: SnowflakeSetup = {
  database: 'CUSTOMER360',
  storageIntegration: 'C360_ADLS_INTEGRATION',
  storageAccount: 'c360lake',
  container: 'lake',
  azureTenantId: '00000000-0000-0000-0000-000000000000',
  stage: 'GOLD_STAGE',
  accountRoles: { analyst: 'C360_ANALYST', engineer: 'C360_ENGINEER', loader: 'C360_LOADER' },
};

export const DATABASE_ROLES = { analyst: 'ANALYST', engineer: 'ENGINEER', loader: 'LOADER' } as const;

export function stageRef(s: SnowflakeSetup): string {
  return `@${id(OPS_SCHEMA)}.${id(s.stage)}`;
}

export function goldUrl(s: SnowflakeSetup): string {
  return `azure://${s.storageAccount}.blob.core.windows.net/${s.container}/gold/customer360/`;
}

export function renderDatabase(s: SnowflakeSetup): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${id(s.database)} COMMENT = 'Customer 360 and personalization warehouse'`,
    `USE DATABASE ${id(s.database)}`,
    ...[...SCHEMAS, STAGING_SCHEMA, OPS_SCHEMA].flatMap((x) => d.createSchema(x, SCHEMA_COMMENTS[x]!)),
  ];
}

export function renderTables(s: SnowflakeSetup, tables: readonly WarehouseTable[] = WAREHOUSE_TABLES): string[] {
  // Schemas are in renderDatabase; keep only the table statements.
  return [`USE DATABASE ${id(s.database)}`, ...renderTablesDdl(d, tables, WAREHOUSE_VIEWS).filter((x) => !x.startsWith('CREATE SCHEMA'))];
}

/** Who sees clear values: engineers and the loader; everyone else (analysts) sees the masked form. */
const UNMASKED = `IS_DATABASE_ROLE_IN_SESSION('${DATABASE_ROLES.engineer}') OR IS_DATABASE_ROLE_IN_SESSION('${DATABASE_ROLES.loader}')`;

export function piiColumns(tables: readonly WarehouseTable[] = WAREHOUSE_TABLES): Array<{ table: WarehouseTable; column: string; pii: Exclude<PiiClass, 'none'> }> {
  return tables.flatMap((table) =>
    table.columns.filter((c) => c.pii && c.pii !== 'none').map((c) => ({ table, column: c.name, pii: c.pii as Exclude<PiiClass, 'none'> })),
  );
}

export function renderMasking(s: SnowflakeSetup, tables: readonly WarehouseTable[] = WAREHOUSE_TABLES): string[] {
  const used = [...new Set(piiColumns(tables).map((p) => p.pii))].sort();
  const out = [`USE DATABASE ${id(s.database)}`];
  for (const pii of used) {
    const p = MASK_RULES[pii];
    out.push(
      `CREATE MASKING POLICY IF NOT EXISTS ${id(OPS_SCHEMA)}.${id(p.policy)} AS (VAL ${p.type}) RETURNS ${p.type} ->\n` +
        `  CASE WHEN VAL IS NULL THEN NULL WHEN ${UNMASKED} THEN VAL ELSE ${p.snowflake} END\n` +
        `  COMMENT = ${quoteString(`${p.comment} (PII class ${pii}); clear for ENGINEER and LOADER`)}`,
    );
  }
  // FORCE replaces a policy already set, so the statement can be re-run.
  for (const { table, column, pii } of piiColumns(tables)) {
    out.push(`ALTER TABLE ${d.qualified(table.schema, table.name)} MODIFY COLUMN ${id(column)} SET MASKING POLICY ${id(OPS_SCHEMA)}.${id(MASK_RULES[pii].policy)} FORCE`);
  }
  return out;
}

export function renderStage(s: SnowflakeSetup): string[] {
  const url = goldUrl(s);
  return [
    `-- Account level: run as ACCOUNTADMIN, then grant the Snowflake service principal access to the container\n` +
      `-- (DESC STORAGE INTEGRATION ${id(s.storageIntegration)} shows AZURE_CONSENT_URL and AZURE_MULTI_TENANT_APP_NAME).\n` +
      `CREATE STORAGE INTEGRATION IF NOT EXISTS ${id(s.storageIntegration)}\n` +
      `  TYPE = EXTERNAL_STAGE\n  STORAGE_PROVIDER = 'AZURE'\n  ENABLED = TRUE\n` +
      `  AZURE_TENANT_ID = ${quoteString(s.azureTenantId)}\n  STORAGE_ALLOWED_LOCATIONS = (${quoteString(url)})\n` +
      `  COMMENT = 'ADLS Gen2 lake, Gold layer (read-only for loads)'`,
    `USE DATABASE ${id(s.database)}`,
    `CREATE STAGE IF NOT EXISTS ${id(OPS_SCHEMA)}.${id(s.stage)}\n  STORAGE_INTEGRATION = ${id(s.storageIntegration)}\n` +
      `  URL = ${quoteString(url)}\n  FILE_FORMAT = (TYPE = PARQUET)\n  COMMENT = 'Gold datasets: <dataset>/as_of_date=YYYY-MM-DD/*.parquet'`,
  ];
}

export function renderRolesAndGrants(s: SnowflakeSetup): string[] {
  const db = id(s.database);
  const role = (r: string) => `${db}.${id(r)}`;
  const { analyst, engineer, loader } = DATABASE_ROLES;
  const out = [
    `USE DATABASE ${db}`,
    `CREATE DATABASE ROLE IF NOT EXISTS ${role(analyst)} COMMENT = 'Reads the three warehouse schemas; PII columns masked'`,
    `CREATE DATABASE ROLE IF NOT EXISTS ${role(engineer)} COMMENT = 'Analyst rights plus staging, ops and DDL; PII in clear'`,
    `CREATE DATABASE ROLE IF NOT EXISTS ${role(loader)} COMMENT = 'Service role of c360 snowflake load: writes targets, staging and audit'`,
    `GRANT DATABASE ROLE ${role(analyst)} TO DATABASE ROLE ${role(engineer)}`,
  ];
  for (const sch of SCHEMAS) {
    const q = `${db}.${id(sch)}`;
    out.push(
      `GRANT USAGE ON SCHEMA ${q} TO DATABASE ROLE ${role(analyst)}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${q} TO DATABASE ROLE ${role(analyst)}`,
      `GRANT SELECT ON FUTURE TABLES IN SCHEMA ${q} TO DATABASE ROLE ${role(analyst)}`,
      `GRANT SELECT ON ALL VIEWS IN SCHEMA ${q} TO DATABASE ROLE ${role(analyst)}`,
      `GRANT SELECT ON FUTURE VIEWS IN SCHEMA ${q} TO DATABASE ROLE ${role(analyst)}`,
      `GRANT CREATE TABLE, CREATE VIEW ON SCHEMA ${q} TO DATABASE ROLE ${role(engineer)}`,
    );
  }
  for (const sch of [...SCHEMAS, STAGING_SCHEMA, OPS_SCHEMA]) {
    const q = `${db}.${id(sch)}`;
    out.push(
      `GRANT USAGE ON SCHEMA ${q} TO DATABASE ROLE ${role(loader)}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ${q} TO DATABASE ROLE ${role(loader)}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON FUTURE TABLES IN SCHEMA ${q} TO DATABASE ROLE ${role(loader)}`,
    );
  }
  for (const sch of [STAGING_SCHEMA, OPS_SCHEMA]) {
    const q = `${db}.${id(sch)}`;
    out.push(`GRANT USAGE ON SCHEMA ${q} TO DATABASE ROLE ${role(engineer)}`, `GRANT SELECT ON ALL TABLES IN SCHEMA ${q} TO DATABASE ROLE ${role(engineer)}`);
  }
  out.push(
    `GRANT USAGE ON STAGE ${db}.${id(OPS_SCHEMA)}.${id(s.stage)} TO DATABASE ROLE ${role(loader)}`,
    `GRANT DATABASE ROLE ${role(analyst)} TO ROLE ${id(s.accountRoles.analyst)}`,
    `GRANT DATABASE ROLE ${role(engineer)} TO ROLE ${id(s.accountRoles.engineer)}`,
    `GRANT DATABASE ROLE ${role(loader)} TO ROLE ${id(s.accountRoles.loader)}`,
  );
  return out;
}

/** Statements as a .sql file: each ends with ';', blank line between. */
export function toSqlFile(header: string, statements: readonly string[]): string {
  return `-- ${header}\n-- Generated by \`c360 snowflake ddl --write\` from src/warehouse; do not edit by hand.\n\n${statements.map((x) => `${x};`).join('\n\n')}\n`;
}
