// Each validation rule of the contract-derived SQL, on real DuckDB and real Parquet outputs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { csv, ingestText, outputsOf, reasonsBy, tempDir } from './bronze-helpers.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open();
});
afterAll(() => engine.close());

const CUST = ['CUSTOMER_ID', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'DATE_OF_BIRTH', 'STATE_CODE', 'LOYALTY_TIER', 'LOYALTY_POINTS'];

describe('REQUIRED', () => {
  it('flags a required field that is empty or only spaces, and accepts optional empties', async () => {
    const { quarantine, bronze } = await ingestText(engine, 'CUSTOMERS', 'CUSTOMERS.csv', csv(CUST, [
      ['C1', '', '', '', '', '', ''],
      ['', 'a@b.com', '', '', '', '', ''],
      ['"   "', 'c@d.com', '', '', '', '', ''],
    ]));
    expect(bronze.map((r) => r.CUSTOMER_ID)).toEqual(['C1']);
    expect(quarantine.map((r) => r._reasons)).toEqual([['CUSTOMER_ID:REQUIRED'], ['CUSTOMER_ID:REQUIRED']]);
    expect(quarantine.map((r) => r._source_position)).toEqual(['2', '3']);
  });

  it('reads an empty string as missing in NDJSON and Parquet drops too (only the CSV reader yields null itself)', async () => {
    const json = await ingestText(engine, 'CUSTOMERS', 'c.ndjson', [{ CUSTOMER_ID: 'C1', FIRST_NAME: '' }, { CUSTOMER_ID: '', FIRST_NAME: 'Ann' }].map((r) => JSON.stringify(r)).join('\n'));
    expect(json.bronze.map((r) => [r.CUSTOMER_ID, r.FIRST_NAME])).toEqual([['C1', null]]);
    expect(json.quarantine.map((r) => r._reasons)).toEqual([['CUSTOMER_ID:REQUIRED']]);
    const dir = await tempDir();
    const file = join(dir, 'CUSTOMERS.parquet');
    await engine.run(`COPY (SELECT * FROM (VALUES ('C1', ''), ('', 'Ann')) t(CUSTOMER_ID, FIRST_NAME)) TO ${lit(file)} (FORMAT parquet)`);
    const lake = new LocalLake(join(dir, 'lake'));
    const pq = await outputsOf(engine, lake, await ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file }, loadId: 'L', ingestDate: '2026-01-01' }));
    expect(pq.bronze.map((r) => [r.CUSTOMER_ID, r.FIRST_NAME])).toEqual([['C1', null]]);
    expect(pq.quarantine.map((r) => r._reasons)).toEqual([['CUSTOMER_ID:REQUIRED']]);
  });

  it('flags every row when a required column is missing from the file', async () => {
    const { quarantine, bronze, result } = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'tx.csv', csv(['TRANSACTION_ID', 'CUSTOMER_ID'], [['T1', 'C1'], ['T2', 'C2']]));
    expect(bronze).toHaveLength(0);
    expect(quarantine.map((r) => r._reasons)).toEqual([['TRANSACTION_DATE:REQUIRED'], ['TRANSACTION_DATE:REQUIRED']]);
    expect(result.missingColumns).toContain('TRANSACTION_DATE');
  });
});

