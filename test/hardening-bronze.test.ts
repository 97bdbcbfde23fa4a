// Issue 19 (c): what a drop can do to Bronze. A file of another table is refused before any row is read; file names
// never reach SQL unquoted; a stream event up to Event Hubs' 1 MB is read whole; an oversized one is quarantined
// whole; a bronze-ingest that fails on its fourth drop shows the three committed ones in its manifest.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRACTS } from '../schemas/index.ts';
import { checkShape } from '../src/bronze/shape.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { generateSample } from '../src/sample/generate.ts';
import { decodeEvent } from '../src/streaming/decode.ts';
import { c360 } from './cli-in-process.ts';

let dir: string;
let sample: string;


async function rows(glob: string): Promise<number> {
  const e = await Engine.open();
  try {
    return Number(await e.scalar(`SELECT count(*) FROM read_parquet(${lit(glob)})`));
  } finally {
    e.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-hbronze-'));
  sample = join(dir, 'sample');
  await generateSample({ customers: 30, days: 20, seed: 5, out: sample });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the table-shape check', () => {
  it('a CUSTOMER_TRANSACTIONS file ingested as CUSTOMERS is refused (exit 2, naming the right table) and nothing is written', async () => {
    const home = join(dir, 'wrong');
    const r = await c360('ingest', '--table', 'CUSTOMERS', '--file', join(sample, 'CUSTOMER_TRANSACTIONS.parquet'), '--home', home, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain("has only 1 of CUSTOMERS's 20 columns among its 23. It looks like a CUSTOMER_TRANSACTIONS drop");
    expect(r.err).toContain('--table CUSTOMER_TRANSACTIONS');
    expect(existsSync(join(home, 'lake', 'bronze'))).toBe(false);
  });

  it("every sample table's file is accepted for its own table and refused for each of the other eleven", async () => {
    const e = await Engine.open();
    try {
      for (const file of CONTRACTS) {
        const cols = (await e.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${lit(join(sample, `${file.name}.parquet`))})`)).map((r) => r.column_name);
        for (const table of CONTRACTS) {
          if (table === file) expect(checkShape(table, cols, file.name).matched).toBe(table.columns.length);
          else expect(() => checkShape(table, cols, file.name), `${file.name} as ${table.name}`).toThrow(/Nothing was ingested/);
        }
      }
    } finally {
      e.close();
    }
  });

  it('a partial drop of the right table passes and the manifest records its shape', async () => {
    const home = join(dir, 'partial');
    const file = join(dir, 'CUSTOMERS-partial.csv');
    await writeFile(file, 'CUSTOMER_ID,LOYALTY_TIER,NOTE\nC1,gold,x\n');
    const r = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--json');
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(/manifest (.+\.json)/.exec(r.out)![1]!, 'utf8'));
    expect(manifest.jobs[0].metrics['CUSTOMERS.files'][0].shape).toEqual({ matched: 2, contractColumns: 20, receivedColumns: 3 });
  });
});

describe('file names never reach SQL unquoted', () => {
  it.each([["o'brien.csv"], ["x.csv', header = false) UNION ALL SELECT * FROM read_csv('y.csv"]])('%s is read as itself', async (name) => {
    const home = join(dir, `names-${name.length}`);
    const folder = join(dir, `q-${name.length}`);
    await mkdir(folder, { recursive: true });
    const file = join(folder, name.replaceAll('/', '_'));
    await writeFile(file, 'CUSTOMER_ID,FIRST_NAME,LAST_NAME\nC1,Ann,Lee\nC2,Bo,Kim\n');
    const r = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--format', 'csv', '--home', home, '--json');
    expect(r.err).not.toContain('Parser Error');
    expect(r.code).toBe(0);
    expect(r.out).toContain('CUSTOMERS: input 2, distinct 2');
  });
});

describe('stream events up to 1 MB', () => {
  const event = (body: Buffer) => ({ body, properties: { table: 'CUSTOMER_BEHAVIORAL_EVENTS' }, sequenceNumber: 7, offset: '7', enqueuedTimeUtc: new Date() });
  const big = (bytes: number) => {
    const head = JSON.stringify({ EVENT_ID: 'e1', CUSTOMER_ID: 'C1', EVENT_TYPE: 'page_view', EVENT_DATE: '2026-01-01T00:00:00Z', PROPERTIES: '' });
    const pad = 'x'.repeat(bytes - Buffer.byteLength(head));
    return Buffer.from(head.replace('"PROPERTIES":""', `"PROPERTIES":"${pad}"`));
  };

  it('a 900 KB event is a record, read whole (it used to be OVERSIZED poison cut to 1,024 characters)', () => {
    for (const deferParse of [false, true]) {
      const body = big(900 * 1024);
      const d = decodeEvent('0', event(body), { deferParse });
      expect(d.kind).not.toBe('poison');
      expect(d.bytes).toBe(900 * 1024);
      if (d.kind === 'unparsed') expect(Buffer.compare(Buffer.from(d.raw), body)).toBe(0);
      if (d.kind === 'record') expect(d.json.length).toBe(body.length);
    }
  });

  it('an event over the limit is quarantined with its whole body', () => {
    const body = big(2 * 1024 * 1024);
    const d = decodeEvent('0', event(body));
    expect(d.kind).toBe('poison');
    if (d.kind === 'poison') {
      expect(d.reasons).toEqual(['_RECORD:OVERSIZED']);
      expect(d.body).toBe(body.toString('utf8'));
    }
  });
});

describe('a bronze-ingest that fails part way', () => {
  it('shows the drops it committed, with their row counts, in the failed manifest', async () => {
    const home = join(dir, 'partway');
    const input = join(dir, 'drops');
    await mkdir(join(input, 'CUSTOMERS'), { recursive: true });
    const e = await Engine.open();
    try {
      for (const [i, where] of ['CUSTOMER_ID < 10', 'CUSTOMER_ID BETWEEN 10 AND 19', 'CUSTOMER_ID >= 20'].entries()) {
        await e.run(`COPY (SELECT * FROM read_parquet(${lit(join(sample, 'CUSTOMERS.parquet'))}) WHERE TRY_CAST(regexp_extract(CUSTOMER_ID, '[0-9]+') AS INTEGER) IS NOT NULL AND ${where.replaceAll('CUSTOMER_ID', "TRY_CAST(regexp_extract(CUSTOMER_ID, '[0-9]+') AS INTEGER)")}) TO ${lit(join(input, 'CUSTOMERS', `part-${i}.parquet`))} (FORMAT parquet)`);
      }
    } finally {
      e.close();
    }
    await writeFile(join(input, 'CUSTOMERS', 'part-3.parquet'), 'not parquet at all');
    const r = await c360('job', 'bronze-ingest', '--param', 'table=CUSTOMERS', '--param', `input=${input}`, '--home', home, '--json');
    expect(r.code).not.toBe(0);
    const runs = await readdir(join(home, 'runs'));
    const manifest = JSON.parse(await readFile(join(home, 'runs', runs.find((f) => f.endsWith('.json'))!), 'utf8'));
    expect(manifest.status).toBe('failed');
    const committed = await rows(join(home, 'lake', 'bronze', 'customer360', 'customers', '**', '*.parquet'));
    expect(committed).toBeGreaterThan(0);
    expect(manifest.jobs[0].rowCounts['CUSTOMERS.bronze']).toBe(committed);
    expect(manifest.jobs[0].metrics['CUSTOMERS.files']).toHaveLength(3);
  });
});

describe('exact numbers', () => {
  /** Ingests one item line per value and returns each ITEM_ID's Bronze value or quarantine reasons. */
  async function itemsOf(home: string, file: string): Promise<Record<string, string>> {
    const r = await c360('ingest', '--table', 'CUSTOMER_TRANSACTION_ITEMS', '--file', file, '--home', home, '--json');
    expect(r.code).toBe(0);
    const e = await Engine.open();
    try {
      const out: Record<string, string> = {};
      const base = join(home, 'lake');
      for (const row of await e.all<{ id: string; v: string }>(`SELECT ITEM_ID AS id, concat_ws('/', CAST(QUANTITY AS VARCHAR), CAST(UNIT_PRICE AS VARCHAR)) AS v FROM read_parquet(${lit(join(base, 'bronze', 'customer360', '*', 'ingest_date=*', '*.parquet'))})`)) out[row.id] = row.v;
      if (existsSync(join(base, 'quarantine'))) {
        for (const row of await e.all<{ id: string; v: string }>(`SELECT ITEM_ID AS id, array_to_string(_reasons, ',') AS v FROM read_parquet(${lit(join(base, 'quarantine', 'customer360', '*', 'ingest_date=*', '*.parquet'))}, union_by_name = true)`)) out[row.id] = row.v;
      }
      return out;
    } finally {
      e.close();
    }
  }

  it('CSV: 12.555 into DECIMAL(10,2) and "1.5" into INTEGER are TYPE problems; exact values pass unchanged', async () => {
    const file = join(dir, 'items-exact.csv');
    const lines = [
      ['I1', '1', '12.555'],
      ['I2', '1.5', '12.50'],
      ['I3', '2', '12.5'],
      ['I4', '3.0', '1e1'],
      ['I5', '4', '0.125'],
      ['I6', '1e0', '7'],
    ];
    await writeFile(file, ['ITEM_ID,TRANSACTION_ID,PRODUCT_ID,QUANTITY,UNIT_PRICE', ...lines.map(([id, q, p]) => `${id},T1,P1,${q},${p}`)].join('\n') + '\n');
    expect(await itemsOf(join(dir, 'exact-csv'), file)).toEqual({
      I1: 'UNIT_PRICE:TYPE',
      I2: 'QUANTITY:TYPE',
      I3: '2/12.50',
      I4: '3/10.00',
      I5: 'UNIT_PRICE:TYPE',
      I6: '1/7.00',
    });
  });

  it('Parquet: a FLOAT 1.7 into INTEGER and a DOUBLE 0.125 into DECIMAL(10,2) are TYPE problems', async () => {
    const file = join(dir, 'items-exact.parquet');
    const e = await Engine.open();
    try {
      await e.run(`COPY (SELECT * FROM (VALUES ('P1', 'T1', 'P', 1.7::FLOAT, 2.5::DOUBLE), ('P2', 'T1', 'P', 2::FLOAT, 0.125::DOUBLE), ('P3', 'T1', 'P', 3::FLOAT, 4.25::DOUBLE))
        t(ITEM_ID, TRANSACTION_ID, PRODUCT_ID, QUANTITY, UNIT_PRICE)) TO ${lit(file)} (FORMAT parquet)`);
    } finally {
      e.close();
    }
    expect(await itemsOf(join(dir, 'exact-parquet'), file)).toEqual({ P1: 'QUANTITY:TYPE', P2: 'UNIT_PRICE:TYPE', P3: '3/4.25' });
  });
});

describe('malformed CSV records are quarantined alone', () => {
  async function quarantine(home: string): Promise<{ pos: string; rec: string | null; reasons: string; err: string | null }[]> {
    const e = await Engine.open();
    try {
      return await e.all(
        `SELECT _source_position AS pos, _source_record AS rec, array_to_string(_reasons, ',') AS reasons, _source_error AS err
         FROM read_parquet(${lit(join(home, 'lake', 'quarantine', 'customer360', '*', 'ingest_date=*', '*.parquet'))}, union_by_name = true) ORDER BY pos`,
      );
    } finally {
      e.close();
    }
  }
  const good = (i: number) => `C${i},"Ann ${i}",Lee,a${i}@example.com`;

  it.each([
    ['within the sniffed rows', 5],
    ['after row 2,048 (the whole file used to be rejected)', 4001],
  ])('a ragged row %s: the others load, it keeps its text, line and reason', async (_what, at) => {
    const lines = ['CUSTOMER_ID,FIRST_NAME,LAST_NAME,EMAIL'];
    for (let i = 1; i <= 4100; i++) lines.push(good(i));
    const bad = 'C-bad,"O\'Hara, Jr",only three';
    lines[at - 1] = bad; // file line `at` (the header is line 1)
    const home = join(dir, `ragged-${at}`);
    const file = join(dir, `ragged-${at}.csv`);
    await writeFile(file, lines.join('\n') + '\n');
    const r = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--json');
    expect(r.code).toBe(0);
    expect(r.out).toContain('CUSTOMERS: input 4100, distinct 4100, already ingested 0, duplicates dropped 0, bronze 4099, quarantine 1');
    expect(r.out).toContain('reasons: MALFORMED 1');
    const q = await quarantine(home);
    expect(q).toEqual([{ pos: `line=${at}`, rec: bad, reasons: '_RECORD:MALFORMED', err: expect.stringContaining('MISSING COLUMNS') }]);
    // Quoted fields lose their quotes: the stray row did not talk the sniffer out of the double quote.
    const e = await Engine.open();
    try {
      expect(await e.scalar(`SELECT FIRST_NAME FROM read_parquet(${lit(join(home, 'lake', 'bronze', 'customer360', 'customers', 'ingest_date=*', '*.parquet'))}) WHERE CUSTOMER_ID = 'C7'`)).toBe('Ann 7');
    } finally {
      e.close();
    }
    // Re-run: the malformed record, like the others, is already ingested.
    const again = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--json');
    expect(again.out).toContain('already ingested 4100, duplicates dropped 4100, bronze 0, quarantine 0');
  });

  it('a row with too many fields is quarantined alone too', async () => {
    const home = join(dir, 'toomany');
    const file = join(dir, 'toomany.csv');
    await writeFile(file, ['CUSTOMER_ID,FIRST_NAME,LAST_NAME,EMAIL', good(1), 'C2,"Bo",Kim,b@example.com,extra,more', good(3)].join('\n') + '\n');
    const r = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--json');
    expect(r.out).toContain('bronze 2, quarantine 1');
    expect((await quarantine(home))[0]).toMatchObject({ pos: 'line=3', rec: 'C2,"Bo",Kim,b@example.com,extra,more', reasons: '_RECORD:MALFORMED' });
  });
});

describe('malformed NDJSON lines are quarantined alone', () => {
  it.each([['\n'], ['\r\n']])('line ending %j: good lines load, each bad one keeps its text, line and reason; a re-run adds nothing', async (eol) => {
    const tag = eol === '\n' ? 'lf' : 'crlf';
    const home = join(dir, `ndjson-${tag}`);
    const file = join(dir, `CUSTOMERS-${tag}.ndjson`);
    const lines: string[] = [];
    for (let i = 1; i <= 200; i++) lines.push(JSON.stringify({ CUSTOMER_ID: `C${i}`, FIRST_NAME: `Ann ${i}`, LAST_NAME: 'Lee' }));
    lines[49] = '{"CUSTOMER_ID":"C50", "FIRST_NAME": oops';
    lines[99] = '[1,2,3]';
    lines.splice(150, 0, ''); // a blank line (line 151) is no record
    await writeFile(file, lines.join(eol) + eol);
    const r = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--json');
    expect(r.err).toBe(r.err.replace(/"level":"error"/, '')); // no error logged
    expect(r.code).toBe(0);
    expect(r.out).toContain('CUSTOMERS: input 200, distinct 200, already ingested 0, duplicates dropped 0, bronze 198, quarantine 2');
    const e = await Engine.open();
    try {
      const q = await e.all<{ pos: string; rec: string; err: string }>(
        `SELECT _source_position AS pos, _source_record AS rec, _source_error AS err FROM read_parquet(${lit(join(home, 'lake', 'quarantine', 'customer360', '*', 'ingest_date=*', '*.parquet'))}) ORDER BY pos`,
      );
      expect(q).toEqual([
        { pos: 'line=100', rec: '[1,2,3]', err: 'NOT AN OBJECT: a JSON array' },
        { pos: 'line=50', rec: '{"CUSTOMER_ID":"C50", "FIRST_NAME": oops', err: 'NOT JSON: the line does not parse' },
      ]);
    } finally {
      e.close();
    }
    const again = await c360('ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--json');
    expect(again.out).toContain('already ingested 200, duplicates dropped 200, bronze 0, quarantine 0');
  });
});
