// Artefacts derived from the contracts: DuckDB types and DDL, generated validation SQL (as text and executed for
// every table), the record hash's canonical order, and the generated table reference (stale docs fail here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine, ident } from '../src/engine/duckdb.ts';
import { ALL_CONTRACTS, FORMAT_PATTERNS, getContract } from '../schemas/index.ts';
import { bronzeTableDdl, duckdbType } from '../src/contracts/duckdb-types.ts';
import { bindColumns, columnChecks, recordHashSql, stageSql, valueSql } from '../src/contracts/validation-sql.ts';
import { renderTablesMarkdown } from '../src/contracts/docs.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open();
});
afterAll(() => engine.close());

const col = (table: string, name: string) => getContract(table).columns.find((c) => c.name === name)!;

describe('types', () => {
  it('maps every contract type to its DuckDB type', () => {
    expect(duckdbType({ kind: 'varchar', length: 20 })).toBe('VARCHAR');
    expect(duckdbType({ kind: 'text' })).toBe('VARCHAR');
    expect(duckdbType({ kind: 'integer' })).toBe('INTEGER');
    expect(duckdbType({ kind: 'decimal', precision: 10, scale: 2 })).toBe('DECIMAL(10,2)');
    expect(duckdbType({ kind: 'date' })).toBe('DATE');
    expect(duckdbType({ kind: 'timestamp' })).toBe('TIMESTAMP');
    expect(duckdbType({ kind: 'boolean' })).toBe('BOOLEAN');
  });

  it('Bronze DDL of every contract creates a table with its columns and the metadata columns', async () => {
    for (const c of ALL_CONTRACTS) {
      await engine.run(bronzeTableDdl(c, `ddl_${c.name}`));
      const cols = await engine.all<{ column_name: string }>(`DESCRIBE ${ident(`ddl_${c.name}`)}`);
      expect(cols.map((x) => x.column_name)).toEqual([...c.columns.map((x) => x.name), '_load_id', '_ingested_at', '_source_system', '_source_file', '_record_hash', '_schema_version']);
    }
  });
});

describe('validation SQL', () => {
  it('derives the checks of a column from its contract, in order', () => {
    const codes = (table: string, name: string) => columnChecks(col(table, name), 'v').map((c) => c.code);
    expect(codes('CUSTOMERS', 'CUSTOMER_ID')).toEqual(['REQUIRED', 'TOO_LONG']);
    expect(codes('CUSTOMERS', 'EMAIL_ADDRESS')).toEqual(['TOO_LONG', 'FORMAT']);
    expect(codes('CUSTOMERS', 'LOYALTY_TIER')).toEqual(['TOO_LONG', 'ENUM']);
    expect(codes('CUSTOMER_TRANSACTIONS', 'TRANSACTION_DATE')).toEqual(['REQUIRED', 'TYPE']);
    expect(codes('CUSTOMER_TRANSACTIONS', 'TOTAL_AMOUNT')).toEqual(['TYPE', 'RANGE']);
    expect(codes('EXTERNAL_CUSTOMER_PROFILES', 'INTERESTS')).toEqual(['TOO_LONG', 'FORMAT']);
    // A required column missing from the file is REQUIRED on every row and nothing else.
    expect(columnChecks(col('CUSTOMER_TRANSACTIONS', 'TRANSACTION_DATE'), 'v', false)).toEqual([{ code: 'REQUIRED', sql: 'true' }]);
    expect(valueSql('A"B')).toContain('"A""B"');
  });

  it('the staged validation query of every contract runs on DuckDB', async () => {
    for (const c of ALL_CONTRACTS) {
      const received = [...c.columns.map((x) => x.name), 'EXTRA'];
      const source = `SELECT ${received.map((r) => `CAST(NULL AS VARCHAR) AS ${ident(r)}`).join(', ')}`;
      const rows = await engine.all<{ __c360_reasons: string }>(stageSql(bindColumns(c, received), received, source));
      const required = c.columns.filter((x) => x.required).map((x) => `${x.name}:REQUIRED`);
      expect(rows[0]!.__c360_reasons.split(',').filter(Boolean)).toEqual(required);
    }
  });

  it('every format pattern compiles in DuckDB and separates good from bad values', async () => {
    const good: Record<string, string> = { email: 'a.b@c.io', phone: '+44 20 7946 0958', country_code: 'GB', state_code: 'CA', postal_code: 'SW1A 1AA', currency_code: 'EUR', url: 'https://x.io/a' };
    for (const [name, pattern] of Object.entries(FORMAT_PATTERNS)) {
      const ok = await engine.scalar(`SELECT regexp_full_match($1, $2)`, [good[name]!, pattern]);
      const bad = await engine.scalar(`SELECT regexp_full_match($1, $2)`, ['?', pattern]);
      expect([name, ok, bad]).toEqual([name, true, false]);
    }
  });
});

describe('record hash', () => {
  const hashOf = async (cols: Record<string, string | null>) => {
    const names = Object.keys(cols);
    const binding = bindColumns(getContract('CUSTOMERS'), names);
    const select = names.map((n) => `${cols[n] === null ? 'NULL' : `'${cols[n]}'`}::VARCHAR AS ${ident(n)}`).join(', ');
    return engine.scalar<string>(`SELECT ${recordHashSql(binding)} FROM (SELECT ${select})`);
  };

  it('is independent of column order and of empty extra columns, and sees every field', async () => {
    const a = await hashOf({ CUSTOMER_ID: 'C1', FIRST_NAME: 'Ann' });
    expect(await hashOf({ FIRST_NAME: 'Ann', CUSTOMER_ID: 'C1' })).toBe(a);
    expect(await hashOf({ CUSTOMER_ID: 'C1', FIRST_NAME: 'Ann', NOTES: '' })).toBe(a);
    expect(await hashOf({ CUSTOMER_ID: 'C1', FIRST_NAME: 'Ann', NOTES: 'x' })).not.toBe(a);
    expect(await hashOf({ CUSTOMER_ID: 'C1', FIRST_NAME: 'Ann ' })).not.toBe(a);
    expect(await hashOf({ CUSTOMER_ID: 'C1', LAST_NAME: 'Ann' })).not.toBe(a);
  });
});

describe('docs', () => {
  it('docs/tables.md is generated from the current contracts (run `c360 docs` when this fails)', async () => {
    const committed = await readFile(join(import.meta.dirname, '..', 'docs', 'tables.md'), 'utf8');
    expect(committed === renderTablesMarkdown()).toBe(true);
  });

  it('lists every table and column with type, rules and PII', () => {
    const md = renderTablesMarkdown();
    for (const c of ALL_CONTRACTS) {
      expect(md).toContain(`## ${c.name}`);
      for (const x of c.columns) expect(md).toContain(`| \`${x.name}\` |`);
    }
    expect(md).toContain("| `EMAIL_ADDRESS` | VARCHAR(100) | VARCHAR |  | format `email` | email |  | Email address. |");
    expect(md).toContain('one of `BRONZE`, `SILVER`, `GOLD`, `PLATINUM`');
  });
});
