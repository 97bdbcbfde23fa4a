// Snowflake SQL tested as text: the golden files under snowflake/ must equal what the model renders now (regenerate
// with `c360 snowflake ddl --write`), and the rendering keeps its promises: explicit identifier casing, comments on
// every table and column, masking on every PII column, COPY with FORCE from the stage, MERGE keyed by the primary key
// and filtered by load id. The same plan's DuckDB rendering runs for real in warehouse-load.test.ts.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleGoldenFiles, SNOWFLAKE_DIR } from '../src/cli/commands/snowflake.ts';
import { renderGoldenFiles } from '../src/warehouse/snowflake/golden-files.ts';
import { snowflakeLoadPlan } from '../src/warehouse/snowflake/load-plan.ts';
import { DEFAULT_SETUP, piiColumns, renderMasking, renderRolesAndGrants, renderTables } from '../src/warehouse/snowflake/setup.ts';
import { snowflakeConfigFromEnv } from '../src/warehouse/snowflake/config.ts';
import { snowflakeIdent, snowflakeDialect } from '../src/warehouse/dialects/snowflake.ts';
import { duckdbDialect } from '../src/warehouse/dialects/duckdb.ts';
import { renderTableLoad } from '../src/warehouse/load-plan.ts';
import { WAREHOUSE_TABLES, WAREHOUSE_VIEWS, getTable } from '../src/warehouse/model.ts';

describe('Snowflake golden files', () => {
  it('are up to date with the model (run `c360 snowflake ddl --write` after changing it)', async () => {
    expect(await staleGoldenFiles()).toEqual([]);
  });

  it('cover database, tables, masking, stage, grants and the load plan', async () => {
    const files = Object.keys(renderGoldenFiles()).sort();
    expect(files).toEqual(['ddl/00-database.sql', 'ddl/01-tables.sql', 'ddl/02-masking-policies.sql', 'ddl/03-stage.sql', 'ddl/04-roles-and-grants.sql', 'load/load-plan.sql']);
    const onDisk = (await readdir(join(SNOWFLAKE_DIR, 'ddl'))).sort();
    expect(onDisk).toEqual(files.filter((f) => f.startsWith('ddl/')).map((f) => f.slice(4)));
  });

  it('a changed model changes the golden text (the check can fail)', () => {
    const t = getTable('CUSTOMER_360', 'DIM_CUSTOMER');
    const changed = renderTables(DEFAULT_SETUP, [{ ...t, comment: 'changed' }]).join('\n');
    expect(changed).toContain("COMMENT = 'changed'");
    expect(renderGoldenFiles()['ddl/01-tables.sql']).not.toContain("COMMENT = 'changed'");
  });
});

