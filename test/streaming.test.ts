// Streaming Bronze with the real @azure/event-hubs client against the local endpoint: poison events, contract
// validation shared with batch ingestion, exactly once across a SIGKILL (injected between data and checkpoint, and
// from outside at an arbitrary moment), SIGTERM draining, and idempotent re-runs.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import type { Lake } from '../src/lake/lake.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { POISON_DIR } from '../src/streaming/batch-writer.ts';
import { readCheckpoint } from '../src/streaming/checkpoint.ts';
import { producerFor } from '../src/streaming/connect.ts';
import { runStream } from '../src/streaming/consumer.ts';
import { decodeEvent } from '../src/streaming/decode.ts';
import { writeBehavioralDrop } from './fixtures/behavioral-drop.ts';
import { startHub, type LocalHub } from '../src/streaming/hub/local-hub.ts';
import { replayDrop } from '../src/streaming/replay.ts';
import { bronzeStreamJob } from '../jobs/bronze-stream.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { CONTRACTS } from '../schemas/index.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { generateSample } from '../src/sample/generate.ts';

const ROOT = join(import.meta.dirname, '..');
const TABLE = 'CUSTOMER_BEHAVIORAL_EVENTS';
const silent = createLogger({ silent: true });
let hub: LocalHub;
let dir: string;

beforeAll(async () => {
  hub = await startHub({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), 'c360-streaming-'));
});
afterAll(async () => {
  await hub?.close();
  await rm(dir, { recursive: true, force: true });
});

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const e = await Engine.open();
  try {
    return await e.all<T>(sql);
  } finally {
    e.close();
  }
}

/** EVENT_IDs in Bronze and table quarantine of a lake: total and distinct. */
async function eventIds(lakeRoot: string): Promise<{ bronze: number; quarantine: number; total: number; distinct: number }> {
  const lake = new LocalLake(lakeRoot);
  const files = async (p: string) => (await lake.list(p)).filter((f) => f.path.endsWith('.parquet')).map((f) => join(lakeRoot, f.path));
  const b = await files('bronze/customer360/behavioral');
  const q = await files('quarantine/customer360/behavioral');
  const sel = (fs: string[], tag: string) => (fs.length ? `SELECT EVENT_ID, '${tag}' AS k FROM read_parquet(${litList(fs)}, union_by_name = true)` : `SELECT NULL::VARCHAR AS EVENT_ID, '${tag}' AS k WHERE false`);
  const [r] = await query<{ bronze: number; quarantine: number; total: number; distinct: number }>(
    `SELECT count(*) FILTER (WHERE k = 'b')::INTEGER AS bronze, count(*) FILTER (WHERE k = 'q')::INTEGER AS quarantine, count(*)::INTEGER AS total, count(DISTINCT EVENT_ID)::INTEGER AS distinct FROM (${sel(b, 'b')} UNION ALL ${sel(q, 'q')})`,
  );
  return r!;
}

function cli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exit, stderr: () => stderr };
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error('condition not reached in time');
}

