// The Snowflake golden files under snowflake/: rendered from the model; `c360 snowflake ddl --write` writes them and
// test/snowflake-golden.test.ts fails when rendering would change them.
import { EXAMPLE_LOAD, snowflakeLoadPlan } from './load-plan.ts';
import { DEFAULT_SETUP, renderDatabase, renderMasking, renderRolesAndGrants, renderStage, renderTables, toSqlFile, type SnowflakeSetup } from './setup.ts';

export function renderGoldenFiles(s: SnowflakeSetup = DEFAULT_SETUP): Record<string, string> {
  const plan = snowflakeLoadPlan(s, EXAMPLE_LOAD);
  return {
    'ddl/00-database.sql': toSqlFile('Database and schemas', renderDatabase(s)),
    'ddl/01-tables.sql': toSqlFile('Target, staging and audit tables with comments, keys and clustering', renderTables(s)),
    'ddl/02-masking-policies.sql': toSqlFile('Masking policies on PII columns (by the contract PII class)', renderMasking(s)),
    'ddl/03-stage.sql': toSqlFile('Storage integration and external stage on the ADLS Gen2 lake (Gold layer)', renderStage(s)),
    'ddl/04-roles-and-grants.sql': toSqlFile('Database roles (ANALYST, ENGINEER, LOADER) and grants', renderRolesAndGrants(s)),
    'load/load-plan.sql': toSqlFile(
      `Load plan for load id ${EXAMPLE_LOAD.loadId}, as-of ${EXAMPLE_LOAD.asOf}, day-partitioned facts changed on that day only (c360 snowflake load renders it per run)`,
      plan.map((p) => `-- ${p.label}\n${p.sql}`),
    ),
  };
}

/** The order `c360 snowflake ddl` prints and applies the DDL files in. */
export const DDL_FILES = ['ddl/00-database.sql', 'ddl/01-tables.sql', 'ddl/02-masking-policies.sql', 'ddl/03-stage.sql', 'ddl/04-roles-and-grants.sql'];
