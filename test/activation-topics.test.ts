// Topics with the real @azure/event-hubs client against the local AMQP endpoint: the profile change feed on
// c360-updated-profiles and audience events on c360-activation-events, schema-valid, one customer's events in one
// partition in order, and each event id on the topic once per change even when the activator dies after a send and
// before recording it.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventHubConsumerClient, earliestEventPosition, type ReceivedEventData } from '@azure/event-hubs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAudiences } from '../src/activation/audience-file.ts';
import { runAudiences } from '../src/activation/audiences.ts';
import { CURSOR_DIR } from '../src/activation/cursor.ts';
import { activate } from '../src/activation/deliver.ts';
import { ACTIVATION_TOPIC, AUDIENCE_EVENT_SCHEMA, PROFILE_EVENT_SCHEMA, PROFILE_TOPIC } from '../src/activation/event-schemas.ts';
import { commitProfileChanges } from '../src/activation/profile-changes.ts';
import { Engine } from '../src/engine/duckdb.ts';
import type { Lake } from '../src/lake/lake.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';
import { writeProfile } from './fixtures/profile-fixture.ts';

let hub: LocalHub;
let home: string;
let lake: LocalLake;
let engine: Engine;
let audDir: string;
const id = (i: number) => `C${String(i).padStart(3, '0')}`;

type Received = ReceivedEventData & { partition: string };

async function readAll(name: string): Promise<Received[]> {
  const client = new EventHubConsumerClient('$Default', hub.connectionString, name);
  try {
    const out: Received[] = [];
    for (const p of await client.getPartitionIds()) {
      const props = await client.getPartitionProperties(p);
      if (props.isEmpty) continue;
      await new Promise<void>((resolve, reject) => {
        const sub = client.subscribe(p, {
          processEvents: async (events) => {
            out.push(...events.map((e) => Object.assign(e, { partition: p })));
            if (events.some((e) => e.sequenceNumber >= props.lastEnqueuedSequenceNumber)) await sub.close().then(resolve);
          },
          processError: async (e) => reject(e),
        }, { startPosition: earliestEventPosition, maxBatchSize: 500, maxWaitTimeInSeconds: 1 });
      });
    }
    return out;
  } finally {
    await client.close();
  }
}

async function day(asOf: string, n: number, orders: (i: number) => number) {
  await writeProfile(engine, lake, home, asOf, Array.from({ length: n }, (_, i) => ({ CUSTOMER360_ID: id(i), FIRST_NAME: `N${i}`, EMAIL_ADDRESS: `p${i}@x.com`, TOTAL_ORDERS: orders(i) })));
  await commitProfileChanges(engine, lake, { asOf, runId: `r-${asOf}`, tmpDir: join(home, 'tmp') });
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: `r-${asOf}`, loadId: 'l', runDate: asOf, asOf, params: {} });
  await runAudiences(ctx, engine, (await loadAudiences(audDir))!, { asOf });
}

async function activateWith(l: Lake) {
  const ctx = makeJobContext({ home, lake: l, log: silentLogger, runId: 'a', loadId: 'a', runDate: '2026-03-01', params: {} });
  return activate(ctx, engine, (await loadAudiences(audDir))!, { eventHubs: { connectionString: hub.connectionString } });
}