describe('decodeEvent', () => {
  const at = { sequenceNumber: 7, offset: '700', enqueuedTimeUtc: new Date('2026-01-02T03:04:05Z') };
  it('keeps a JSON record of a known table with its position', () => {
    const d = decodeEvent('1', { ...at, body: Buffer.from('{"EVENT_ID":"E1",\n"X":1}'), properties: { table: 'behavioral' } });
    expect(d.kind).toBe('record');
    if (d.kind !== 'record') return;
    expect(d.contract.name).toBe(TABLE);
    expect(d.keys).toEqual(['EVENT_ID', 'X']);
    expect(d.json).not.toContain('\n');
    expect([d.partitionId, d.sequenceNumber, d.offset]).toEqual(['1', 7, '700']);
  });
  it('with deferParse leaves one-line braced bodies unparsed and parses the rest', () => {
    const kind = (body: string, table = TABLE) => decodeEvent('0', { ...at, body: Buffer.from(body), properties: { table } }, { deferParse: true });
    const d = kind('  {"EVENT_ID":"E1"} ');
    expect(d.kind).toBe('unparsed');
    if (d.kind === 'unparsed') expect([d.raw.toString(), d.empty, d.bytes]).toEqual(['{"EVENT_ID":"E1"} ', false, 20]);
    const e = kind('{ }');
    expect(e.kind === 'unparsed' && e.empty).toBe(true);
    expect(kind('{"EVENT_ID":"E1",\n"X":1}').kind).toBe('record');
    expect(kind('not json').kind).toBe('poison');
    expect(kind('{"a":1}', 'NO_SUCH_TABLE').kind).toBe('poison');
  });
  it('names every poison reason', () => {
    const poison = (body: unknown, table?: string, max?: number) => {
      const d = decodeEvent('0', { ...at, body, properties: table ? { table } : {} }, { maxRecordBytes: max });
      return d.kind === 'poison' ? d.reasons : [];
    };
    expect(poison(Buffer.from('not json'), TABLE)).toEqual(['_RECORD:NOT_JSON']);
    expect(poison(Buffer.from('[1,2]'), TABLE)).toEqual(['_RECORD:NOT_JSON']);
    expect(poison(Buffer.from('{"a":1}'), 'NO_SUCH_TABLE')).toEqual(['_RECORD:UNKNOWN_TABLE']);
    expect(poison(Buffer.from('{"a":1}'))).toEqual(['_RECORD:UNKNOWN_TABLE']);
    expect(poison(Buffer.from(`{"a":"${'x'.repeat(200)}"}`), TABLE, 100)).toEqual(['_RECORD:OVERSIZED']);
  });
});