describe('TYPE', () => {
  it('integer, decimal (incl. beyond precision), date (YYYY-MM-DD only), timestamp, boolean', async () => {
    const { quarantine: q1 } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(['CUSTOMER_ID', 'LOYALTY_POINTS', 'DATE_OF_BIRTH'], [
      ['int', 'lots', ''],
      ['date1', '', '2026-13-01'],
      ['date2', '', '2026/01/05'],
      ['date3', '', '5-1-2026'],
      ['ok', '12', '1990-02-03'],
    ]));
    expect(reasonsBy(q1, 'CUSTOMER_ID')).toEqual({
      int: ['LOYALTY_POINTS:TYPE'],
      date1: ['DATE_OF_BIRTH:TYPE'],
      date2: ['DATE_OF_BIRTH:TYPE'],
      date3: ['DATE_OF_BIRTH:TYPE'],
    });
    const { quarantine: q2 } = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 't.csv', csv(['TRANSACTION_ID', 'CUSTOMER_ID', 'TRANSACTION_DATE', 'TOTAL_AMOUNT'], [
      ['dec', 'C', '2026-01-01', '1.2.3'],
      ['precision', 'C', '2026-01-01', '123456789.50'],
      ['ts', 'C', 'yesterday', '1'],
      ['ok', 'C', '2026-01-01 10:00:00', '12345678.99'],
    ]));
    expect(reasonsBy(q2, 'TRANSACTION_ID')).toEqual({ dec: ['TOTAL_AMOUNT:TYPE'], precision: ['TOTAL_AMOUNT:TYPE'], ts: ['TRANSACTION_DATE:TYPE'] });
    const { quarantine: q3, bronze: b3 } = await ingestText(engine, 'CUSTOMER_SESSION_DATA', 's.csv', csv(['SESSION_ID', 'SESSION_START', 'CONVERSION_EVENT'], [
      ['bool', '2026-01-01', 'maybe'],
      ['ok', '2026-01-01', 'true'],
    ]));
    expect(reasonsBy(q3, 'SESSION_ID')).toEqual({ bool: ['CONVERSION_EVENT:TYPE'] });
    expect(b3[0]!.CONVERSION_EVENT).toBe(true);
  });

  it('a failed TYPE is not also a RANGE problem', async () => {
    const { quarantine } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(['CUSTOMER_ID', 'LOYALTY_POINTS'], [['x', '-abc']]));
    expect(quarantine[0]!._reasons).toEqual(['LOYALTY_POINTS:TYPE']);
  });
});

describe('TOO_LONG', () => {
  it('counts characters, not bytes', async () => {
    const { quarantine, bronze } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(['CUSTOMER_ID', 'FIRST_NAME'], [
      ['C'.repeat(101), ''],
      ['C2', 'é'.repeat(50)],
      ['C3', 'é'.repeat(51)],
    ]));
    expect(bronze.map((r) => r.CUSTOMER_ID)).toEqual(['C2']);
    expect(reasonsBy(quarantine, 'CUSTOMER_ID')).toEqual({ ['C'.repeat(101)]: ['CUSTOMER_ID:TOO_LONG'], C3: ['FIRST_NAME:TOO_LONG'] });
  });
});

describe('ENUM', () => {
  it('is case-insensitive after trimming and stores the upper-case value', async () => {
    const { quarantine, bronze } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(['CUSTOMER_ID', 'LOYALTY_TIER'], [
      ['C1', '" gold "'],
      ['C2', 'Platinum'],
      ['C3', 'GOLDEN'],
    ]));
    expect(bronze.map((r) => r.LOYALTY_TIER)).toEqual(['GOLD', 'PLATINUM']);
    expect(reasonsBy(quarantine, 'CUSTOMER_ID')).toEqual({ C3: ['LOYALTY_TIER:ENUM'] });
  });
});

describe('RANGE', () => {
  it('checks min and max on integers and decimals', async () => {
    const { quarantine } = await ingestText(engine, 'CUSTOMER_SESSION_DATA', 's.csv', csv(['SESSION_ID', 'SESSION_START', 'BOUNCE_RATE', 'PAGE_VIEWS'], [
      ['hi', '2026-01-01', '1.5', '1'],
      ['lo', '2026-01-01', '-0.01', '1'],
      ['neg', '2026-01-01', '0.5', '-1'],
      ['edge', '2026-01-01', '1.00', '0'],
    ]));
    expect(reasonsBy(quarantine, 'SESSION_ID')).toEqual({ hi: ['BOUNCE_RATE:RANGE'], lo: ['BOUNCE_RATE:RANGE'], neg: ['PAGE_VIEWS:RANGE'] });
  });
});

