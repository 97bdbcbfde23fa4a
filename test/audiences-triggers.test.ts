// Next-best-action triggers declared in an audience file: 'entered' fires when a member crosses into the audience's
// state, 'changed(COLUMN)' when a member's watched column changed in the day's profile change feed (old and new value
// in the reason); at most once per member, action and day; consent-checked like entries (a member without the
// destination's consent is never sent); delivered as action.triggered to a signed webhook receiver on loopback; and a
// trigger naming an unknown column fails with file, line and column.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAudiences, parseAudience } from '../src/activation/audience-file.ts';
import { runAudiences } from '../src/activation/audiences.ts';
import { activate } from '../src/activation/deliver.ts';
import { AUDIENCE_EVENT_SCHEMA, WEBHOOK_BODY_SCHEMA } from '../src/activation/event-schemas.ts';
import { commitProfileChanges } from '../src/activation/profile-changes.ts';
import { verifySignature } from '../src/activation/webhook.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { writeProfile } from './fixtures/profile-fixture.ts';

const SECRET = 'k-nba';
let home: string;
let lake: LocalLake;
let engine: Engine;
let server: Server;
let bad = 0;
const events: Record<string, unknown>[] = [];

const AUDIENCE = (url: string) => `name: frequent
filter: TOTAL_ORDERS >= 5
attributes: [LOYALTY_TIER]
triggers:
  - action: thank-you
    on: entered
  - action: tier-upgrade
    on: changed(LOYALTY_TIER)
destinations:
  - type: webhook
    url: ${url}
    secret: env:HOOK_SECRET
    consent: email
`;

type P = { id: string; orders: number; tier: string; consent: boolean };
async function day(asOf: string, people: P[]) {
  await writeProfile(engine, lake, home, asOf, people.map((p) => ({ CUSTOMER360_ID: p.id, TOTAL_ORDERS: p.orders, LOYALTY_TIER: p.tier, CONSENT_EMAIL: p.consent })));
  await commitProfileChanges(engine, lake, { asOf, runId: `r-${asOf}`, tmpDir: join(home, 'tmp') });
  const audiences = (await loadAudiences(join(home, 'audiences')))!;
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: `r-${asOf}`, loadId: 'l', runDate: asOf, asOf, params: {} });
  const r = await runAudiences(ctx, engine, audiences, { asOf });
  await activate(makeJobContext({ home, lake, log: silentLogger, runId: 'a', loadId: 'a', runDate: asOf, params: {} }), engine, audiences, { env: { HOOK_SECRET: SECRET } });
  return r;
}
const fired = () => events.filter((e) => e.type === 'action.triggered').map((e) => `${String(e.action)}:${String(e.customer360Id)}:${e.asOf}`).sort();

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-nba-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!verifySignature(SECRET, body, req.headers['x-c360-signature'] as string, Math.floor(Date.now() / 1000))) {
        bad++;
        res.writeHead(401).end();
        return;
      }
      const parsed = JSON.parse(body) as { events: Record<string, unknown>[] };
      const ajv = new Ajv2020({ strict: false });
      ajv.addSchema(AUDIENCE_EVENT_SCHEMA);
      if (!ajv.validate(WEBHOOK_BODY_SCHEMA, parsed)) bad++;
      events.push(...parsed.events);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  await mkdir(join(home, 'audiences'));
  await writeFile(join(home, 'audiences', 'frequent.yaml'), AUDIENCE(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`));
});
afterAll(async () => {
  engine?.close();
  await new Promise((done) => server?.close(done));
  await rm(home, { recursive: true, force: true });
});

describe('next-best-action triggers', () => {
  it('fires on entering the state and on a watched change, once per member, action and day, only to members with consent', async () => {
    // A and C cross into the state; C has no e-mail consent.
    let r = await day('2026-03-01', [{ id: 'A', orders: 5, tier: 'SILVER', consent: true }, { id: 'B', orders: 1, tier: 'SILVER', consent: true }, { id: 'C', orders: 6, tier: 'SILVER', consent: false }]);
    expect(r.counts.frequent).toMatchObject({ members: 2, entered: 2, triggered: 2 });
    expect(fired()).toEqual(['thank-you:A:2026-03-01']);
    // A's and C's tier change, B crosses in; a change of a non-member (none here) or of another column fires nothing.
    r = await day('2026-03-02', [{ id: 'A', orders: 7, tier: 'GOLD', consent: true }, { id: 'B', orders: 5, tier: 'SILVER', consent: true }, { id: 'C', orders: 6, tier: 'GOLD', consent: false }]);
    expect(r.counts.frequent).toMatchObject({ members: 3, entered: 1, exited: 0, triggered: 3 });
    expect(fired()).toEqual(['thank-you:A:2026-03-01', 'thank-you:B:2026-03-02', 'tier-upgrade:A:2026-03-02']);
    const upgrade = events.find((e) => e.action === 'tier-upgrade')!;
    expect(upgrade.reason).toEqual({ on: 'changed', changes: [{ attribute: 'LOYALTY_TIER', old: 'SILVER', new: 'GOLD' }] });
    expect(upgrade.attributes).toEqual({ LOYALTY_TIER: 'GOLD' });
    // The same day again, A's tier moves once more: deduped per member, action and day.
    r = await day('2026-03-02', [{ id: 'A', orders: 7, tier: 'PLATINUM', consent: true }, { id: 'B', orders: 5, tier: 'SILVER', consent: true }, { id: 'C', orders: 6, tier: 'GOLD', consent: false }]);
    expect(r.counts.frequent!.triggered).toBe(0);
    // The next day it fires again.
    await day('2026-03-03', [{ id: 'A', orders: 7, tier: 'GOLD', consent: true }, { id: 'B', orders: 5, tier: 'SILVER', consent: true }, { id: 'C', orders: 6, tier: 'GOLD', consent: false }]);
    expect(fired()).toEqual(['thank-you:A:2026-03-01', 'thank-you:B:2026-03-02', 'tier-upgrade:A:2026-03-02', 'tier-upgrade:A:2026-03-03']);
    expect(events.some((e) => e.customer360Id === 'C')).toBe(false);
    expect(bad).toBe(0);
    // Triggers leave membership alone: the members are still A, B and C.
    const members = await engine.all<{ id: string }>(`SELECT CUSTOMER360_ID AS id FROM read_parquet(${lit(join(home, 'lake', 'gold/customer360/audience_membership/as_of_date=2026-03-03/*.parquet'))}) WHERE IS_MEMBER ORDER BY 1`);
    expect(members.map((m) => m.id)).toEqual(['A', 'B', 'C']);
  });

  it('a trigger watching an unknown column fails naming the file, line and column', () => {
    const text = AUDIENCE('http://127.0.0.1:1/h').replace('changed(LOYALTY_TIER)', 'changed(LOYALTY_TIR)');
    expect(() => parseAudience(text, 'audiences/frequent.yaml')).toThrow(/^audiences\/frequent\.yaml:8:17: on: changed\(\): LOYALTY_TIR is not a tracked profile column \(did you mean LOYALTY_TIER\?\)/);
    expect(() => parseAudience(AUDIENCE('http://127.0.0.1:1/h').replace('on: entered', 'on: exited'), 'a.yaml')).toThrow(/^a\.yaml:6:9: on must be 'entered' or 'changed/);
  });
});
