// The profile API serving the lake's latest Gold snapshot (as the Container App does): a new as-of date landing is
// picked up and swapped in while requests keep coming, every answer is wholly from the old or wholly from the new
// snapshot, requests are answered during the load, an unchanged lake loads nothing, and a broken new snapshot is
// refused while the current one keeps serving.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDataset } from '../src/catalogue/index.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { startServer, type RunningServer } from '../src/serving/serve.ts';
import { MEMORY_DIR, memoryRoom } from '../src/serving/snapshot-dir.ts';
import { AS_OF, writeScenarioSilver } from './fixtures/gold-scenario.ts';
import { runGoldCustomer, writeServeScenario } from './fixtures/serve-scenario.ts';

const KEY = 'lake-test-key-0123456789';
const LATER = '2026-04-30';

let home: string;
let lake: LocalLake;
let server: RunningServer;

async function revenue(asOf: string, id: string): Promise<number> {
  const e = await Engine.open();
  try {
    const files = (await lake.list(`${getDataset('customer_profile').path}/as_of_date=${asOf}`)).map((f) => join(home, 'lake', f.path));
    return Number(await e.scalar(`SELECT CAST(TOTAL_REVENUE AS DOUBLE) FROM read_parquet(${litList(files)}) WHERE CUSTOMER360_ID = '${id}'`));
  } finally {
    e.close();
  }
}

/** Whether a process has ended (gone, or a zombie: killed, not yet reaped) within 5 s. */
async function ended(pid: number): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
    if (stat === null || stat.split(') ')[1]!.startsWith('Z')) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

async function get(path: string) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-serve-lake-'));
  lake = new LocalLake(join(home, 'lake'));
  await writeServeScenario(home, lake, [AS_OF]);
  server = await startServer({
    lake, source: { kind: 'lake' }, apiKeys: [{ key: KEY, role: 'agent', name: 'crm' }],
    port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: null, pollSeconds: 0,
    snapshotDir: join(home, 'serve'), log: silentLogger,
    // a nice value, not SCHED_IDLE: a test suite loads the machine, and an idle-class build would get no CPU at all
    buildPriority: 10,
  });
  expect(await server.ready).toBe(true);
});

afterAll(async () => {
  await server?.close();
  await rm(home, { recursive: true, force: true });
});