describe('FORMAT', () => {
  it('email, phone and state code patterns', async () => {
    const { quarantine, bronze } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(CUST, [
      ['ok', 'Jane.Doe+x@mail.example.com', '+1 (555) 123-4567', '', 'CA', '', ''],
      ['email', 'jane@', '', '', '', '', ''],
      ['phone', '', 'call me', '', '', '', ''],
      ['state', '', '', '', 'ca', '', ''],
    ]));
    expect(bronze.map((r) => r.CUSTOMER_ID)).toEqual(['ok']);
    expect(reasonsBy(quarantine, 'CUSTOMER_ID')).toEqual({ email: ['EMAIL_ADDRESS:FORMAT'], phone: ['PHONE_NUMBER:FORMAT'], state: ['STATE_CODE:FORMAT'] });
  });

  it('json_array must parse as a JSON array', async () => {
    const rows = [
      { PROFILE_ID: 'ok', CUSTOMER_ID: 'C', PROFILE_DATE: '2026-01-01', INTERESTS: '["golf","wine"]' },
      { PROFILE_ID: 'obj', CUSTOMER_ID: 'C', PROFILE_DATE: '2026-01-01', INTERESTS: '{"a":1}' },
      { PROFILE_ID: 'broken', CUSTOMER_ID: 'C', PROFILE_DATE: '2026-01-01', INTERESTS: '["golf"' },
    ];
    const { quarantine, bronze } = await ingestText(engine, 'EXTERNAL_CUSTOMER_PROFILES', 'p.ndjson', rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(bronze.map((r) => r.INTERESTS)).toEqual(['["golf","wine"]']);
    expect(reasonsBy(quarantine, 'PROFILE_ID')).toEqual({ obj: ['INTERESTS:FORMAT'], broken: ['INTERESTS:FORMAT'] });
  });
});