describe('streaming Bronze through the real client', () => {
  it('validates with the contract, quarantines poison with positions, and is idempotent on re-run', async () => {
    const name = 'poison';
    const drop = join(dir, 'poison.parquet');
    await writeBehavioralDrop(drop, { rows: 400, invalidEvery: 20 });
    const target = { hub: name, connectionString: hub.connectionString };
    const producer = await producerFor(target);
    await replayDrop(producer, TABLE, drop);
    // Poison: not JSON, unknown table, oversized, plus one record with a wrong type (validated -> table quarantine).
    await producer.sendBatch(
      [
        { body: Buffer.from('{oops'), properties: { table: TABLE } },
        { body: Buffer.from('{"EVENT_ID":"X1"}'), properties: { table: 'NOPE' } },
        { body: Buffer.from(JSON.stringify({ EVENT_ID: 'BIG', PAGE_TITLE: 'x'.repeat(70_000) })), properties: { table: TABLE } },
        { body: Buffer.from(JSON.stringify({ EVENT_ID: 'WT1', SESSION_ID: 'S1', EVENT_DATE: '2026-01-01 00:00:00', TIME_ON_PAGE: 'abc' })), properties: { table: TABLE } },
        // Braced but not JSON: spooled unparsed on receipt, found by DuckDB at commit.
        { body: Buffer.from('{"EVENT_ID":"E9", oops}'), properties: { table: TABLE } },
      ],
      { partitionId: '1' },
    );
    await producer.close();
    const home = join(dir, 'home-poison');
    const lake = new LocalLake(join(home, 'lake'));
    const opts = { target, lake, loadId: 'load-1', log: silent, openEngine: () => Engine.open(), tmpDir: join(home, 'tmp'), untilIdleSeconds: 0.5, maxRows: 100, maxRecordBytes: 64 * 1024 };
    // A 64 KiB limit here (the default is Event Hubs' 1 MiB) makes the 70 KB event the oversized one.
    const r = await runStream(opts);
    expect(r.events).toBe(405);
    expect(r.rowCounts[`${TABLE}.bronze`]).toBe(380);
    expect(r.rowCounts[`${TABLE}.quarantine`]).toBe(21);
    expect(r.rowCounts['_events.quarantine']).toBe(4);
    const ids = await eventIds(join(home, 'lake'));
    expect(ids).toMatchObject({ bronze: 380, quarantine: 21, total: 401, distinct: 401 });
    const wrongType = await query<{ reasons: string[]; pos: string }>(
      `SELECT _reasons AS reasons, _source_position AS pos FROM read_parquet('${join(home, 'lake', 'quarantine/customer360/behavioral')}/**/*.parquet', union_by_name = true) WHERE EVENT_ID = 'WT1'`,
    );
    expect(wrongType[0]!.reasons).toContain('TIME_ON_PAGE:TYPE');
    expect(wrongType[0]!.pos).toMatch(/^partition=1\/offset=\d+\/sequence=\d+$/);
    const poison = await query<{ t: string | null; reasons: string[]; p: string; seq: number; body: string }>(
      `SELECT _table AS t, _reasons AS reasons, _partition_id AS p, _sequence_number::INTEGER AS seq, _body AS body FROM read_parquet('${join(home, 'lake', POISON_DIR)}/**/*.parquet') ORDER BY seq`,
    );
    expect(poison.map((x) => [x.t, x.reasons.join(','), x.p])).toEqual([
      [TABLE, '_RECORD:NOT_JSON', '1'],
      ['NOPE', '_RECORD:UNKNOWN_TABLE', '1'],
      [TABLE, '_RECORD:OVERSIZED', '1'],
      [TABLE, '_RECORD:NOT_JSON', '1'],
    ]);
    expect(poison[3]!.body).toBe('{"EVENT_ID":"E9", oops}');
    // The partition kept going past the poison: its checkpoint is its last event.
    const counts = hub.partitionCounts(name);
    for (const [p, n] of counts.entries()) expect((await readCheckpoint(lake, name, '$Default', String(p)))?.sequenceNumber).toBe(n - 1);
    // A second run finds nothing new: no files, no rows.
    const again = await runStream({ ...opts, loadId: 'load-2', untilIdleSeconds: 0.5 });
    expect(again.events).toBe(0);
    expect(again.outputs).toEqual([]);
    expect(await eventIds(join(home, 'lake'))).toEqual(ids);
  });

  it('is exactly once across SIGKILL between data and checkpoint and at an arbitrary moment', async () => {
    const name = 'crash';
    const drop = join(dir, 'crash.parquet');
    const sent = 1500;
    await writeBehavioralDrop(drop, { rows: sent, invalidEvery: 50 });
    const producer = await producerFor({ hub: name, connectionString: hub.connectionString });
    await replayDrop(producer, TABLE, drop);
    await producer.close();
    const home = join(dir, 'home-crash');
    const args = ['stream', '--hub', name, '--connection-string', hub.connectionString, '--home', home, '--max-rows', '80', '--json'];

    // 1. Killed right after the 3rd data file is committed, before that batch's checkpoint.
    const first = cli([...args, '--until-idle', '30'], { C360_STREAM_KILL_AFTER_FILES: '3' });
    const r1 = await first.exit;
    expect(r1.signal, r1.stderr).toBe('SIGKILL');
    const afterFirst = await eventIds(join(home, 'lake'));
    expect(afterFirst.total).toBeGreaterThan(0);
    expect(afterFirst.total).toBeLessThan(sent);

    // 2. Resumed, then killed from outside once more data has landed.
    const second = cli([...args, '--until-idle', '30']);
    await waitFor(async () => (await eventIds(join(home, 'lake'))).total > afterFirst.total + 150, 60_000);
    second.child.kill('SIGKILL');
    expect((await second.exit).signal).toBe('SIGKILL');

    // 3. Resumed until idle: everything once.
    const third = cli([...args, '--until-idle', '1']);
    const r3 = await third.exit;
    expect(r3.code, r3.stderr).toBe(0);
    const ids = await eventIds(join(home, 'lake'));
    expect(ids.distinct).toBe(sent);
    expect(ids.total).toBe(sent);
    expect(ids.quarantine).toBe(sent / 50);
  });

  it('stops at a failed lake write without moving the checkpoint past it, and resumes exactly once', async () => {
    const name = 'failing';
    const drop = join(dir, 'failing.parquet');
    await writeBehavioralDrop(drop, { rows: 600 });
    const target = { hub: name, connectionString: hub.connectionString };
    const producer = await producerFor(target);
    await replayDrop(producer, TABLE, drop);
    await producer.close();
    const home = join(dir, 'home-failing');
    const real = new LocalLake(join(home, 'lake'));
    let puts = 0;
    const failing: Lake = {
      location: real.location,
      list: (p) => real.list(p),
      exists: (p) => real.exists(p),
      read: (p) => real.read(p),
      write: (p, d) => real.write(p, d),
      localPath: (p) => real.localPath(p),
      delete: (p) => real.delete(p),
      putFile: async (f, p) => {
        if (++puts === 4) throw new Error('disk full');
        return real.putFile(f, p);
      },
    };
    const opts = { target, loadId: 'f-1', log: silent, openEngine: () => Engine.open(), tmpDir: join(home, 'tmp'), untilIdleSeconds: 1, maxRows: 50 };
    await expect(runStream({ ...opts, lake: failing })).rejects.toThrow(/Streaming commit failed: disk full/);
    const partial = await eventIds(join(home, 'lake'));
    expect(partial.total).toBeLessThan(600);
    await runStream({ ...opts, lake: real, loadId: 'f-2' });
    expect(await eventIds(join(home, 'lake'))).toMatchObject({ total: 600, distinct: 600 });
  });

  it('drains and commits buffered events on SIGTERM', async () => {
    const name = 'drain';
    const drop = join(dir, 'drain.parquet');
    await writeBehavioralDrop(drop, { rows: 500 });
    const producer = await producerFor({ hub: name, connectionString: hub.connectionString });
    await replayDrop(producer, TABLE, drop);
    await producer.close();
    const home = join(dir, 'home-drain');
    // Nothing rolls on its own (huge limits), so whatever is in Bronze after SIGTERM was committed by the drain.
    const run = cli(['stream', '--hub', name, '--connection-string', hub.connectionString, '--home', home, '--max-rows', '1000000', '--max-age', '3600', '--json']);
    await waitFor(async () => run.stderr().includes('"msg":"streaming"'), 30_000);
    await new Promise((r) => setTimeout(r, 2500));
    expect(await eventIds(join(home, 'lake'))).toMatchObject({ total: 0 });
    run.child.kill('SIGTERM');
    const r = await run.exit;
    expect(r.code, r.stderr).toBe(0);
    expect(await eventIds(join(home, 'lake'))).toMatchObject({ bronze: 500, distinct: 500 });
  });

  it('runs the sample\'s streaming tables end to end (c360 run --stream) with the same outcome as batch ingestion', async () => {
    const sample = join(dir, 'sample');
    await generateSample({ customers: 120, days: 20, seed: 7, out: sample, log: silent });
    const home = join(dir, 'home-sample');
    const lake = new LocalLake(join(home, 'lake'));
    const ctx = makeJobContext({ home, lake, log: silent, runId: 'r1', loadId: 'r1', runDate: '2026-11-01', params: { input: sample } });
    await bronzeStreamJob.run(ctx);
    // Batch ingestion of the same drops into another lake: the contract code is shared, so the outcome must match.
    const batchLake = new LocalLake(join(dir, 'home-sample-batch', 'lake'));
    const engine = await Engine.open();
    try {
      const streaming = CONTRACTS.filter((c) => c.streaming);
      expect(streaming.length).toBeGreaterThan(2);
      for (const c of streaming) {
        const b = await ingestRelation(engine, batchLake, { table: c.name, source: { file: join(sample, `${c.name}.parquet`) }, loadId: 'batch', ingestDate: '2026-11-01' });
        expect(ctx.report.rowCounts[`${c.name}.sent`], c.name).toBe(b.inputRows);
        expect(ctx.report.rowCounts[`${c.name}.bronze`] ?? 0, c.name).toBe(b.bronzeRows);
        expect(ctx.report.rowCounts[`${c.name}.quarantine`] ?? 0, c.name).toBe(b.quarantineRows);
      }
    } finally {
      engine.close();
    }
    const ids = await eventIds(join(home, 'lake'));
    expect(ids.total).toBeGreaterThan(0);
    expect(ids.distinct).toBe(ids.total);
  });
});
