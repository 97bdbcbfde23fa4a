// Issue 19, what the second hostile pass left: local times in a named zone that do not exist (spring-forward gap)
// or exist twice (fall-back hour) were converted silently; a stream event naming a key twice loaded one of its
// values and dropped the other silently (the NDJSON drop path quarantined it); a drop file written to while it was
// ingested loaded whatever mix of versions the reads saw.
import { appendFile, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { TransientError } from '../src/runtime/errors.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { BatchSpool, POISON_DIR, writeBatch } from '../src/streaming/batch-writer.ts';
import { badKey, decodeEvent } from '../src/streaming/decode.ts';
import { withTempEngine } from './temp-engine.ts';

let dir: string;
let engine: Engine;
withTempEngine('c360-hostile3-', (d, e) => ((dir = d), (engine = e)));

const HEAD = 'TRANSACTION_ID,CUSTOMER_ID,CHANNEL,TRANSACTION_DATE,TRANSACTION_TYPE,TOTAL_AMOUNT,CURRENCY_CODE,TRANSACTION_STATUS,LOYALTY_POINTS_EARNED';
const row = (id: string, at: string) => `${id},C1,POS,${at},PURCHASE,10.00,USD,COMPLETED,1`;
let n = 0;

describe('hostile input, third pass', () => {
  it('a local time in a named zone that does not exist or exists twice is TYPE, with its text; unique ones convert to UTC', async () => {
    const cases: [string, string | null][] = [
      ['2026-03-29 02:30:00 Europe/Paris', null], // spring forward: 02:00 -> 03:00, 02:30 never happens
      ['2026-10-25 02:30:00 Europe/Paris', null], // fall back: 02:30 happens at 00:30Z and at 01:30Z
      ['2026-03-08 02:30:00 America/New_York', null],
      ['2026-11-01 01:30:00 America/New_York', null],
      ['2026-10-04 02:15:00 Australia/Lord_Howe', null], // a 30-minute shift
      ['2026-03-29 03:30:00 Europe/Paris', '2026-03-29 01:30:00'],
      ['2026-10-25 03:00:00 Europe/Paris', '2026-10-25 02:00:00'],
      ['2026-07-01 12:00:00 Europe/Paris', '2026-07-01 10:00:00'],
      ['2026-04-05 02:15:00 Australia/Lord_Howe', '2026-04-04 15:45:00'],
      ['2026-07-01T12:00:00 Etc/GMT+1', '2026-07-01 13:00:00'],
      ['2026-03-29 02:30:00+01:00', '2026-03-29 01:30:00'],
      ['2026-03-29 02:30:00 Nowhere/Else', null],
      ['294247-01-10 04:00:54 Europe/Paris', null], // near the largest timestamp: TYPE, not a crash
      ['2026-07-01 12:00:00 europe/paris', '2026-07-01 10:00:00'],
    ];
    const file = join(dir, 'zones.csv');
    // An extra column named X: the check's lambda parameter must not be shadowed by a received column.
    await writeFile(file, [`${HEAD},X`, ...cases.map(([at], i) => `${row(`T${i}`, at)},1`)].join('\n') + '\n');
    const lake = new LocalLake(join(dir, `lake-${++n}`));
    const r = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
    const read = async (prefix: string, sql: string) => engine.all<Record<string, unknown>>(sql.replace('$F', `read_parquet(${lit(await lake.localPath(r.outputs.find((o) => o.startsWith(prefix))!))})`));
    const bronze = await read('bronze/', 'SELECT TRANSACTION_ID AS id, CAST(TRANSACTION_DATE AS VARCHAR) AS at FROM $F');
    const quarantine = await read('quarantine/', 'SELECT TRANSACTION_ID AS id, _reasons AS reasons, TRANSACTION_DATE AS at FROM $F');
    const got = new Map<string, unknown>([...bronze.map((b) => [b.id as string, b.at] as const), ...quarantine.map((q) => [q.id as string, { reasons: q.reasons, at: q.at }] as const)]);
    cases.forEach(([at, want], i) => {
      expect(got.get(`T${i}`), at).toEqual(want === null ? { reasons: ['TRANSACTION_DATE:TYPE'], at } : want);
    });
  });

  it('badKey finds a top-level key named twice (as decoded) or empty, not keys of nested objects or strings that look like keys', () => {
    expect(badKey('{"a":1,"b":2,"a":3}')).toBe('a');
    expect(badKey('{"a":1,"\\u0061":2}')).toBe('a');
    expect(badKey('{"a":{"a":1,"a":2},"b":[{"b":1}],"c":"\\",\\"c\\":"}')).toBeUndefined();
    expect(badKey('{ "x\\\\" : 1 , "x\\\\" : 2 }')).toBe('x\\');
    expect(badKey('{}')).toBeUndefined();
    // The empty key cannot be a column (issue 19, fourth pass: it failed a whole NDJSON file with a parser error).
    expect(badKey('{"a":1,"":2}')).toBe('');
    expect(badKey('{"a":{"":1}}')).toBeUndefined();
  });

  it('a stream event naming a key twice, or the empty key, is quarantined whole as MALFORMED (both on receipt and when DuckDB checks it); the others load', async () => {
    for (const deferParse of [false, true]) {
      const lake = new LocalLake(join(dir, `lake-${++n}`));
      const spool = new BatchSpool(join(dir, `spool-${n}`), 'hub', '0');
      const body = (id: string, extra = '') => `{"EVENT_ID":"${id}","SESSION_ID":"S1"${extra},"EVENT_DATE":"2026-01-01 00:00:00","EVENT_TYPE":"page_view"}`;
      const bodies = [body('E1'), body('E2', ',"SESSION_ID":"S2"'), body('E3'), `{"EVENT_ID":"E4",\n"EVENT_ID":"E5"}`, body('E6', ',"\\u0053ESSION_ID":"S9"'), body('E7', ',"":"x"')];
      bodies.forEach((b, i) => {
        spool.add(decodeEvent('0', { body: Buffer.from(b), properties: { table: 'CUSTOMER_BEHAVIORAL_EVENTS' }, sequenceNumber: i, offset: String(i * 10), enqueuedTimeUtc: new Date('2026-01-02T00:00:00Z') }, { deferParse }));
      });
      const r = await writeBatch({ engine, lake, loadId: 'l', tmpDir: dir, runTag: 't', poisonHighWater: -1 }, spool);
      const poison = r.outputs.find((o) => o.startsWith(POISON_DIR))!;
      const rows = await engine.all<{ body: string; reasons: string[]; seq: number }>(
        `SELECT _body AS body, _reasons AS reasons, _sequence_number::INTEGER AS seq FROM read_parquet(${lit(await lake.localPath(poison))}) ORDER BY seq`,
      );
      expect(rows, `deferParse ${deferParse}`).toEqual([1, 3, 4, 5].map((i) => ({ body: bodies[i], reasons: ['_RECORD:MALFORMED'], seq: i })));
      const loaded = r.outputs.filter((o) => !o.startsWith(POISON_DIR) && !o.includes('/_index/'));
      const ids = await engine.all<{ id: string }>(`SELECT EVENT_ID AS id FROM read_parquet([${(await Promise.all(loaded.map((o) => lake.localPath(o)))).map(lit).join(', ')}], union_by_name = true) ORDER BY 1`);
      expect(ids.map((x) => x.id)).toEqual(['E1', 'E3']);
    }
  });

  it('a drop file changed while it is ingested (appended to, or rewritten in place at the same size) fails the ingest with nothing committed; the next run loads the new version whole', async () => {
    const writes: [string, (file: string) => Promise<void>][] = [
      ['appended', (file) => appendFile(file, row('T9', '2026-01-01 00:00:00') + '\n')],
      ['rewritten in place', async (file) => {
        const fh = await open(file, 'r+');
        await fh.write('T8', HEAD.length + 1); // the first record's id T0 -> T8, same size
        await fh.close();
      }],
    ];
    for (const [what, change] of writes) {
      const file = join(dir, `changing-${++n}.csv`);
      // Two records, one of them invalid: the originals of quarantined records read the file a second time.
      await writeFile(file, [HEAD, row('T0', '2026-01-01 00:00:00'), row('T1', 'not a time')].join('\n') + '\n');
      let changed = false;
      // The writer strikes between the reads and the commit: the lake's first question about a target file.
      class ChangingLake extends LocalLake {
        override async exists(path: string): Promise<boolean> {
          if (!changed) {
            changed = true;
            await change(file);
          }
          return super.exists(path);
        }
      }
      const lake = new ChangingLake(join(dir, `lake-${n}`));
      const ingest = () => ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
      const err = await ingest().then(() => undefined, (e: unknown) => e);
      expect(err, what).toBeInstanceOf(TransientError);
      expect((err as Error).message).toMatch(/changed while it was being read.*nothing of it was committed.*Run again/);
      expect(changed).toBe(true);
      expect((await lake.list('')).map((f) => f.path), what).toEqual([]);
      const r = await ingest();
      const ids = await engine.all<{ id: string }>(
        `SELECT TRANSACTION_ID AS id FROM read_parquet([${(await Promise.all(r.outputs.filter((o) => !o.includes('/_index/')).map((o) => lake.localPath(o)))).map(lit).join(', ')}], union_by_name = true) ORDER BY 1`,
      );
      expect(ids.map((x) => x.id), what).toEqual(what === 'appended' ? ['T0', 'T1', 'T9'] : ['T1', 'T8']);
    }
  });
});
