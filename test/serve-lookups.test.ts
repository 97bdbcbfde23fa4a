// The serving snapshot's lookup structures against plain JavaScript: sorted keys read from DuckDB find exactly the
// rows a Map would (repeated keys, non-ASCII, keys that are prefixes of others), refuse keys out of order; the body
// file gives back each person's line byte for byte, whatever the id holds and however long the line, and stores them
// compressed.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ProfileBodies } from '../src/serving/bodies.ts';
import { besideBuildCpus } from '../src/serving/snapshot-builder.ts';
import { chooseDir, expectedBytes, MEMORY_DIR, memoryRoom, removeLeftovers } from '../src/serving/snapshot-dir.ts';
import { SortedKeys } from '../src/serving/sorted-keys.ts';

let dir: string;
let db: DuckDBInstance;
let c: DuckDBConnection;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-lookups-'));
  db = await DuckDBInstance.create(':memory:');
  c = await db.connect();
});
afterAll(async () => {
  c.closeSync();
  db.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

it('sorted keys find every row of a key, and nothing for keys not there', async () => {
  const keys = ['ann@example.com', 'ann@example.co', 'Zed', 'zed', 'émile@x.fr', 'ø', '😀', 'a', 'ab', 'abc', 'same', 'same', 'same', '+16175550101', 'CRM/C-1', 'CRM/C-1/2'];
  // 5,000 more, so the search runs over many chunks
  for (let i = 0; i < 5000; i++) keys.push(`person${(i * 7919) % 5000}@example.com`);
  await c.run(`CREATE TABLE k AS SELECT * FROM (VALUES ${keys.map((k, i) => `(${lit(k)}, ${i})`).join(', ')}, (NULL, 99999)) t(k, r)`);
  const index = await SortedKeys.fromQuery(c, 'SELECT k, r FROM k ORDER BY k, r');
  expect(index.size).toBe(keys.length);
  const expected = new Map<string, number[]>();
  keys.forEach((k, i) => expected.set(k, [...(expected.get(k) ?? []), i]));
  for (const [k, rows] of expected) expect([k, index.rows(k)]).toEqual([k, rows]);
  for (const absent of ['', 'ann@example.c', 'ann@example.comm', 'ZED', 'sam', 'samee', 'person5000@example.com', '\u0000', '😀😀']) {
    expect([absent, index.rows(absent)]).toEqual([absent, []]);
  }
});

it('sorted keys refuse a query that is not in byte order (a silent miss otherwise)', async () => {
  await expect(SortedKeys.fromQuery(c, "SELECT * FROM (VALUES ('b', 1), ('a', 2)) t(k, r)")).rejects.toThrow(/not in byte order at 'a'/);
});

it('profile bodies: each line back byte for byte, ids with quotes, backslashes and non-ASCII, lines longer than a read, batches', async () => {
  const ids = ['A"1', 'B\\2', 'C-3', 'Déjà-4', 'E-5', 'F-6'];
  const notes = ['x', 'y"\n', 'z'.repeat(50_000), '', 'ü', 'last'];
  const all = `SELECT * FROM (VALUES ${ids.map((id, i) => `(${lit(id)}, ${lit(notes[i]!)}, ${i})`).join(', ')}) t("CUSTOMER360_ID", "NOTE", "N")`;
  // two batches, as the snapshot writes them: ids in byte order across the files
  const select = [`SELECT * FROM (${all}) WHERE "CUSTOMER360_ID" < 'D' ORDER BY 1`, `SELECT * FROM (${all}) WHERE "CUSTOMER360_ID" >= 'D' ORDER BY 1`];
  const bodies = await ProfileBodies.write(c, select, join(dir, 'b'), ids.length, 4096);
  try {
    const sorted = [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const id of ids) {
      const row = bodies.rowOf(id);
      expect([id, row]).toEqual([id, sorted.indexOf(id)]);
      const i = ids.indexOf(id);
      expect(JSON.parse((await bodies.body(row!)).toString('utf8'))).toEqual({ CUSTOMER360_ID: id, NOTE: notes[i], N: i });
    }
    expect(bodies.rowOf('C-33')).toBeUndefined();
    expect(bodies.files.length).toBe(2);
    expect((await readdir(dir)).filter((f) => f.endsWith('.json'))).toEqual([]); // the temporary JSON is deleted
    await expect(ProfileBodies.write(c, select, join(dir, 'c'), ids.length + 1)).rejects.toThrow(/6 lines for 7 people/);
    await expect(ProfileBodies.write(c, [...select].reverse(), join(dir, 'd'), ids.length)).rejects.toThrow(/not unique and in byte order/);
  } finally {
    bodies.close();
  }
});

it('profile bodies are stored compressed: profiles sharing their field names take a fraction of their JSON on disk', async () => {
  // 3,000 profile-like rows: the same 40 field names, values that differ person by person
  const cols = Array.from({ length: 40 }, (_, j) => `'v' || (i * ${j + 7}) % 1009 AS "FIELD_NUMBER_${j}_OF_THE_PROFILE"`).join(', ');
  const select = `SELECT printf('P-%06d', i) AS "CUSTOMER360_ID", ${cols} FROM range(3000) t(i) ORDER BY 1`;
  const bodies = await ProfileBodies.write(c, [select], join(dir, 'z'), 3000);
  try {
    let json = 0;
    for (let row = 0; row < 3000; row++) {
      const body = await bodies.body(row);
      expect(JSON.parse(body.toString('utf8')).CUSTOMER360_ID).toBe(`P-${String(row).padStart(6, '0')}`);
      json += body.length;
    }
    const disk = (await stat(bodies.files[0]!)).size;
    expect(disk).toBeLessThan(json / 4);
  } finally {
    bodies.close();
  }
});

it('a build beside a serving snapshot is kept off the first CPU; C360_SERVE_BUILD_CPUS chooses the CPUs', () => {
  const saved = process.env.C360_SERVE_BUILD_CPUS;
  try {
    delete process.env.C360_SERVE_BUILD_CPUS;
    const cpus = besideBuildCpus();
    if (availableParallelism() >= 2 && existsSync('/usr/bin/taskset')) expect(cpus).toMatch(/^1(-\d+)?$/);
    else expect(cpus).toBeNull();
    process.env.C360_SERVE_BUILD_CPUS = 'all';
    expect(besideBuildCpus()).toBeNull();
    process.env.C360_SERVE_BUILD_CPUS = '0,2-3';
    expect(besideBuildCpus()).toBe('0,2-3');
    process.env.C360_SERVE_BUILD_CPUS = '1; rm -rf /'; // not a CPU list: all CPUs, nothing passed on
    expect(besideBuildCpus()).toBeNull();
  } finally {
    if (saved === undefined) delete process.env.C360_SERVE_BUILD_CPUS;
    else process.env.C360_SERVE_BUILD_CPUS = saved;
  }
});

it('a build beside a serving snapshot goes to memory only when the memory file system and the machine have room for it', () => {
  const gib = 1024 ** 3;
  const need = expectedBytes(1.25 * gib); // a million people: ~1.25 GB of files
  expect(need).toBeGreaterThan(1.25 * gib * 1.25);
  expect(chooseDir(need, { free: 20 * gib, available: 20 * gib }, 'MEM', 'DISK')).toBe('MEM');
  expect(chooseDir(need, { free: null, available: 20 * gib }, 'MEM', 'DISK')).toBe('DISK'); // no memory file system
  expect(chooseDir(need, { free: 64 * 1024 ** 2, available: 20 * gib }, 'MEM', 'DISK')).toBe('DISK'); // a container's 64 MB /dev/shm
  expect(chooseDir(need, { free: 20 * gib, available: need + 0.5 * gib }, 'MEM', 'DISK')).toBe('DISK'); // room on it, not in memory
});

it('a server that ended leaves no snapshot files once another starts: its files are removed, a live server\'s kept', async () => {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has ended
  const files = [`snapshot-${gone}-1-1.duckdb`, `snapshot-${gone}-1-1.duckdb.bodies.0`, `snapshot-${process.pid}-1-1.duckdb`, 'other.txt'];
  const d = join(dir, 'leftovers');
  await mkdir(d);
  for (const f of files) await writeFile(join(d, f), 'x');
  await removeLeftovers(d);
  expect((await readdir(d)).sort()).toEqual([`snapshot-${process.pid}-1-1.duckdb`, 'other.txt'].sort());
});

it('the memory file system\'s room is what statfs and the machine report', async () => {
  const room = await memoryRoom(MEMORY_DIR);
  expect(room.available).toBeGreaterThan(0);
  if (room.free !== null) expect(room.free).toBe((await statfs('/dev/shm')).bavail * (await statfs('/dev/shm')).bsize);
});