beforeAll(async () => {
  hub = await startHub({ port: 0, partitions: 4 });
  home = await mkdtemp(join(tmpdir(), 'c360-topics-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  audDir = join(home, 'audiences');
  await mkdir(audDir);
  await writeFile(join(audDir, 'big.yaml'), 'name: big\nfilter: TOTAL_ORDERS >= 5\nattributes: [TOTAL_ORDERS]\ndestinations:\n  - type: topic\n    purpose: service\n');
});
afterAll(async () => {
  engine?.close();
  await hub?.close();
  await rm(home, { recursive: true, force: true });
});

describe('activation topics', () => {
  it('publishes profile changes and audience events, schema-valid, keyed and ordered by customer', async () => {
    await day('2026-03-01', 300, (i) => i % 7);
    await day('2026-03-02', 300, (i) => (i < 30 ? 9 : i % 7));
    await activateWith(lake);
    const profile = await readAll(PROFILE_TOPIC);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validProfile = ajv.compile(PROFILE_EVENT_SCHEMA);
    const validAudience = ajv.compile(AUDIENCE_EVENT_SCHEMA);
    const bodies = profile.map((e) => e.body as { eventId: string; customer360Id: string; batch: number; type: string });
    for (const b of bodies) expect(validProfile(b), JSON.stringify(validProfile.errors)).toBe(true);
    // 300 created in batch 1; batch 2 updates the 30 whose orders changed (i % 7 !== 9 for all i < 30).
    expect(bodies.filter((b) => b.batch === 1).length).toBe(300);
    expect(bodies.filter((b) => b.batch === 2).map((b) => b.customer360Id).sort()).toEqual(Array.from({ length: 30 }, (_, i) => id(i)));
    expect(new Set(bodies.map((b) => b.eventId)).size).toBe(bodies.length);
    expect(profile.every((e) => e.properties?.eventId === (e.body as { eventId: string }).eventId)).toBe(true);
    // One customer, one partition; in it, batch 1 before batch 2.
    const partitionOf = new Map<string, Set<string>>();
    for (const e of profile) {
      const c = (e.body as { customer360Id: string }).customer360Id;
      partitionOf.set(c, (partitionOf.get(c) ?? new Set()).add(e.partition));
    }
    expect([...partitionOf.values()].every((ps) => ps.size === 1)).toBe(true);
    expect(new Set(profile.map((e) => e.partition)).size).toBe(4);
    expect(profile.every((e) => e.properties?.customer360Id === (e.body as { customer360Id: string }).customer360Id)).toBe(true);
    const c0 = profile.filter((e) => (e.body as { customer360Id: string }).customer360Id === id(0)).map((e) => (e.body as { batch: number }).batch);
    expect(c0).toEqual([1, 2]);
    const audience = (await readAll(ACTIVATION_TOPIC)).map((e) => e.body as { type: string; customer360Id: string; attributes?: Record<string, unknown> });
    for (const b of audience) expect(validAudience(b), JSON.stringify(validAudience.errors)).toBe(true);
    // i % 7 >= 5 enter on day 1 (86 people); day 2: the i < 30 with orders 9 not yet in enter (22).
    const entered = audience.filter((b) => b.type === 'audience.entered');
    expect(entered.length).toBe(Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 7 >= 5).length + Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 7 < 5).length);
    expect(entered.every((b) => Number(b.attributes?.TOTAL_ORDERS) >= 5)).toBe(true);
  });

  it('a crash after a send and before the cursor records it sends no event id twice', async () => {
    await day('2026-03-03', 300, (i) => (i < 60 ? 11 : i % 7));
    const before = (await readAll(PROFILE_TOPIC)).length;
    let killed = false;
    const dying: Lake = Object.create(lake, {
      write: {
        value: async (path: string, data: string) => {
          // The save after the send (no pending marker) never happens: the process "died" there.
          if (!killed && path.startsWith(CURSOR_DIR) && path.includes(PROFILE_TOPIC) && !String(data).includes('pending')) {
            killed = true;
            throw new Error('killed after send');
          }
          return lake.write(path, data);
        },
      },
    });
    await expect(activateWith(dying)).rejects.toThrow('killed after send');
    const afterCrash = (await readAll(PROFILE_TOPIC)).length;
    expect(afterCrash - before).toBe(60);
    await activateWith(lake);
    const all = (await readAll(PROFILE_TOPIC)).map((e) => (e.body as { eventId: string }).eventId);
    expect(all.length - before).toBe(60);
    expect(new Set(all).size).toBe(all.length);
    await activateWith(lake);
    expect((await readAll(PROFILE_TOPIC)).length).toBe(all.length);
  });
});
