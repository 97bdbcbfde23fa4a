// Webhook delivery against a real HTTP receiver on loopback that fails on purpose: 500s, a timeout, one poisoned
// record it always rejects, and the activator killed (SIGKILL) in the middle of a batch. Every event arrives, signed;
// the dead-letter dataset holds exactly the poisoned record; a re-run resumes without re-sending what was
// acknowledged; members without consent are never sent; lake files per audience per batch.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAudiences } from '../src/activation/audience-file.ts';
import { runAudiences } from '../src/activation/audiences.ts';
import { readCursor } from '../src/activation/cursor.ts';
import { activate, activationDeadLetters, EXPORTS_ROOT } from '../src/activation/deliver.ts';
import { AUDIENCE_EVENT_SCHEMA, WEBHOOK_BODY_SCHEMA } from '../src/activation/event-schemas.ts';
import { verifySignature } from '../src/activation/webhook.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { riskScores } from '../src/intelligence/datasets.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { holderOf, homeLockFile, lockFile } from '../src/runtime/lock.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { writeProfile, writeRows } from './fixtures/profile-fixture.ts';

const SECRET = 'test-hmac-key';
const ROOT = join(import.meta.dirname, '..');
const N = 400;
const id = (i: number) => `C${String(i).padStart(4, '0')}`;
const POISON = id(137);

interface Receiver {
  url: string;
  /** Event ids the receiver acknowledged (2xx), in order, with repeats. */
  acked: string[];
  posts: number;
  badSignatures: number;
  bodies: unknown[];
  mode: { fail500: number; timeoutOnce: boolean; delayMs: number };
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const r = { acked: [] as string[], posts: 0, badSignatures: 0, bodies: [] as unknown[], mode: { fail500: 0, timeoutOnce: false, delayMs: 0 } } as Receiver;
  r.server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    r.posts++;
    if (!verifySignature(SECRET, body, req.headers['x-c360-signature'] as string, Math.floor(Date.now() / 1000))) {
      r.badSignatures++;
      res.writeHead(401).end('bad signature');
      return;
    }
    if (r.mode.fail500 > 0) {
      r.mode.fail500--;
      res.writeHead(500).end('busy');
      return;
    }
    if (r.mode.timeoutOnce) {
      r.mode.timeoutOnce = false;
      await new Promise((done) => setTimeout(done, 1500));
      res.writeHead(200).end('too late');
      return;
    }
    const parsed = JSON.parse(body) as { events: { eventId: string; customer360Id: string }[] };
    if (parsed.events.some((e) => e.customer360Id === POISON)) {
      res.writeHead(422).end(`record ${POISON} is invalid`);
      return;
    }
    if (r.mode.delayMs) await new Promise((done) => setTimeout(done, r.mode.delayMs));
    r.bodies.push(parsed);
    for (const e of parsed.events) r.acked.push(e.eventId);
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((done) => r.server.listen(0, '127.0.0.1', done));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

let home: string;
let lake: LocalLake;
let engine: Engine;
let receiver: Receiver;
let audDir: string;

async function commitDay(asOf: string, members: (i: number) => boolean) {
  await writeProfile(engine, lake, home, asOf, Array.from({ length: N }, (_, i) => ({ CUSTOMER360_ID: id(i), FIRST_NAME: `N${i}`, EMAIL_ADDRESS: `p${i}@example.com`, TOTAL_ORDERS: members(i) ? 5 : 0, CONSENT_EMAIL: i % 10 !== 3 })));
  await writeRows(engine, lake, home, riskScores, asOf, []);
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: `r-${asOf}`, loadId: 'l', runDate: asOf, asOf, params: {} });
  return runAudiences(ctx, engine, (await loadAudiences(audDir))!, { asOf });
}

async function activateHere(backoffMs = 5) {
  const list = (await loadAudiences(audDir))!;
  const results = await activate(makeJobContext({ home, lake, log: silentLogger, runId: 'a', loadId: 'a', runDate: '2026-03-01', params: {} }), engine, list, { backoffMs, env: { HOOK_SECRET: SECRET } });
  return [results.find((r) => r.destination === 'buyers.crm')!, results.find((r) => r.destination === 'buyers.sftp')!] as const;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-hook-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  receiver = await startReceiver();
  audDir = join(home, 'audiences');
  await mkdir(audDir);
  await writeFile(join(audDir, 'buyers.yaml'), `name: buyers
filter: TOTAL_ORDERS > 0 AND CONSENT_EMAIL
attributes: [FIRST_NAME, EMAIL_ADDRESS, TOTAL_ORDERS]
destinations:
  - type: webhook
    name: crm
    url: ${receiver.url}
    secret: env:HOOK_SECRET
    consent: email
    batchSize: 50
    timeoutMs: 500
    maxAttempts: 6
  - type: file
    name: sftp
    format: csv
    consent: email
`);
});
afterAll(async () => {
  engine?.close();
  await new Promise((done) => receiver?.server.close(done));
  await rm(home, { recursive: true, force: true });
});