describe('serving the lake', () => {
  it('serves the latest complete as-of date of the lake, with its scores', async () => {
    const h = await get('/health');
    expect(h.body.snapshot).toMatchObject({ asOf: AS_OF, customers: 3 });
    expect(h.body.snapshot.source).toContain(`as_of_date=${AS_OF}`);
    const p = await get('/customer/profile/source:CRM/C2?fields=TOTAL_REVENUE,CHURN_RISK');
    expect(p.body).toEqual({ CUSTOMER360_ID: 'P2', AS_OF_DATE: AS_OF, TOTAL_REVENUE: await revenue(AS_OF, 'P2'), CHURN_RISK: 0.7 });
  });

  it('an unchanged lake loads nothing', async () => {
    const swaps = server.store.swaps;
    expect(await server.store.refresh()).toBe(false);
    expect(server.store.swaps).toBe(swaps);
  });

  it('a new as-of date is swapped in under load: every answer wholly old or wholly new, answers during the load', async () => {
    const scratch = await Engine.open();
    try {
      await writeScenarioSilver(scratch, lake, join(home, 'tmp'), { later: true });
    } finally {
      scratch.close();
    }
    await runGoldCustomer(home, lake, LATER);
    const expected: Record<string, number> = { [AS_OF]: await revenue(AS_OF, 'P2'), [LATER]: await revenue(LATER, 'P2') };
    expect(expected[LATER]).not.toBe(expected[AS_OF]);
    const seen: { asOf: string; revenue: number; status: number; during: boolean }[] = [];
    let loading = true;
    let stop = false;
    const load = (async () => {
      while (!stop) {
        const r = await get('/customer/profile/c360:P2?fields=TOTAL_REVENUE,IDENTIFIERS');
        seen.push({ asOf: r.body.AS_OF_DATE, revenue: r.body.TOTAL_REVENUE, status: r.status, during: loading });
      }
    })();
    const forks = server.store.buildCounts!;
    const swapped = server.store.refresh();
    expect(await swapped).toBe(true);
    loading = false;
    // the server forked its first build and the build host before it served; this build the host forked
    expect(forks.forkedHere).toBe(2);
    expect(server.store.buildCounts).toMatchObject({ forkedHere: 2, forkedByHost: forks.forkedByHost + 1 });
    // the first snapshot's files on disk; this one's in memory, where this machine's memory file system has room
    const room = await memoryRoom(MEMORY_DIR);
    const inMemory = room.free !== null && room.free > 2 ** 30 && room.available > 3 * 2 ** 30;
    expect(dirname(server.store.current!.file)).toBe(inMemory ? MEMORY_DIR : join(home, 'serve'));
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await load;
    expect(seen.every((s) => s.status === 200)).toBe(true);
    for (const s of seen) expect([s.asOf, s.revenue]).toEqual([s.asOf, expected[s.asOf]]);
    expect(seen.filter((s) => s.during).length).toBeGreaterThan(0);
    expect(seen.at(-1)!.asOf).toBe(LATER);
    // once the new snapshot answered, no later answer came from the old one
    const firstNew = seen.findIndex((s) => s.asOf === LATER);
    expect(seen.slice(firstNew).every((s) => s.asOf === LATER)).toBe(true);
    expect((await get('/health')).body.snapshot.asOf).toBe(LATER);
    // the older date stays reachable as a past snapshot
    expect((await get(`/customer/profile/c360:P2?asOf=${AS_OF}&fields=TOTAL_REVENUE`)).body.TOTAL_REVENUE).toBe(expected[AS_OF]);
  });

  it('a server stopped while its build host builds beside a serving snapshot ends that build and keeps none of its files', async () => {
    const dir = join(home, 'serve-stopped-beside');
    const other = await startServer({
      lake, source: { kind: 'lake' }, apiKeys: [{ key: KEY, role: 'agent', name: 'crm' }],
      port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: null, pollSeconds: 0, snapshotDir: dir, log: silentLogger, buildPriority: 10,
      memoryDir: null, // every build in dir, watched below
    });
    expect(await other.ready).toBe(true);
    const serving = await readdir(dir);
    const reload = other.store.reload(); // the same source: a build all the same, forked by the host
    while ((await readdir(dir)).every((f) => serving.includes(f))) await new Promise((r) => setTimeout(r, 20));
    const counts = other.store.buildCounts!;
    expect(counts).toMatchObject({ forkedHere: 2, forkedByHost: 1 });
    await other.close();
    expect(await reload).toBe(false);
    expect(other.store.lastError).toMatch(/ended \(SIGKILL\)/);
    expect(await ended(counts.lastBuildPid)).toBe(true); // the build process is gone
    // the new build's files were removed (the retired snapshot's go once it closes)
    expect((await readdir(dir)).filter((f) => !serving.includes(f))).toEqual([]);
  });

  it('a broken new snapshot is refused and the current one keeps serving', async () => {
    for (const ds of ['customer_profile', 'customer_identity_map']) {
      await lake.write(`${getDataset(ds).path}/as_of_date=2026-05-31/part-00000.parquet`, Buffer.from('not parquet at all'));
    }
    expect(await server.store.refresh()).toBe(false);
    const h = await get('/health');
    expect(h.body.snapshot.asOf).toBe(LATER);
    expect(h.body.lastError).toMatch(/parquet|magic|No magic bytes/i);
    expect((await get('/customer/profile/c360:P1?fields=FIRST_NAME')).body.FIRST_NAME).toBe('Ann');
  });

  it('a server stopped while a snapshot builds ends the build process and keeps none of its files', async () => {
    const dir = join(home, 'serve-stopped');
    const other = await startServer({
      lake, source: { kind: 'lake' }, apiKeys: [{ key: KEY, role: 'agent', name: 'crm' }],
      port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: null, pollSeconds: 0, snapshotDir: dir, log: silentLogger,
    });
    // the build process has started once its database file exists
    while ((await readdir(dir).catch(() => [])).length === 0) await new Promise((r) => setTimeout(r, 20));
    await other.close();
    expect(await other.ready).toBe(false);
    expect(other.store.lastError).toMatch(/ended \(SIGKILL\)/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('C360_SERVE_SNAPSHOT_DIR puts the snapshot files where it says, whatever the caller chose (a memory file system)', async () => {
    const chosen = join(home, 'serve-env');
    const given = join(home, 'serve-given');
    process.env.C360_SERVE_SNAPSHOT_DIR = chosen;
    let other: Awaited<ReturnType<typeof startServer>>;
    try {
      other = await startServer({
        lake, source: { kind: 'lake' }, apiKeys: [{ key: KEY, role: 'agent', name: 'crm' }],
        port: 0, host: '127.0.0.1', rateLimit: { perSecond: 0 }, auditLog: null, pollSeconds: 0, snapshotDir: given, log: silentLogger,
      });
    } finally {
      delete process.env.C360_SERVE_SNAPSHOT_DIR;
    }
    try {
      // the folder is made before the build starts (the lake's newest date may be the broken one above: the build
      // need not succeed for the folder to show where the files go)
      await other.ready;
      expect(existsSync(chosen)).toBe(true);
      expect(existsSync(given)).toBe(false);
    } finally {
      await other.close();
    }
  });
});
