// Issue 17, gaps of `c360 forget` found after the first version:
//  - quarantine keeps a record's original text (`_source_record`) and, for a record not in UTF-8, its bytes
//    (`_source_bytes`); a malformed record has no parsed columns, so matching on columns alone left the person's
//    data there. The erasure (and the subject export) now search that text for the person's identifiers;
//  - `c360 forget` took no home lock, so it could race a pipeline run or a live stream in the same home; now it is
//    refused (exit 75, naming the holder) while another writer holds the home, like every other writer.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { AUDIT_DIR, type Receipt } from '../src/privacy/erasure.ts';
import { subjectExport } from '../src/privacy/subject-export.ts';
import { holderOf, homeLockFile } from '../src/runtime/lock.ts';

const ROOT = join(import.meta.dirname, '..');
const HEAD = 'CUSTOMER_ID,FIRST_NAME,LAST_NAME,EMAIL_ADDRESS,PHONE_NUMBER,DATE_OF_BIRTH,GENDER,ADDRESS_LINE_1,CITY,STATE_CODE,ZIP_CODE,COUNTRY_CODE,REGISTRATION_DATE';
const row = (id: string, first: string, email: string, phone: string, extra = '') => `${id},${first},Lee,${email},${phone},1980-01-02,F,1 Main St,Springfield,IL,62701,US,2024-01-01${extra}`;

let dir: string;
let home: string;
let engine: Engine;

/** Every quarantine and Bronze row's full text (original bytes as hex too), lower-cased. */
async function texts(): Promise<string[]> {
  const lake = join(home, 'lake');
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const f = join(d, e.name);
      if (e.isDirectory()) await walk(f);
      else if (e.name.endsWith('.parquet') && /\/(bronze|quarantine)\//.test(f)) {
        const rows = await engine.all<{ s: string }>(`SELECT lower(CAST(t AS VARCHAR)) AS s FROM read_parquet(${lit(f)}, hive_partitioning = false) t`);
        out.push(...rows.map((r) => r.s));
      }
    }
  };
  await walk(lake);
  return out;
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/c360.mjs'), ...args], { cwd: ROOT, env: { ...process.env, C360_DUCKDB_MEMORY_LIMIT: '1GB', C360_LOCK_WAIT_SECONDS: '0' }, encoding: 'utf8' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-forget-gaps-'));
  home = join(dir, 'home');
  engine = await Engine.open();
  const lake = new LocalLake(join(home, 'lake'));
  const ingest = async (name: string, body: Buffer | string) => {
    const file = join(dir, name);
    await writeFile(file, body);
    const r = await ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file }, loadId: name, ingestDate: '2026-01-01', tmpDir: join(home, 'tmp') });
    expect(r.quarantineRows, name).toBeGreaterThan(0);
  };
  // C7 is the person: one good record, one malformed (a field too many: no parsed columns, only its text), one not
  // in UTF-8 whose customer id is garbled (only their e-mail and phone name them). C8 and C9 are someone else.
  await ingest('customers.csv', [HEAD, row('C7', 'Ann', 'ann.lee@example.com', '+1 415 555 0107'), row('C8', 'Bo', 'bo@example.com', '+1 415 555 0108'),
    row('C7', 'Ann', 'ann.lee@example.com', '+1 415 555 0107', ',EXTRA'), row('C8', 'Bo', 'bo@example.com', '+1 415 555 0108', ',EXTRA')].join('\n') + '\n');
  await ingest('latin1.csv', Buffer.concat([Buffer.from(`${HEAD}\n`),
    Buffer.from('C?7,Ann'), Buffer.from([0xe9]), Buffer.from(`,Lee,Ann.Lee@Example.com,(415) 555-0107,1980-01-02,F,1 Main St,Springfield,IL,62701,US,2024-01-01\n`),
    Buffer.from('C9,Jos'), Buffer.from([0xe9]), Buffer.from(`,Ray,jo@example.com,+1 415 555 0109,1980-01-02,M,2 Main St,Springfield,IL,62701,US,2024-01-01\n`)]));
});

afterAll(async () => {
  engine?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('quarantined originals', () => {
  it('before: quarantine holds the person only in original text and bytes', async () => {
    const all = await texts();
    expect(all.filter((t) => t.includes('ann.lee@example.com')).length).toBe(3); // Bronze row, malformed text, Latin-1 text
    const exp = await subjectExport({ home, lake: new LocalLake(join(home, 'lake')), subjects: [{ kind: 'source', value: 'CRM/C7' }] });
    // the subject export finds the quarantined originals too
    expect(exp.counts.quarantine).toBe(2);
    expect(exp.counts.bronze).toBe(1);
  });

  it('c360 forget is refused while another writer holds the home, and runs once it is free', async () => {
    const lock = homeLockFile(home);
    // a live holder: this test process
    await writeFile(lock, JSON.stringify(holderOf('c360 stream --hub events')));
    const refused = cli(['forget', '--home', home, '--customer', 'source:CRM/C7', '--json']);
    expect(refused.status, refused.stderr).toBe(75);
    expect(refused.stderr).toContain('c360 stream --hub events');
    expect((await texts()).filter((t) => t.includes('ann.lee@example.com')).length).toBe(3); // nothing changed
    await rm(lock);
    const done = cli(['forget', '--home', home, '--customer', 'source:CRM/C7', '--json']);
    expect(done.status, done.stderr).toBe(0);
    const { requestId } = JSON.parse(done.stdout.trim().split('\n').at(-1)!) as { requestId: string };
    const receipt = JSON.parse(await readFile(join(home, 'lake', AUDIT_DIR, `${requestId}.json`), 'utf8')) as Receipt;
    const q = receipt.objects.filter((o) => o.path.startsWith('quarantine/'));
    expect(q.map((o) => o.rowsRemoved).sort()).toEqual([1, 1]);
    expect(receipt.verification.every((v) => v.hits === 0)).toBe(true);
    // the lock is released
    await expect(readFile(lock)).rejects.toThrow();
  });

  it('after: no row names them (text, bytes or columns); the others\' quarantined originals are kept', async () => {
    const all = await texts();
    for (const needle of ['ann.lee@example.com', '555-0107', '555 0107', 'c7,ann']) expect(all.filter((t) => t.includes(needle)), needle).toEqual([]);
    expect(all.filter((t) => t.includes('bo@example.com')).length).toBe(2); // C8's Bronze row and malformed text
    expect(all.filter((t) => t.includes('jo@example.com')).length).toBe(1); // C9's Latin-1 record
  });
});
