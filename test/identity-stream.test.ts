// The streaming identity consumer with the real @azure/event-hubs client against the local endpoint: a record for an
// existing person joins its id, a bridging record merges two people, tenants stay apart, placeholder e-mails never
// link, refused events are quarantined, and a crash (SIGKILL) after the graph commit or after the publish neither
// loses nor repeats a change event on the changes topic.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from '@azure/event-hubs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGraph } from '../src/identity/graph.ts';
import { runIdentityStream } from '../src/identity/stream.ts';
import { resultLine } from '../src/cli/command.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { producerFor } from '../src/streaming/connect.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';
import { applyBatch, BASE } from './fixtures/identity-graph.ts';

const ROOT = join(import.meta.dirname, '..');
const silent = createLogger({ silent: true });
let hub: LocalHub;
let dir: string;
beforeAll(async () => {
  hub = await startHub({ port: 0, partitions: 2 });
  dir = await mkdtemp(join(tmpdir(), 'c360-idstream-'));
});
afterAll(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

type Rec = Record<string, string>;
/** Publishes records (and raw bodies) to a records topic, keyed by customer id as the collector does. */
async function send(name: string, records: (Rec | { raw: string; table?: string })[]) {
  const producer = await producerFor({ hub: name, connectionString: hub.connectionString });
  try {
    for (const r of records) {
      const body = 'raw' in r ? r.raw : JSON.stringify(r);
      const table = 'raw' in r ? (r.table ?? 'CUSTOMERS') : 'CUSTOMERS';
      await producer.sendBatch([{ body: Buffer.from(body), properties: { table } }], { partitionKey: 'raw' in r ? 'x' : r.CUSTOMER_ID! });
    }
  } finally {
    await producer.close();
  }
}

/** Every event on a topic, all partitions. */
async function readTopic(name: string): Promise<ReceivedEventData[]> {
  const client = new EventHubConsumerClient('$Default', hub.connectionString, name);
  const all: ReceivedEventData[] = [];
  try {
    for (const p of await client.getPartitionIds()) {
      const props = await client.getPartitionProperties(p);
      if (props.isEmpty) continue;
      await new Promise<void>((resolve, reject) => {
        const sub = client.subscribe(p, {
          processEvents: async (events) => {
            all.push(...events);
            if (events.length === 0 || events[events.length - 1]!.sequenceNumber >= props.lastEnqueuedSequenceNumber) void sub.close().then(resolve);
          },
          processError: async (e) => reject(e),
        }, { startPosition: earliestEventPosition, maxWaitTimeInSeconds: 1 });
      });
    }
  } finally {
    await client.close();
  }
  return all;
}

async function graph(state: string) {
  const e = await openGraph(state);
  try {
    const rows = await e.all<{ k: string; id: string }>("SELECT tenant_id || '/' || customer_id AS k, customer360_id AS id FROM g.records");
    const changes = await e.all<{ EVENT_ID: string; TYPE: string; EVENT: string }>('SELECT EVENT_ID, TYPE, EVENT FROM g.changes ORDER BY SEQ');
    const quarantine = await e.all<{ REASON: string }>('SELECT REASON FROM g.stream_quarantine');
    return { id: Object.fromEntries(rows.map((r) => [r.k, r.id])), changes, quarantine };
  } finally {
    e.close();
  }
}

const stream = (state: string, name: string) =>
  runIdentityStream({ state, target: { hub: name, connectionString: hub.connectionString }, changesHub: `${name}-changes`, log: silent, untilIdleSeconds: 1 });

/** The topic holds every change of the graph exactly once, with the event id as message id. */
async function expectPublishedOnce(state: string, name: string) {
  const g = await graph(state);
  const got = await readTopic(`${name}-changes`);
  const ids = got.map((e) => String(e.messageId));
  expect(ids.sort()).toEqual(g.changes.map((c) => c.EVENT_ID).sort());
  // The client parses a JSON body on receipt (bytes when a consumer asks it not to).
  const body = (b: unknown) => (b instanceof Uint8Array ? JSON.parse(Buffer.from(b).toString()) : b) as { eventId: string };
  for (const e of got) expect(body(e.body).eventId).toBe(String(e.messageId));
  return { g, got };
}

describe('c360 identity-stream', () => {
  it('links a record for an existing person to its id and merges two people through a bridging record', async () => {
    const state = join(dir, 'g1');
    const name = 'ids1';
    const base = await applyBatch(dir, state, BASE);
    await send(name, [{ TENANT_ID: 'acme', CUSTOMER_ID: '6', SOURCE_SYSTEM: 'ECOMMERCE', FIRST_NAME: 'Rob', LAST_NAME: 'Smith', EMAIL_ADDRESS: 'Rob.Smith+shop@gmail.com', CITY: 'London' }]);
    const r1 = await stream(state, name);
    expect(r1).toMatchObject({ records: 1, changes: { linked: 1 } });
    const g1 = await graph(state);
    expect(g1.id['acme/6']).toBe(base.id['acme/1']);
    const linked = JSON.parse(g1.changes.at(-1)!.EVENT);
    expect(linked).toMatchObject({ type: 'linked', before: [base.id['acme/1']], after: [base.id['acme/1']], records: [{ sourceSystem: 'ECOMMERCE', customerId: '6' }] });

    // A restart resumes after the stored position: record 6 is not read again; the bridge merges 1's and 2's people.
    await send(name, [{ TENANT_ID: 'acme', CUSTOMER_ID: '7', SOURCE_SYSTEM: 'MARKETING', FIRST_NAME: 'Robert', LAST_NAME: 'Smith', EMAIL_ADDRESS: 'rob.smith@gmail.com', PHONE_NUMBER: '415-555-2671' }]);
    const r2 = await stream(state, name);
    expect(r2.records).toBe(1);
    expect(Object.values(r2.resumedAfter).some((v) => v !== null)).toBe(true);
    const g2 = await graph(state);
    const survivor = base.id['acme/1']!;
    expect([g2.id['acme/2'], g2.id['acme/6'], g2.id['acme/7']]).toEqual([survivor, survivor, survivor]);
    const merged = g2.changes.filter((c) => c.TYPE === 'merged').map((c) => JSON.parse(c.EVENT));
    expect(merged).toEqual([expect.objectContaining({ before: [survivor, base.id['acme/2']], after: [survivor] })]);
    const { got } = await expectPublishedOnce(state, name);
    expect(got.filter((e) => e.properties?.type === 'merged')).toHaveLength(1);
  });

  it('keeps tenants apart, never links on a placeholder e-mail, and quarantines what is not a record', async () => {
    const state = join(dir, 'g2');
    const name = 'ids2';
    const base = await applyBatch(dir, state, BASE);
    await send(name, [
      // Alice's e-mail, name and birth date, but another tenant.
      { TENANT_ID: 'beta', CUSTOMER_ID: '3', SOURCE_SYSTEM: 'CRM', FIRST_NAME: 'Alice', LAST_NAME: 'Jones', EMAIL_ADDRESS: 'alice.jones@yahoo.com', DATE_OF_BIRTH: '1990-02-03', CITY: 'Leeds' },
      // Same name and same (placeholder) e-mail: without the blocklist these two would link.
      { TENANT_ID: 'acme', CUSTOMER_ID: '10', SOURCE_SYSTEM: 'CRM', FIRST_NAME: 'John', LAST_NAME: 'Doe', EMAIL_ADDRESS: 'test@test.com' },
      { TENANT_ID: 'acme', CUSTOMER_ID: '11', SOURCE_SYSTEM: 'POS', FIRST_NAME: 'John', LAST_NAME: 'Doe', EMAIL_ADDRESS: 'test@test.com' },
      { raw: '{not json' },
      { raw: '{"userId":"u1","linkedId":"a1"}', table: 'IDENTITY_LINKS' },
    ]);
    const r = await stream(state, name);
    expect(r).toMatchObject({ events: 5, records: 3, poison: 1, other: 1 });
    const g = await graph(state);
    expect(g.id['beta/3']).toBeDefined();
    expect(Object.entries(g.id).filter(([k]) => k.startsWith('acme/')).map(([, v]) => v)).not.toContain(g.id['beta/3']);
    for (const k of ['acme/1', 'acme/2', 'acme/3', 'acme/4', 'acme/5']) expect(g.id[k]).toBe(base.id[k]);
    expect(g.id['acme/10']).not.toBe(g.id['acme/11']);
    expect(g.quarantine).toEqual([{ REASON: '_RECORD:NOT_JSON' }]);
    const { got } = await expectPublishedOnce(state, name);
    // Events of a tenant share a partition key (their order is kept).
    const beta = got.filter((e) => e.properties?.tenant === 'beta');
    expect(beta.length).toBeGreaterThan(0);
    expect(new Set(beta.map((e) => e.partitionKey))).toEqual(new Set(['beta']));
  });

  it('a SIGKILL between the graph commit and the publish, or after the publish, neither loses nor repeats a change', async () => {
    const state = join(dir, 'g3');
    const name = 'ids3';
    await applyBatch(dir, state, BASE);
    const cli = (env: Record<string, string>) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), 'identity-stream', '--state', state, '--hub', name, '--changes-hub', `${name}-changes`,
        '--connection-string', hub.connectionString, '--until-idle', '1'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      return new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out, err })));
    };
    const result = (out: string) => JSON.parse(resultLine(out.trim().split('\n').at(-1)!));

    await send(name, [{ TENANT_ID: 'acme', CUSTOMER_ID: '6', SOURCE_SYSTEM: 'ECOMMERCE', FIRST_NAME: 'Rob', LAST_NAME: 'Smith', EMAIL_ADDRESS: 'rob.smith@gmail.com' }]);
    const crashed = await cli({ C360_TEST_CRASH_AFTER_GRAPH_COMMIT: '1' });
    expect(crashed.signal, crashed.err).toBe('SIGKILL');
    const afterCrash = await graph(state);
    expect(afterCrash.id['acme/6']).toBe(afterCrash.id['acme/1']); // committed
    const onTopic = (await readTopic(`${name}-changes`)).map((e) => String(e.messageId));
    const linkId = afterCrash.changes.at(-1)!.EVENT_ID;
    expect(onTopic).not.toContain(linkId); // not yet published
    const resumed = await cli({});
    expect(resumed.code, resumed.err).toBe(0);
    expect(result(resumed.out)).toMatchObject({ records: 0, published: 1, recoveredSkipped: 0 });
    await expectPublishedOnce(state, name);

    await send(name, [{ TENANT_ID: 'acme', CUSTOMER_ID: '8', SOURCE_SYSTEM: 'POS', FIRST_NAME: 'Alice', LAST_NAME: 'Jones', EMAIL_ADDRESS: 'alice.jones@yahoo.com', DATE_OF_BIRTH: '1990-02-03' }]);
    const crashed2 = await cli({ C360_TEST_CRASH_AFTER_PUBLISH: '1' });
    expect(crashed2.signal, crashed2.err).toBe('SIGKILL');
    const resumed2 = await cli({});
    expect(resumed2.code, resumed2.err).toBe(0);
    expect(result(resumed2.out)).toMatchObject({ records: 0, published: 0, recoveredSkipped: 1 });
    const { g } = await expectPublishedOnce(state, name);
    expect(g.id['acme/8']).toBe(g.id['acme/3']);
    // JSON log lines when not on a terminal.
    expect(resumed2.err.trim().split('\n').every((l) => l.startsWith('{'))).toBe(true);
  });
});