describe('records', () => {
  it('collects all problems of a record, not just the first', async () => {
    const { quarantine } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(CUST, [['', 'nope', '12', '1990-1-1', 'XYZ', 'wood', '-5']]));
    expect([...(quarantine[0]!._reasons as string[])].sort()).toEqual([
      'CUSTOMER_ID:REQUIRED', 'DATE_OF_BIRTH:TYPE', 'EMAIL_ADDRESS:FORMAT', 'LOYALTY_POINTS:RANGE', 'LOYALTY_TIER:ENUM',
      'PHONE_NUMBER:FORMAT', 'STATE_CODE:FORMAT', 'STATE_CODE:TOO_LONG',
    ]);
  });

  it('trims values and reads empty strings as null in Bronze; quarantine keeps the record as received', async () => {
    const { bronze, quarantine } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(['CUSTOMER_ID', 'FIRST_NAME', 'LAST_NAME', 'LOYALTY_POINTS'], [
      ['"  C1 "', '" Ann"', '""', '" 7 "'],
      ['"  C2 "', '" Bob"', '', '" x "'],
    ]));
    expect(bronze).toHaveLength(1);
    expect(bronze[0]).toMatchObject({ CUSTOMER_ID: 'C1', FIRST_NAME: 'Ann', LAST_NAME: null, LOYALTY_POINTS: 7 });
    expect(quarantine[0]).toMatchObject({ CUSTOMER_ID: '  C2 ', FIRST_NAME: ' Bob', LOYALTY_POINTS: ' x ', _reasons: ['LOYALTY_POINTS:TYPE'] });
  });

  it('converts ISO 8601 timestamps with T, Z or an offset to UTC', async () => {
    const { bronze } = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 't.csv', csv(['TRANSACTION_ID', 'CUSTOMER_ID', 'TRANSACTION_DATE'], [
      ['a', 'C', '2026-01-05T10:00:00+02:00'],
      ['b', 'C', '2026-01-05T10:00:00Z'],
      ['c', 'C', '2026-01-05 10:00:00'],
      ['d', 'C', '2026-01-05T10:00:00.250-05:30'],
    ]));
    expect(Object.fromEntries(bronze.map((r) => [r.TRANSACTION_ID, r.TRANSACTION_DATE]))).toEqual({
      a: '2026-01-05 08:00:00', b: '2026-01-05 10:00:00', c: '2026-01-05 10:00:00', d: '2026-01-05 15:30:00.25',
    });
  });

  it('a timestamp outside years 1..9999 or infinite is a TYPE problem, never a crash', async () => {
    // '294247-01-10 04:00:54.775806' makes DuckDB's TIMESTAMPTZ TRY_CAST throw instead of yield null.
    const { quarantine, bronze } = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 't.csv', csv(['TRANSACTION_ID', 'CUSTOMER_ID', 'TRANSACTION_DATE'], [
      ['inf', 'C', 'infinity'],
      ['max', 'C', '294247-01-10 04:00:54.775806'],
      ['y10k', 'C', '10000-01-01'],
      ['bc', 'C', '0005-01-01 (BC)'],
      ['last', 'C', '9999-12-31 23:59:59'],
      ['first', 'C', '0001-01-01 00:00:00+00'],
    ]));
    expect(reasonsBy(quarantine, 'TRANSACTION_ID')).toEqual({ inf: ['TRANSACTION_DATE:TYPE'], max: ['TRANSACTION_DATE:TYPE'], y10k: ['TRANSACTION_DATE:TYPE'], bc: ['TRANSACTION_DATE:TYPE'] });
    expect(Object.fromEntries(bronze.map((r) => [r.TRANSACTION_ID, r.TRANSACTION_DATE]))).toEqual({ last: '9999-12-31 23:59:59', first: '0001-01-01 00:00:00' });
  });

  it('types Bronze columns from the contract and stamps metadata', async () => {
    const { bronze, result, lake } = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 't.csv', csv(['TRANSACTION_ID', 'CUSTOMER_ID', 'TRANSACTION_DATE', 'TOTAL_AMOUNT', 'CHANNEL'], [['T', 'C', '2026-01-05', '12.5', 'pos']]), { loadId: 'LOAD-9' });
    const path = result.outputs.find((o) => o.startsWith('bronze/'))!;
    expect(path).toMatch(/^bronze\/customer360\/transactions\/ingest_date=2026-01-01\/LOAD-9-[0-9a-f]{12}\.parquet$/);
    const types = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${lit(await lake.localPath(path))}, hive_partitioning = false)`);
    const typeOf = Object.fromEntries(types.map((t) => [t.column_name, t.column_type]));
    expect(typeOf).toMatchObject({
      TRANSACTION_ID: 'VARCHAR', TRANSACTION_DATE: 'TIMESTAMP', TOTAL_AMOUNT: 'DECIMAL(10,2)', LOYALTY_POINTS_EARNED: 'INTEGER', CHANNEL: 'VARCHAR',
      _load_id: 'VARCHAR', _ingested_at: 'TIMESTAMP', _source_system: 'VARCHAR', _source_file: 'VARCHAR', _record_hash: 'VARCHAR', _schema_version: 'INTEGER',
    });
    expect(types.slice(-6).map((t) => t.column_name)).toEqual(['_load_id', '_ingested_at', '_source_system', '_source_file', '_record_hash', '_schema_version']);
    expect(bronze[0]).toMatchObject({ TOTAL_AMOUNT: '12.50', CHANNEL: 'POS', _load_id: 'LOAD-9', _source_system: 'Multi_Channel', _schema_version: 1 });
    expect(bronze[0]!._record_hash).toMatch(/^[0-9a-f]{32}$/);
    // Enum values and constant metadata are staged as DuckDB ENUMs; other readers must still see plain UTF-8 text.
    const physical = await engine.all<{ name: string; type: string; converted_type: string | null }>(
      `SELECT name, type, converted_type FROM parquet_schema(${lit(await lake.localPath(path))}) WHERE name IN ('CHANNEL', '_load_id', '_source_system', '_source_file') ORDER BY name`,
    );
    expect(physical).toEqual(['CHANNEL', '_load_id', '_source_file', '_source_system'].map((name) => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8' })));
  });

  it('keeps quarantine positions in file order on a multi-chunk file (enum checks must not reorder rows)', async () => {
    const dir = await tempDir();
    const file = join(dir, 'CUSTOMER_TRANSACTIONS.csv');
    // Row i is 'T<i>'; every 997th row has a bad channel, every 1009th a bad date.
    await engine.run(`COPY (SELECT 'T' || i AS TRANSACTION_ID, 'C' || (i % 50) AS CUSTOMER_ID,
        CASE WHEN i % 997 = 0 THEN 'FAX' ELSE (['pos', 'MOBILE', 'Social', 'ECOMMERCE'])[1 + i % 4] END AS CHANNEL,
        CASE WHEN i % 1009 = 0 THEN 'soon' ELSE '2026-01-01T00:00:00Z' END AS TRANSACTION_DATE,
        (['PURCHASE', 'RETURN', 'REFUND', 'EXCHANGE'])[1 + i % 4] AS TRANSACTION_TYPE, 'VISA' AS CARD_TYPE, 'CARD' AS PAYMENT_METHOD
      FROM range(1, 130001) t(i)) TO ${lit(file)} (FORMAT csv, HEADER true)`);
    const lake = new LocalLake(join(dir, 'lake'));
    const result = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file }, loadId: 'L', ingestDate: '2026-01-01' });
    const { quarantine } = await outputsOf(engine, lake, result);
    expect(quarantine).toHaveLength(130 + 128);
    for (const q of quarantine) expect(q.TRANSACTION_ID).toBe(`T${q._source_position}`);

    // The same rows as Parquet in many row groups, with the bad rows repeated at the end: positions come from the
    // reader's row numbers and a duplicate's first copy is the one kept.
    const pq = join(dir, 'CUSTOMER_TRANSACTIONS.parquet');
    await engine.run(`COPY (SELECT * EXCLUDE (part, n) FROM (
        SELECT *, 0 AS part, CAST(substr(TRANSACTION_ID, 2) AS INTEGER) AS n FROM read_csv(${lit(file)}, all_varchar = true)
        UNION ALL BY NAME
        SELECT *, 1 AS part, CAST(substr(TRANSACTION_ID, 2) AS INTEGER) AS n FROM read_csv(${lit(file)}, all_varchar = true) WHERE CHANNEL = 'FAX'
      ) ORDER BY part, n)
      TO ${lit(pq)} (FORMAT parquet, ROW_GROUP_SIZE 8192)`);
    const lake2 = new LocalLake(join(dir, 'lake2'));
    const r2 = await ingestRelation(engine, lake2, { table: 'CUSTOMER_TRANSACTIONS', source: { file: pq }, loadId: 'L', ingestDate: '2026-01-01' });
    expect(r2).toMatchObject({ inputRows: 130000 + 130, distinctRows: 130000, quarantineRows: 258 });
    const q2 = (await outputsOf(engine, lake2, r2)).quarantine;
    expect(q2.map((q) => q.TRANSACTION_ID)).toEqual(quarantine.map((q) => q.TRANSACTION_ID));
    for (const q of q2) expect(q.TRANSACTION_ID).toBe(`T${q._source_position}`);
  });
});

describe('formats', () => {
  it('NDJSON with nested values keeps them as JSON text', async () => {
    const lines = [
      { SENTIMENT_ID: 'S1', CUSTOMER_ID: 'C', SENTIMENT_DATE: '2026-01-01', KEYWORDS: ['fast', 'cheap'], SENTIMENT_SCORE: 0.5, meta: { src: 'x' } },
      { SENTIMENT_ID: 'S2', CUSTOMER_ID: 'C', SENTIMENT_DATE: '2026-01-01', KEYWORDS: { not: 'an array' } },
    ];
    const { bronze, quarantine } = await ingestText(engine, 'EXTERNAL_CUSTOMER_SENTIMENT', 's.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect(bronze).toHaveLength(1);
    expect(bronze[0]).toMatchObject({ KEYWORDS: '["fast","cheap"]', meta: '{"src":"x"}' });
    expect(quarantine[0]).toMatchObject({ SENTIMENT_ID: 'S2', KEYWORDS: '{"not":"an array"}', _reasons: ['KEYWORDS:FORMAT'] });
  });

  it('a Parquet column of the wrong type is quarantined, not a crash', async () => {
    const dir = await tempDir();
    const file = join(dir, 'CUSTOMERS.parquet');
    await engine.run(`COPY (SELECT * FROM (VALUES ('C1', '12', DATE '1990-01-02'), ('C2', 'lots', NULL)) t(CUSTOMER_ID, LOYALTY_POINTS, DATE_OF_BIRTH)) TO ${lit(file)} (FORMAT parquet)`);
    const lake = new LocalLake(join(dir, 'lake'));
    const result = await ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file }, loadId: 'L', ingestDate: '2026-01-01' });
    const { bronze, quarantine } = await outputsOf(engine, lake, result);
    expect(bronze).toMatchObject([{ CUSTOMER_ID: 'C1', LOYALTY_POINTS: 12, DATE_OF_BIRTH: '1990-01-02' }]);
    expect(quarantine).toMatchObject([{ CUSTOMER_ID: 'C2', LOYALTY_POINTS: 'lots', _reasons: ['LOYALTY_POINTS:TYPE'] }]);
  });

  it('preserves columns not in the contract and takes _source_system from SOURCE_SYSTEM', async () => {
    const { bronze } = await ingestText(engine, 'CUSTOMERS', 'c.csv', csv(['CUSTOMER_ID', 'SOURCE_SYSTEM', 'NOTES', '_load_id'], [['C1', 'CRM', 'vip', 'theirs'], ['C2', '', '', '']]), { sourceSystem: 'POS' });
    expect(bronze.map((r) => [r.CUSTOMER_ID, r.SOURCE_SYSTEM, r.NOTES, r._source_system, r._load_id_received, r._load_id])).toEqual([
      ['C1', 'CRM', 'vip', 'CRM', 'theirs', 'L1'],
      ['C2', null, null, 'POS', null, 'L1'],
    ]);
  });
});

describe('errors', () => {
  it('an unknown table lists the valid ones', async () => {
    await expect(ingestText(engine, 'NOPE', 'x.csv', 'A\n1\n')).rejects.toThrow(/Unknown table 'NOPE'. Valid tables: CUSTOMERS, MARKETING_CAMPAIGNS/);
  });

  it('an empty or header-only CSV drop is zero records, not an error', async () => {
    const dir = await tempDir();
    const lake = new LocalLake(join(dir, 'lake'));
    for (const [name, text] of [['empty.csv', ''], ['header.csv', 'TRANSACTION_ID,CUSTOMER_ID\n']]) {
      await writeFile(join(dir, name), text);
      const r = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file: join(dir, name) }, loadId: 'L', ingestDate: '2026-01-01' });
      expect([r.inputRows, r.bronzeRows, r.quarantineRows, r.outputs]).toEqual([0, 0, 0, []]);
    }
  });

  it('an unreadable file names the path and why', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'CUSTOMERS.parquet'), 'this is not parquet');
    const lake = new LocalLake(join(dir, 'lake'));
    await expect(ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file: join(dir, 'CUSTOMERS.parquet') }, loadId: 'L', ingestDate: '2026-01-01' }))
      .rejects.toThrow(new RegExp(`Cannot read parquet drop '${join(dir, 'CUSTOMERS.parquet')}': .+`));
    await expect(ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file: join(dir, 'missing.csv') }, loadId: 'L', ingestDate: '2026-01-01' }))
      .rejects.toThrow(/Cannot read csv drop '.*missing\.csv': no such file/);
    await expect(ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file: join(dir, 'CUSTOMERS.xlsx') }, loadId: 'L', ingestDate: '2026-01-01' }))
      .rejects.toThrow(/Cannot tell the format of '.*CUSTOMERS\.xlsx'/);
  });
});