describe('Snowflake DDL', () => {
  const ddl = renderTables(DEFAULT_SETUP).join(';\n');

  it('upper-case names stay unquoted, anything else is quoted, reserved words are quoted', () => {
    expect(snowflakeIdent('DIM_CUSTOMER')).toBe('DIM_CUSTOMER');
    expect(snowflakeIdent('_LOAD_ID')).toBe('_LOAD_ID');
    expect(snowflakeIdent('dim_customer')).toBe('"dim_customer"');
    expect(snowflakeIdent('ORDER')).toBe('"ORDER"');
    expect(duckdbDialect.ident('DIM_CUSTOMER')).toBe('"DIM_CUSTOMER"');
    expect(ddl).not.toMatch(/"/);
  });

  it('every table has a comment, primary key and clustering; every column a comment', () => {
    for (const t of WAREHOUSE_TABLES) {
      const [stmt] = snowflakeDialect.createTable({ ...t, columns: t.columns });
      expect(stmt).toMatch(new RegExp(`^CREATE TABLE IF NOT EXISTS ${t.schema}\\.${t.name} \\(`));
      expect(stmt).toContain(`CONSTRAINT PK_${t.name} PRIMARY KEY (${t.primaryKey.join(', ')})`);
      expect(stmt).toContain(`CLUSTER BY (${t.clusterBy.join(', ')})`);
      const columnLines = stmt!.split('\n').filter((l) => /^ {2}[A-Z_]/.test(l) && !l.includes('CONSTRAINT'));
      expect(columnLines.length).toBe(t.columns.length);
      for (const l of columnLines) expect(l).toMatch(/ COMMENT '.+'/);
    }
  });

  it('maps logical types per dialect', () => {
    const money = { kind: 'decimal', precision: 18, scale: 2 } as const;
    expect([snowflakeDialect.type(money), duckdbDialect.type(money)]).toEqual(['NUMBER(18,2)', 'DECIMAL(18,2)']);
    expect([snowflakeDialect.type({ kind: 'timestamp' }), duckdbDialect.type({ kind: 'timestamp' })]).toEqual(['TIMESTAMP_NTZ', 'TIMESTAMP']);
    expect([snowflakeDialect.type({ kind: 'double' }), duckdbDialect.type({ kind: 'double' })]).toEqual(['FLOAT', 'DOUBLE']);
  });

  it('masks every PII column of the model with the policy of its class', () => {
    const masking = renderMasking(DEFAULT_SETUP).join('\n');
    const pii = piiColumns();
    expect(pii.map((p) => p.column)).toEqual(expect.arrayContaining(['FIRST_NAME', 'LAST_NAME', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'DATE_OF_BIRTH', 'ADDRESS_LINE_1', 'CITY', 'AGE_RANGE']));
    for (const p of pii) expect(masking).toContain(`ALTER TABLE ${p.table.schema}.${p.table.name} MODIFY COLUMN ${p.column} SET MASKING POLICY OPS.`);
    expect(masking).toContain("ALTER TABLE CUSTOMER_360.DIM_CUSTOMER MODIFY COLUMN EMAIL_ADDRESS SET MASKING POLICY OPS.PII_EMAIL_MASK FORCE");
    expect(masking).toMatch(/PII_BIRTH_DATE_MASK AS \(VAL DATE\) RETURNS DATE/);
    expect(masking).not.toMatch(/MODIFY COLUMN (TOTAL_REVENUE|CUSTOMER360_ID) /);
  });

  it('the CUSTOMER_360 view reads only masked tables\' columns (so analysts see it masked), every column commented, after the tables', () => {
    const stmts = renderTables(DEFAULT_SETUP);
    const i = stmts.findIndex((x) => x.startsWith('CREATE OR REPLACE VIEW CUSTOMER_360.CUSTOMER_360 ('));
    expect(i).toBeGreaterThan(stmts.findIndex((x) => x.startsWith('CREATE TABLE IF NOT EXISTS CUSTOMER_360.CUSTOMER_SEGMENTS ')));
    const view = WAREHOUSE_VIEWS.find((v) => v.name === 'CUSTOMER_360')!;
    const lines = stmts[i]!.split('\n').filter((l) => / COMMENT '/.test(l) && /^ {2}[A-Z]/.test(l));
    expect(lines.map((l) => l.trim().split(' ')[0])).toEqual(view.columns.map((c) => c.name));
    expect(stmts[i]).toMatch(/\nCOPY GRANTS\nCOMMENT = '.+'\nAS\nSELECT b\.CUSTOMER360_ID, /);
    expect(stmts[i]).toContain('FROM CUSTOMER_360.DIM_CUSTOMER AS b\nLEFT JOIN CUSTOMER_360.CUSTOMER_RISK_SCORES AS j0\n  ON j0.CUSTOMER360_ID = b.CUSTOMER360_ID AND j0.AS_OF_DATE = b.AS_OF_DATE');
    // PII columns of the view are the masked columns of DIM_CUSTOMER, read through it (Snowflake applies the policy)
    expect(view.columns.filter((c) => c.pii).map((c) => c.name)).toEqual(piiColumns().filter((p) => p.table.name === 'DIM_CUSTOMER').map((p) => p.column));
    expect(renderRolesAndGrants(DEFAULT_SETUP)).toContain('GRANT SELECT ON FUTURE VIEWS IN SCHEMA CUSTOMER360.CUSTOMER_360 TO DATABASE ROLE CUSTOMER360.ANALYST');
  });
});

describe('Snowflake load plan', () => {
  const plan = snowflakeLoadPlan(DEFAULT_SETUP, { loadId: 'RUN-42', asOf: '2026-03-31' });
  const sqlOf = (label: string) => plan.find((p) => p.label === label)!.sql;

  it('stages only changed rows: the snapshot read in place from the stage, minus what the target already holds', () => {
    const changes = sqlOf('CUSTOMER_360.DIM_CUSTOMER:stage-changes');
    expect(changes).toMatch(/^INSERT INTO STAGING\.CUSTOMER_360__DIM_CUSTOMER \(CUSTOMER360_ID, FIRST_NAME,.*, _LOAD_ID, _AS_OF_DATE, _CHANGE\)/);
    expect(changes).toContain("FROM @OPS.GOLD_STAGE/customer_profile/as_of_date=2026-03-31/ (PATTERN => '.*[.]parquet')) AS n EXCEPT SELECT CUSTOMER360_ID, FIRST_NAME,");
    expect(changes).toContain('$1:"TOTAL_REVENUE"::NUMBER(18,2) AS TOTAL_REVENUE');
    expect(changes).toContain("'RUN-42', '2026-03-31'::DATE, 'UPSERT'");
    expect(sqlOf('CUSTOMER_360.DIM_CUSTOMER:stage-deletes')).toMatch(/SELECT CUSTOMER360_ID FROM CUSTOMER_360\.DIM_CUSTOMER EXCEPT SELECT CUSTOMER360_ID FROM \(SELECT /);
    expect(plan.some((p) => p.label.endsWith(':copy'))).toBe(false);
  });

  it('merges the staged changes by primary key, only this load id', () => {
    const merge = sqlOf('CUSTOMER_360.CUSTOMER_IDENTITY_MAP:merge');
    expect(merge).toBe(`MERGE INTO CUSTOMER_360.CUSTOMER_IDENTITY_MAP AS t
USING (SELECT * FROM STAGING.CUSTOMER_360__CUSTOMER_IDENTITY_MAP AS s WHERE s._LOAD_ID = 'RUN-42' AND s._CHANGE = 'UPSERT') AS s
ON t.SOURCE_SYSTEM = s.SOURCE_SYSTEM AND t.CUSTOMER_ID = s.CUSTOMER_ID
WHEN MATCHED THEN UPDATE SET CUSTOMER360_ID = s.CUSTOMER360_ID, AS_OF_DATE = s.AS_OF_DATE, _LOAD_ID = s._LOAD_ID, _AS_OF_DATE = s._AS_OF_DATE
WHEN NOT MATCHED THEN INSERT (SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID, AS_OF_DATE, _LOAD_ID, _AS_OF_DATE)
  VALUES (s.SOURCE_SYSTEM, s.CUSTOMER_ID, s.CUSTOMER360_ID, s.AS_OF_DATE, s._LOAD_ID, s._AS_OF_DATE)`);
    expect(sqlOf('CUSTOMER_360.DIM_CUSTOMER:delete-missing')).toContain("s._CHANGE = 'DELETE' AND s.CUSTOMER360_ID = CUSTOMER_360.DIM_CUSTOMER.CUSTOMER360_ID");
  });

  it('reconciles per strategy: partition tables within the as-of date, append only new keys, facts by partition replace', () => {
    expect(sqlOf('CUSTOMER_360.DIM_CUSTOMER:stage-deletes')).not.toContain('AS_OF_DATE =');
    expect(sqlOf('CUSTOMER_360.CUSTOMER_RISK_SCORES:stage-deletes')).toContain("FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE AS_OF_DATE = '2026-03-31'::DATE EXCEPT");
    expect(sqlOf('CUSTOMER_360.CUSTOMER_RISK_SCORES:stage-changes')).toContain("FROM CUSTOMER_360.CUSTOMER_RISK_SCORES WHERE AS_OF_DATE = '2026-03-31'::DATE\n) AS c");
    expect(plan.some((p) => p.label === 'CUSTOMER_360.MODEL_REGISTRY:stage-deletes' || p.label === 'CUSTOMER_360.MODEL_REGISTRY:delete-missing')).toBe(false);
    expect(sqlOf('CUSTOMER_360.MODEL_REGISTRY:merge')).not.toContain('WHEN MATCHED');
    expect(sqlOf('CUSTOMER_360.MODEL_REGISTRY:stage-changes')).toContain('WHERE NOT EXISTS (SELECT 1 FROM CUSTOMER_360.MODEL_REGISTRY AS t WHERE t.MODEL_NAME = n.MODEL_NAME AND t.MODEL_VERSION = n.MODEL_VERSION)');
    const facts = WAREHOUSE_TABLES.filter((t) => t.partitionBy).map((t) => t.name);
    expect(facts).toEqual(expect.arrayContaining(['FACT_TRANSACTIONS', 'FACT_TRANSACTION_ITEMS', 'FACT_BEHAVIORAL_EVENTS']));
    const steps = plan.filter((p) => p.label.startsWith('CUSTOMER_BEHAVIOR.FACT_BEHAVIORAL_EVENTS:')).map((p) => p.label.split(':')[1]);
    expect(steps).toEqual(['clear-staging', 'stage-partitions', 'stage-changes', 'replace-partitions', 'insert', 'audit', 'clean-staging']);
    expect(sqlOf('CUSTOMER_BEHAVIOR.FACT_BEHAVIORAL_EVENTS:replace-partitions')).toBe(`DELETE FROM CUSTOMER_BEHAVIOR.FACT_BEHAVIORAL_EVENTS
WHERE EXISTS (SELECT 1 FROM STAGING.CUSTOMER_BEHAVIOR__FACT_BEHAVIORAL_EVENTS AS s WHERE s._LOAD_ID = 'RUN-42' AND s._CHANGE = 'PARTITION' AND s.DATE_KEY IS NOT DISTINCT FROM CUSTOMER_BEHAVIOR.FACT_BEHAVIORAL_EVENTS.DATE_KEY)`);
  });

  it('a batch log reads only the batches written since the last load: their files named in the PATTERN; none, nothing staged', () => {
    const t = getTable('CUSTOMER_360', 'PROFILE_CHANGES');
    const o = { loadId: 'RUN-42', asOf: '2026-03-31', source: { stagePath: '@OPS.GOLD_STAGE/profile_changes/as_of_date=2026-03-31/' }, mark: { lineage: 'batches', seq: 7, asOf: '2026-03-31' } };
    const some = renderTableLoad(snowflakeDialect, t, { ...o, files: ['batch-00000006.parquet', 'batch-00000007.parquet'] });
    expect(some.find((s) => s.step === 'stage-changes')!.sql).toContain("FROM @OPS.GOLD_STAGE/profile_changes/as_of_date=2026-03-31/ (PATTERN => '.*/(batch-00000006[.]parquet|batch-00000007[.]parquet)')");
    expect(some.find((s) => s.step === 'mark')!.sql).toContain("'batches' AS SOURCE_LINEAGE,\n    7 AS SOURCE_SEQ");
    expect(renderTableLoad(snowflakeDialect, t, { ...o, files: [] }).map((s) => s.step)).toEqual(['clear-staging', 'audit', 'mark', 'clean-staging']);
    // a full refresh reads every file whatever it is given
    expect(renderTableLoad(snowflakeDialect, t, { ...o, files: [], fullRefresh: true }).find((s) => s.step === 'stage-changes')!.sql).toContain("(PATTERN => '.*[.]parquet')");
  });

  it('runs the same logical steps in the same order for every table and both dialects', () => {
    for (const t of WAREHOUSE_TABLES) {
      const sf = renderTableLoad(snowflakeDialect, t, { loadId: 'L', asOf: '2026-03-31', source: { stagePath: '@S/x/' } }).map((s) => s.step);
      const dk = renderTableLoad(duckdbDialect, t, { loadId: 'L', asOf: '2026-03-31', source: { files: ['/x.parquet'] } }).map((s) => s.step);
      expect(dk).toEqual(sf);
      expect(sf[0]).toBe('clear-staging');
      expect(sf.at(-1)).toBe('clean-staging');
    }
  });

  it('applies every table in one transaction: all staging before BEGIN, all merges, deletes and audits inside, no DDL inside', () => {
    const labels = plan.map((p) => p.label);
    const begin = labels.indexOf('load:begin');
    const commit = labels.indexOf('load:commit');
    expect([labels.filter((l) => l === 'load:begin').length, labels.filter((l) => l === 'load:commit').length]).toEqual([1, 1]);
    expect(plan[begin]!.sql).toBe('BEGIN TRANSACTION');
    const where = (...steps: string[]) => labels.flatMap((l, i) => (!l.startsWith('load:') && steps.includes(l.split(':')[1]!) ? [i] : []));
    for (const i of where('clear-staging', 'stage-partitions', 'stage-changes', 'stage-deletes')) expect(i).toBeLessThan(begin);
    for (const i of where('merge', 'delete-missing', 'replace-partitions', 'insert', 'audit')) expect(i > begin && i < commit).toBe(true);
    for (const i of where('clean-staging')) expect(i).toBeGreaterThan(commit);
    expect(where('audit').length).toBe(WAREHOUSE_TABLES.length);
    // Snowflake commits an open transaction on any DDL: none may run between BEGIN and COMMIT
    for (const p of plan.slice(begin + 1, commit)) expect(p.sql).toMatch(/^(MERGE|DELETE|INSERT|UPDATE) /);
  });

  it('skips datasets without a snapshot and rejects a bad date', () => {
    const only = snowflakeLoadPlan(DEFAULT_SETUP, { loadId: 'L', asOf: '2026-03-31', available: new Set(['customer_profile']) });
    expect(new Set(only.map((p) => p.label.split(':')[0]))).toEqual(new Set(['session', 'load', 'CUSTOMER_360.DIM_CUSTOMER']));
    expect(() => snowflakeLoadPlan(DEFAULT_SETUP, { loadId: 'L', asOf: '31/03/2026' })).toThrow(/Invalid as-of date '31\/03\/2026'/);
  });

  it('escapes a load id with a quote', () => {
    const p = snowflakeLoadPlan(DEFAULT_SETUP, { loadId: "a'b", asOf: '2026-03-31', available: new Set(['dim_time']) });
    expect(p.find((x) => x.label.endsWith(':clear-staging'))!.sql).toContain("_LOAD_ID = 'a''b'");
  });
});

describe('Snowflake connection settings', () => {
  it('name every missing variable', () => {
    expect(() => snowflakeConfigFromEnv({})).toThrow(/SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PRIVATE_KEY \| SNOWFLAKE_PRIVATE_KEY_PATH/);
  });

  it('take the key from the environment, a file or Key Vault', () => {
    const base = { SNOWFLAKE_ACCOUNT: 'org-acct', SNOWFLAKE_USER: 'C360_LOADER' };
    expect(snowflakeConfigFromEnv({ ...base, SNOWFLAKE_PRIVATE_KEY: 'a\\nb' }).key).toEqual({ pem: 'a\nb' });
    expect(snowflakeConfigFromEnv({ ...base, SNOWFLAKE_PRIVATE_KEY_PATH: '/k.p8' }).key).toEqual({ path: '/k.p8' });
    const kv = snowflakeConfigFromEnv({ ...base, C360_KEY_VAULT_URL: 'https://kv.vault.azure.net', SNOWFLAKE_PRIVATE_KEY_SECRET: 'sf-key' });
    expect(kv.key).toEqual({ vaultUrl: 'https://kv.vault.azure.net', secretName: 'sf-key' });
    expect(kv.database).toBe('CUSTOMER360');
  });
});

describe('analyst queries are dialect-neutral', () => {
  it('use only model tables, unquoted upper-case names and portable syntax', async () => {
    const dir = join(SNOWFLAKE_DIR, 'queries');
    const known = new Set(WAREHOUSE_TABLES.map((t) => `${t.schema}.${t.name}`));
    for (const f of await readdir(dir)) {
      const sql = await readFile(join(dir, f), 'utf8');
      const refs = [...sql.matchAll(/\b(CUSTOMER_360|CUSTOMER_BEHAVIOR|RECOMMENDATIONS)\.([A-Z_0-9]+)/g)].map((m) => `${m[1]}.${m[2]}`);
      expect(refs.length, f).toBeGreaterThan(0);
      for (const r of refs) expect(known.has(r), `${f}: ${r}`).toBe(true);
      // DuckDB-only syntax that Snowflake rejects, or quoting that would change casing
      expect(sql, f).not.toMatch(/::|GROUP BY ALL|"|\bQUALIFY\b|\bEXCLUDE\b|read_parquet/i);
    }
  });
});
