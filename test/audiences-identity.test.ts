// Identity merges reach the systems that hold audience members: a member who left an audience because identity
// resolution merged them into another person exits with `mergedInto` (merge chains followed to the last survivor),
// delivered to a webhook receiver on loopback that checks every signature; a member who simply stopped qualifying
// exits without it. The events validate against the webhook and audience event schemas.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAudiences } from '../src/activation/audience-file.ts';
import { runAudiences } from '../src/activation/audiences.ts';
import { activate } from '../src/activation/deliver.ts';
import { AUDIENCE_EVENT_SCHEMA, WEBHOOK_BODY_SCHEMA } from '../src/activation/event-schemas.ts';
import { verifySignature } from '../src/activation/webhook.ts';
import { conformSql } from '../src/catalogue/runner.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { commitQuery } from '../src/lake/parquet.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { IDENTITY_DATASETS, IDENTITY_DATASET_DECLS } from '../src/silver/datasets.ts';
import { writeProfile } from './fixtures/profile-fixture.ts';

const SECRET = 'k-identity';
let home: string;
let lake: LocalLake;
let engine: Engine;
let server: Server;
let url: string;
let bad = 0;
const bodies: { events: Record<string, unknown>[] }[] = [];
const changesDs = IDENTITY_DATASET_DECLS.find((d) => d.name === IDENTITY_DATASETS.changes)!;

/** One identity_changes file as the silver-identity job appends it. */
async function merged(seq: number, before: string[], after: string[]) {
  const sql = `SELECT CAST(${seq} AS BIGINT) AS SEQ, ${lit(`ev${seq}`)} AS EVENT_ID, 'merged' AS CHANGE_TYPE, 't1' AS TENANT_ID, 'idrun' AS RUN_ID,
    TIMESTAMP '2026-03-01 00:00:00' AS EVENT_AT, [${before.map(lit).join(',')}] AS IDS_BEFORE, [${after.map(lit).join(',')}] AS IDS_AFTER,
    ['crm:1'] AS RECORDS, 'test' AS REASON, '[]' AS LEDGER`;
  await commitQuery(engine, lake, await conformSql(engine, changesDs, sql), `${changesDs.path}/part-${String(seq).padStart(6, '0')}.parquet`, { tmpDir: join(home, 'tmp') });
}

async function day(asOf: string, rows: { id: string; orders: number }[]) {
  await writeProfile(engine, lake, home, asOf, rows.map((r) => ({ CUSTOMER360_ID: r.id, FIRST_NAME: `N ${r.id}`, TOTAL_ORDERS: r.orders, CONSENT_EMAIL: true })));
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: `r-${asOf}`, loadId: 'l', runDate: asOf, asOf, params: {} });
  const audiences = (await loadAudiences(join(home, 'audiences')))!;
  await runAudiences(ctx, engine, audiences, { asOf });
  await activate(makeJobContext({ home, lake, log: silentLogger, runId: 'a', loadId: 'a', runDate: asOf, params: {} }), engine, audiences, { env: { HOOK_SECRET: SECRET } });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-aud-id-'));
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
      bodies.push(JSON.parse(body) as { events: Record<string, unknown>[] });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  await mkdir(join(home, 'audiences'));
  await writeFile(join(home, 'audiences', 'buyers.yaml'), `name: buyers
filter: TOTAL_ORDERS > 0 AND CONSENT_EMAIL
attributes: [FIRST_NAME]
destinations:
  - type: webhook
    name: crm
    url: ${url}
    secret: env:HOOK_SECRET
    consent: email
`);
});
afterAll(async () => {
  engine?.close();
  await new Promise((done) => server?.close(done));
  await rm(home, { recursive: true, force: true });
});

describe('audience exits after identity merges', () => {
  it('a member merged away exits with the id of the person they became (chains followed); others exit without', async () => {
    await day('2026-03-01', [{ id: 'A', orders: 1 }, { id: 'B', orders: 1 }, { id: 'C', orders: 1 }, { id: 'D', orders: 1 }]);
    // A merged into B, then B into C; D stops buying.
    await merged(1, ['B', 'A'], ['B']);
    await merged(2, ['C', 'B'], ['C']);
    await day('2026-03-02', [{ id: 'C', orders: 3 }, { id: 'D', orders: 0 }]);
    expect(bad).toBe(0);
    const events = bodies.flatMap((b) => b.events);
    const exits = events.filter((e) => e.type === 'audience.exited').map((e) => [e.customer360Id, e.mergedInto ?? null]).sort();
    expect(exits).toEqual([['A', 'C'], ['B', 'C'], ['D', null]]);
    expect(events.filter((e) => e.type === 'audience.entered').map((e) => e.customer360Id).sort()).toEqual(['A', 'B', 'C', 'D']);
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema(AUDIENCE_EVENT_SCHEMA);
    const validBody = ajv.compile(WEBHOOK_BODY_SCHEMA);
    for (const b of bodies) expect(validBody(b), JSON.stringify(validBody.errors)).toBe(true);
    // The warehouse table carries it too (CUSTOMER_360.AUDIENCE_EVENTS.MERGED_INTO).
    const rows = await engine.all<{ id: string; m: string | null }>(`SELECT CUSTOMER360_ID AS id, MERGED_INTO AS m FROM read_parquet(${lit(join(home, 'lake', 'gold/customer360/audience_events/as_of_date=2026-03-02/batch-00000002.parquet'))}) ORDER BY 1`);
    expect(rows).toEqual([{ id: 'A', m: 'C' }, { id: 'B', m: 'C' }, { id: 'D', m: null }]);
  });
});
