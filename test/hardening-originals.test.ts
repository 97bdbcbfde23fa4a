// Issue 19: quarantine kept the original text only of malformed records; a record that parsed but failed validation
// kept only its fields as the reader returned them (quotes, doubled quotes, "" vs empty, line breaks and spacing
// lost), and after a malformed CSV record every later position was one record short. Now every quarantined record
// carries `_source_record`: CSV the record's text as in the file (CRLF, quoted line breaks), NDJSON its line, Parquet
// its typed values as a JSON object, a stream event its body (line breaks and blanks too); CSV positions count the file's records.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { producerFor } from '../src/streaming/connect.ts';
import { runStream } from '../src/streaming/consumer.ts';
import { startHub } from '../src/streaming/hub/local-hub.ts';
import { withTempEngine } from './temp-engine.ts';

type Q = { CUSTOMER_ID: string | null; pos: string; rec: string | null; reasons: string[] };
let dir: string;
let engine: Engine;
let n = 0;

async function quarantine(file: string, table = 'CUSTOMERS'): Promise<Q[]> {
  const lake = new LocalLake(join(dir, `lake-${++n}`));
  const r = await ingestRelation(engine, lake, { table, source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
  expect(r.originals).toBe(true);
  const q = r.outputs.find((o) => o.startsWith('quarantine/'))!;
  const id = table === 'CUSTOMERS' ? 'CUSTOMER_ID' : 'EVENT_ID';
  return engine.all<Q>(`SELECT ${id} AS CUSTOMER_ID, _source_position AS pos, _source_record AS rec, _reasons AS reasons FROM read_parquet(${lit(await lake.localPath(q))})`);
}

const HEAD = 'CUSTOMER_ID,FIRST_NAME,LAST_NAME,EMAIL,PHONE,DATE_OF_BIRTH,GENDER,ADDRESS_LINE1,CITY,STATE,POSTAL_CODE,COUNTRY,REGISTRATION_DATE,SOURCE_SYSTEM,UPDATED_AT';
const tail = ',IL,62701,US,2024-01-01,CRM,2024-01-01T00:00:00';

withTempEngine('c360-orig-', (d, e) => ((dir = d), (engine = e)));

describe('byte-exact originals in quarantine', () => {
  it('CSV: the record as in the file (quotes, doubled quotes, "" and line breaks), and positions that count the file\'s records', async () => {
    const records = [
      `C1,Ann,Lee,a@x.com,555,1980-01-02,F,"1 Main\r\nSt",Springfield${tail}`, // valid, spans two lines
      `C2,Bob,Ray,b@x.com,555,1980-01-02,M,2 Main,Springfield${tail},EXTRA`, // malformed: one field too many
      `C3,  Cy ,"Ng",c@x.com,555,1980-13-02,M,"","Spring""field"${tail}`, // invalid date, odd spacing and quoting
      `C4,Di,"O""Neil",d@x.com,555,1980-01-02,F,"4 Main\r\nSt",Springfield,IL,62701,US,tomorrow,CRM,2024-01-01T00:00:00`, // invalid, two lines
    ];
    const file = join(dir, 'customers.csv');
    // CRLF endings, a blank line after the first record.
    await writeFile(file, [HEAD, records[0], '', ...records.slice(1)].join('\r\n') + '\r\n');
    const q = await quarantine(file);
    const byId = Object.fromEntries(q.map((r) => [r.CUSTOMER_ID ?? r.reasons.join(), r]));
    expect(byId.C3!.rec).toBe(records[2]);
    expect(byId.C4!.rec).toBe(records[3]);
    // Record numbers in the file (the malformed C2 is record 2): C3 is record 3, C4 record 4.
    expect([byId.C3!.pos, byId.C4!.pos]).toEqual(['3', '4']);
    const malformed = byId['_RECORD:MALFORMED']!;
    expect(malformed.rec).toBe(records[1]);
    expect(malformed.pos).toBe('line=5'); // header, two lines of C1, the blank line, then C2
  });

  it('CSV not in UTF-8 (Latin-1): the record is quarantined alone with its exact bytes; the others load', async () => {
    const file = join(dir, 'latin1.csv');
    const bad = Buffer.concat([Buffer.from('C2,Jos'), Buffer.from([0xe9]), Buffer.from(`,Lee,j@x.com,555,1980-01-02,M,2 Main,Springfield${tail}`)]);
    await writeFile(file, Buffer.concat([Buffer.from(`${HEAD}\nC1,Ann,Lee,a@x.com,555,1980-01-02,F,1 Main,Springfield${tail}\n`), bad, Buffer.from('\n')]));
    const lake = new LocalLake(join(dir, `lake-${++n}`));
    const r = await ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
    expect([r.bronzeRows, r.quarantineRows]).toEqual([1, 1]);
    const q = r.outputs.find((o) => o.startsWith('quarantine/'))!;
    const [row] = await engine.all<{ pos: string; hex: string; reasons: string[] }>(`SELECT _source_position AS pos, hex(_source_bytes) AS hex, _reasons AS reasons FROM read_parquet(${lit(await lake.localPath(q))})`);
    expect(row!.reasons).toEqual(['_RECORD:MALFORMED']);
    expect(row!.pos).toBe('line=3');
    expect(row!.hex).toBe(bad.toString('hex').toUpperCase());
  });

  it('NDJSON: the line as received (spacing and number text kept)', async () => {
    const file = join(dir, 'customers.ndjson');
    const bad = '{"CUSTOMER_ID":"C1",  "DATE_OF_BIRTH": "1980-13-01", "LOYALTY": 1.50, "NESTED": {"a" : [1, 2]}}';
    await writeFile(file, `${bad}\nnot json\n{"CUSTOMER_ID":"C2","FIRST_NAME":"Bo"}\n`);
    const q = await quarantine(file);
    expect(q.find((r) => r.CUSTOMER_ID === 'C1')!.rec).toBe(bad);
    expect(q.find((r) => r.reasons.includes('_RECORD:MALFORMED'))!.rec).toBe('not json');
  });

  it('Parquet: the typed values as a JSON object', async () => {
    const file = join(dir, 'customers.parquet');
    await engine.run(`COPY (SELECT 'C1' AS CUSTOMER_ID, DATE '1980-01-02' AS DATE_OF_BIRTH, 'not-an-email' AS EMAIL_ADDRESS, CAST(1.7 AS FLOAT) AS SCORE, 12.555 AS AMOUNT
      UNION ALL SELECT 'C2', DATE '1980-01-02', 'c2@example.com', CAST(2 AS FLOAT), 1.000) TO ${lit(file)} (FORMAT parquet)`);
    const q = await quarantine(file);
    const rec = q.find((r) => r.CUSTOMER_ID === 'C1')!.rec!;
    const o = JSON.parse(rec);
    expect({ ...o, SCORE: undefined }).toEqual({ CUSTOMER_ID: 'C1', DATE_OF_BIRTH: '1980-01-02', EMAIL_ADDRESS: 'not-an-email', SCORE: undefined, AMOUNT: 12.555 });
    // A FLOAT is written as the double it is exactly (1.7000000476837158): the same 32-bit value.
    expect(Math.fround(o.SCORE)).toBe(Math.fround(1.7));
  });

  it('stream: the event body as sent, line breaks and blanks included', async () => {
    const hub = await startHub({ port: 0 });
    try {
      const target = { hub: 'orig', connectionString: hub.connectionString };
      const producer = await producerFor(target);
      const rest = '"SESSION_ID":"S1",  "EVENT_DATE":"2026-01-01 00:00:00","TIME_ON_PAGE":"abc","X":1.50}';
      const bodies = [
        `{"EVENT_ID":"WT1",${rest}`,
        // Pretty-printed, CRLF, a trailing newline: the spool line holds it on one line, quarantine as sent.
        `{\r\n  "EVENT_ID": "WT2",\n  ${rest}\n`,
        `  \t{"EVENT_ID":"WT3",${rest}`,
        `{  "EVENT_ID":"WT4",${rest}  `,
        `\n{"EVENT_ID":"WT5",${rest}`,
      ];
      await producer.sendBatch(bodies.map((b) => ({ body: Buffer.from(b), properties: { table: 'CUSTOMER_BEHAVIORAL_EVENTS' } })), { partitionId: '0' });
      await producer.close();
      const home = join(dir, 'stream');
      const lake = new LocalLake(join(home, 'lake'));
      const r = await runStream({ target, lake, loadId: 'l', log: createLogger({ silent: true }), openEngine: () => Engine.open(), tmpDir: join(home, 'tmp'), untilIdleSeconds: 0.5 });
      expect(r.rowCounts['CUSTOMER_BEHAVIORAL_EVENTS.quarantine']).toBe(bodies.length);
      const rows = await engine.all<{ rec: string }>(`SELECT _source_record AS rec FROM read_parquet(${lit(join(home, 'lake', 'quarantine', '**', '*.parquet'))}, union_by_name = true) ORDER BY EVENT_ID`);
      expect(rows.map((x) => x.rec)).toEqual(bodies);
    } finally {
      await hub.close();
    }
  }, 60_000);
});
