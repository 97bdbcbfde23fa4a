// Issue 19 (b): one writer per home, and per scope of a shared (ADLS) lake. Two real `c360 ingest` processes of the
// same file into one home used to double Bronze for good; now the second is refused (exit 75, naming the holder) or,
// asked to wait, runs after the first and adds nothing. A lock left by a killed process is taken over. On ADLS, a
// blob lease per scope does the same across machines (Azurite).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { openAdlsLake } from '../src/lake/adls-lake.ts';
import { TransientError } from '../src/runtime/errors.ts';
import { holderOf, homeLockFile, lockFile } from '../src/runtime/lock.ts';
import { generateSample } from '../src/sample/generate.ts';
import { startAzurite, type Azurite } from './fixtures/azurite.ts';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
let drop: string;
let distinct: number;

function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  return { child, exit };
}

async function bronzeRows(home: string): Promise<number> {
  const e = await Engine.open();
  try {
    return Number(await e.scalar(`SELECT count(*) FROM read_parquet(${lit(join(home, 'lake', 'bronze', '**', '*.parquet'))})`));
  } finally {
    e.close();
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-lock-'));
  const sample = join(dir, 'sample');
  await generateSample({ customers: 60, days: 30, seed: 3, out: sample });
  // A drop of some size: the sample's transactions, 100 copies with new ids.
  drop = join(dir, 'CUSTOMER_TRANSACTIONS.csv');
  const e = await Engine.open();
  try {
    await e.run(`COPY (SELECT * REPLACE (TRANSACTION_ID || '-' || CAST(i AS VARCHAR) AS TRANSACTION_ID)
      FROM read_parquet(${lit(join(sample, 'CUSTOMER_TRANSACTIONS.parquet'))}), range(100) r(i)) TO ${lit(drop)} (FORMAT csv, HEADER true)`);
    distinct = Number(await e.scalar(`SELECT count(*) FROM (SELECT DISTINCT * FROM read_csv(${lit(drop)}, all_varchar = true))`));
  } finally {
    e.close();
  }
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a lock per home', () => {
  it('a second writer is refused while another holds the home (exit 75, naming it; the lock untouched), and runs once it is released', async () => {
    const home = join(dir, 'h1');
    // The holder is this process (a live pid on this host, as any c360 command holding the home would be); two real
    // commands contending are the next test.
    const release = await lockFile(homeLockFile(home), holderOf('c360 stream --hub busy'), `Home ${home}`, 0);
    const args = ['ingest', '--table', 'CUSTOMER_TRANSACTIONS', '--file', drop, '--home', home, '--json'];
    try {
      const body = await readFile(homeLockFile(home), 'utf8');
      const refused = await cli(args).exit;
      expect(refused.code).toBe(75);
      expect(refused.stderr).toContain(`is in use by pid ${process.pid} on ${hostname()} (\`c360 stream --hub busy`);
      expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(existsSync(join(home, 'lake', 'bronze'))).toBe(false);
      // A live holder's lock is neither taken over nor changed.
      expect(await readFile(homeLockFile(home), 'utf8')).toBe(body);
    } finally {
      await release();
    }
    expect(existsSync(homeLockFile(home))).toBe(false);
    expect((await cli(args).exit).code).toBe(0);
    expect(await bronzeRows(home)).toBeGreaterThan(0);
  });

  it('two writers started together with C360_LOCK_WAIT_SECONDS both succeed, one after the other, with no duplicates', async () => {
    const home = join(dir, 'h2');
    const args = ['ingest', '--table', 'CUSTOMER_TRANSACTIONS', '--file', drop, '--home', home, '--json'];
    const [a, b] = await Promise.all([cli(args, { C360_LOCK_WAIT_SECONDS: '300' }).exit, cli(args, { C360_LOCK_WAIT_SECONDS: '300' }).exit]);
    expect([a.code, b.code]).toEqual([0, 0]);
    // The same drop into a fresh home gives the same Bronze as one writer alone: nothing twice.
    expect(await bronzeRows(home)).toBe(await bronzeRows(join(dir, 'h1')));
  });

  it('a lock left by a killed process is taken over', async () => {
    const home = join(dir, 'h3');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(home, { recursive: true });
    await writeFile(homeLockFile(home), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), command: 'c360 run', since: new Date().toISOString() }));
    const r = await cli(['ingest', '--table', 'CUSTOMER_TRANSACTIONS', '--file', drop, '--home', home, '--json']).exit;
    expect(r.code).toBe(0);
    expect(existsSync(homeLockFile(home))).toBe(false);
  });
});

describe('a lease per scope of an ADLS lake', () => {
  let azurite: Azurite | undefined;

  afterAll(() => azurite?.stop());

  it('a second holder of the same scope is refused naming the first; another scope is free; release frees it', async () => {
    azurite = await startAzurite();
    const url = `${azurite.accountUrl}/lake/c360`;
    const a = await openAdlsLake(url, join(dir, 'adls-a'));
    const b = await openAdlsLake(url, join(dir, 'adls-b'));
    const first = await a.lock!('bronze-ingest.CUSTOMERS', { ...holderOf('c360 job bronze-ingest --param table=CUSTOMERS'), pid: 4242, host: 'job-a' }, 0);
    const refused = await b.lock!('bronze-ingest.CUSTOMERS', holderOf('c360 job bronze-ingest'), 300).catch((e) => e);
    expect(refused).toBeInstanceOf(TransientError);
    expect((refused as Error).message).toContain("scope 'bronze-ingest.CUSTOMERS' is in use by pid 4242 on job-a (`c360 job bronze-ingest --param table=CUSTOMERS`");
    const other = await b.lock!('bronze-ingest.CUSTOMER_TRANSACTIONS', holderOf('x'), 0);
    await other();
    await first();
    const again = await b.lock!('bronze-ingest.CUSTOMERS', holderOf('c360 job bronze-ingest'), 0);
    await again();
  }, 60_000);
});