describe('webhook destination', () => {
  it('delivers every member through 500s and a timeout, signed and schema-valid; the poisoned record alone is dead-lettered', async () => {
    await commitDay('2026-03-01', () => true);
    receiver.mode.fail500 = 3;
    receiver.mode.timeoutOnce = true;
    const [hook, file] = await activateHere();
    const expected = Array.from({ length: N }, (_, i) => i).filter((i) => i % 10 !== 3).map((i) => `ae-1-buyers-${id(i)}`);
    expect(hook).toMatchObject({ destination: 'buyers.crm', batches: [1], sent: expected.length - 1, deadLettered: 1 });
    expect(receiver.badSignatures).toBe(0);
    expect([...new Set(receiver.acked)].sort()).toEqual(expected.filter((e) => !e.endsWith(POISON)));
    expect(receiver.acked.length).toBe(new Set(receiver.acked).size);
    // Consent: nobody with CONSENT_EMAIL false was ever sent (their ids end in 3 at the units).
    expect(receiver.acked.some((e) => Number(e.slice(-4)) % 10 === 3)).toBe(false);
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(AUDIENCE_EVENT_SCHEMA);
    const validBody = ajv.compile(WEBHOOK_BODY_SCHEMA);
    for (const b of receiver.bodies) expect(validBody(b), JSON.stringify(validBody.errors)).toBe(true);
    const dl = await engine.all<{ EVENT_ID: string; HTTP_STATUS: number; REASON: string }>(
      `SELECT EVENT_ID, HTTP_STATUS, REASON FROM read_parquet(${lit(join(home, 'lake', activationDeadLetters.path))} || '/**/*.parquet')`,
    );
    expect(dl).toEqual([{ EVENT_ID: `ae-1-buyers-${POISON}`, HTTP_STATUS: 422, REASON: `record ${POISON} is invalid` }]);
    expect(file).toMatchObject({ destination: 'buyers.sftp', sent: expected.length, skippedNoConsent: 0 });
    const csv = await engine.all<{ n: string }>(`SELECT count(*) AS n FROM read_csv(${lit(join(home, 'lake', EXPORTS_ROOT, 'buyers', 'sftp', 'as_of_date=2026-03-01', 'batch-00000001.csv'))})`);
    expect(Number(csv[0]!.n)).toBe(expected.length);
    expect((await readCursor(lake, 'buyers.crm')).batch).toBe(1);
  });

  it('a re-run sends nothing; the next batch sends only the exits and entries', async () => {
    const before = receiver.acked.length;
    await activateHere();
    expect(receiver.acked.length).toBe(before);
    await commitDay('2026-03-02', (i) => i >= 10);
    const [hook] = await activateHere();
    const now = receiver.acked.slice(before);
    expect(now.sort()).toEqual(Array.from({ length: 10 }, (_, i) => i).filter((i) => i !== 3).map((i) => `ae-2-buyers-${id(i)}`));
    expect(hook.batches).toEqual([2]);
  });

  it('an activator killed mid-batch resumes without re-sending what was acknowledged', async () => {
    await commitDay('2026-03-03', (i) => i < 10 || i >= 200);
    // batch 3: C0000..C0009 re-enter (9 with consent), C0010..C0199 exit (the 171 with consent): 180 events, 4 posts;
    // the poisoned C0137's exit is rejected again and dead-lettered.
    const before = receiver.acked.length;
    receiver.mode.delayMs = 400;
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), 'activate', '--home', home, '--audiences', audDir, '--json'], {
      cwd: ROOT, env: { ...process.env, HOOK_SECRET: SECRET, C360_WEBHOOK_BACKOFF_MS: '5' }, stdio: 'ignore',
    });
    const deadline = Date.now() + 20_000;
    while (receiver.acked.length - before < 100 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    child.kill('SIGKILL');
    await new Promise((done) => child.on('exit', done));
    receiver.mode.delayMs = 0;
    const ackedBeforeKill = receiver.acked.slice(before);
    expect(ackedBeforeKill.length).toBeGreaterThanOrEqual(100);
    expect(ackedBeforeKill.length).toBeLessThan(180);
    await activateHere();
    const resent = receiver.acked.slice(before + ackedBeforeKill.length);
    const all = receiver.acked.slice(before);
    expect(new Set(all).size).toBe(179);
    expect(all).not.toContain(`ae-3-buyers-${POISON}`);
    // At most the post in flight at the kill (acknowledged by the receiver, not yet recorded) is sent again.
    expect(resent.filter((e) => ackedBeforeKill.includes(e)).length).toBeLessThanOrEqual(50);
    expect((await readCursor(lake, 'buyers.crm')).batch).toBe(3);
  });

  it('c360 activate takes the home lock: refused (exit 75, naming the holder, nothing sent) while another command holds the home', async () => {
    // The killed activator above left its lock behind (dead pid): the next holder takes it over.
    const release = await lockFile(homeLockFile(home), holderOf('c360 run --as-of 2026-03-04'), `Home ${home}`, 0);
    const posts = receiver.posts;
    const run = () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), 'activate', '--home', home, '--audiences', audDir, '--json'], {
        cwd: ROOT, env: { ...process.env, HOOK_SECRET: SECRET, C360_LOCK_WAIT_SECONDS: '0' }, stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    try {
      const refused = await run();
      expect(refused.code).toBe(75);
      expect(refused.stderr).toContain(`is in use by pid ${process.pid}`);
      expect(refused.stderr).toContain('c360 run --as-of 2026-03-04');
      expect(receiver.posts).toBe(posts);
    } finally {
      await release();
    }
    // Released: it runs, and everything was delivered already.
    expect((await run()).code).toBe(0);
    expect(receiver.posts).toBe(posts);
  });
});
