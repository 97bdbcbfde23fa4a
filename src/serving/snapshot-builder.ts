// Builds a copied snapshot in a child process, so the server's event loop does none of the work: DuckDB's copy, the
// body file, and the lookup keys (millions of strings converted from DuckDB, and the garbage they leave) all happen in
// the child, which runs below the server's requests for the CPU: a build beside a serving snapshot in the SCHED_IDLE
// class (chrt, inherited by DuckDB's and V8's threads: it gets only CPU nobody else wants, so the requests are never
// made to wait for it however many threads it runs; nice 19 where chrt is missing), a first build at a nice value.
// The child leaves three kinds of files: the database, the body files and a lookups file (the sorted keys, line starts
// and the bodies' dictionary as raw arrays); the server opens them, reading the lookups array by array through the thread pool, and swaps. A failed or killed
// child leaves the current snapshot serving.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProfileBodies } from './bodies.ts';
import { buildStep } from './build-timing.ts';
import { SortedKeys, type SortedKeyParts } from './sorted-keys.ts';
import { removeFiles, Snapshot, type BuildOptions, type Lookups, type SnapshotMeta, type SnapshotRelations } from './snapshot.ts';
import { warehouseSource } from './sources.ts';

/** A copy build that can cross a process boundary: the relations as SQL text, or the warehouse file to attach. */
export interface ChildBuild {
  file: string;
  from: { kind: 'warehouse'; path: string } | { kind: 'relations'; relations: SnapshotRelations; source: string; asOf?: string };
  threads?: number;
  memoryLimit?: string;
  /** 'idle': the SCHED_IDLE class (nice 19 without chrt); a number: that nice value (default 10). */
  priority?: 'idle' | number;
  /** CPUs the build may run on (a taskset list, e.g. '1'); default: all. */
  cpus?: string;
}

const LOOKUPS = ['email', 'phone', 'source'] as const;

/** The lookups as one file: a JSON header line with each array's offset and length, then the arrays, 8-byte aligned. */
async function writeLookups(file: string, l: Lookups): Promise<void> {
  const b = l.bodies.parts();
  const arrays: [string, ArrayBufferView][] = [['starts', b.starts], ['lengths', b.lengths], ['firstRows', b.firstRows], ['dictionary', b.dictionary]];
  const keys = (name: string, p: SortedKeyParts) => arrays.push([`${name}.bytes`, p.bytes], [`${name}.starts`, p.starts], [`${name}.rowOf`, p.rowOf]);
  keys('ids', l.bodies.ids.parts());
  for (const k of LOOKUPS) keys(k, l[k].parts());
  const header: Record<string, [number, number] | readonly string[]> = { files: b.files };
  let at = 0;
  for (const [name, a] of arrays) {
    header[name] = [at, a.byteLength];
    at += Math.ceil(a.byteLength / 8) * 8;
  }
  const head = Buffer.from(`${JSON.stringify(header)}\n`);
  const start = Math.ceil(head.length / 8) * 8;
  const out = Buffer.alloc(start + at);
  head.copy(out);
  for (const [name, a] of arrays) Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, start + (header[name] as [number, number])[0]);
  await writeFile(file, out);
}

/**
 * Reads the lookups file array by array straight into each array's own memory: the reads run in libuv's thread pool
 * and the server's main thread copies nothing (at a million people they are ~150 MB; one readFile and a copy of each
 * array took tens of milliseconds of the event loop, which requests waiting during a swap would have felt).
 */
async function readLookups(file: string): Promise<Lookups> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const nl = head.subarray(0, bytesRead).indexOf(0x0a);
    if (nl < 0) throw new Error(`${file}: no header line`);
    const { files, ...header } = JSON.parse(head.toString('utf8', 0, nl)) as Record<string, [number, number]> & { files: string[] };
    const start = Math.ceil((nl + 1) / 8) * 8;
    const read = async (name: string): Promise<ArrayBuffer> => {
      const [off, len] = header[name]!;
      const out = new ArrayBuffer(len);
      const view = new Uint8Array(out);
      const piece = 8 << 20;
      for (let at = 0; at < len; ) {
        const { bytesRead: n } = await fh.read(view, at, Math.min(piece, len - at), start + off + at);
        if (n === 0) throw new Error(`${file} is shorter than its header says (${name})`);
        at += n;
      }
      return out;
    };
    const u32 = async (name: string) => new Uint32Array(await read(name));
    const keys = async (name: string) =>
      SortedKeys.fromParts({ bytes: Buffer.from(await read(`${name}.bytes`)), starts: await u32(`${name}.starts`), rowOf: await u32(`${name}.rowOf`) });
    const starts = new Float64Array(await read('starts'));
    const bodies = ProfileBodies.open({ files, starts, lengths: await u32('lengths'), firstRows: await u32('firstRows'), dictionary: new Uint8Array(await read('dictionary')) }, await keys('ids'));
    return { bodies, email: await keys('email'), phone: await keys('phone'), source: await keys('source') };
  } finally {
    await fh.close();
  }
}

/** chrt (util-linux), to start a build in the SCHED_IDLE class; null where absent (then nice 19). */
const CHRT = ['/usr/bin/chrt', '/bin/chrt'].find((f) => existsSync(f)) ?? null;
/** taskset (util-linux), to keep a build off some CPUs; null where absent. */
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((f) => existsSync(f)) ?? null;

/**
 * The CPUs a build beside a serving snapshot may use: all but the first, so one CPU never runs the build, not even
 * the kernel's work done for it (its writes, page faults, the pages freed when it deletes a file or exits), which
 * SCHED_IDLE does not cover: at a million people a build confined this way slowed requests far less
 * (docs/serving.md). C360_SERVE_BUILD_CPUS overrides it ('all': no confinement). Null: all CPUs (one CPU, or no taskset).
 */
export function besideBuildCpus(): string | null {
  const env = process.env.C360_SERVE_BUILD_CPUS;
  if (env === 'all') return null;
  if (env) return /^[\d,-]+$/.test(env) ? env : null;
  const n = availableParallelism();
  return n >= 2 && TASKSET ? (n === 2 ? '1' : `1-${n - 1}`) : null;
}

const lookupsFile = (file: string) => `${file}.lookups`;

/** Build processes under way, so a stopping server can end them (one set per store). */
export class BuildProcesses {
  readonly live = new Set<ChildProcess>();
  /** SIGKILL: a SCHED_IDLE child on a busy machine may not get the CPU to handle a gentler signal for a long time. */
  stop(): void {
    for (const c of this.live) c.kill('SIGKILL');
  }
}

/** Builds in a child process and opens the result here. */
export async function buildInChild(o: ChildBuild & { connections?: number; processes?: BuildProcesses }): Promise<Snapshot> {
  const started = performance.now();
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const chrt = o.priority === 'idle' ? CHRT : null;
  const taskset = o.cpus && TASKSET ? ['-c', o.cpus] : null;
  // taskset and chrt exec node with the IPC descriptor fork opened, so the child talks to us as if forked directly
  const wrap = [...(taskset ? [TASKSET!, ...taskset] : []), ...(chrt ? [chrt, '--idle', '0'] : [])];
  const child = fork(fileURLToPath(import.meta.url), [], {
    execPath: wrap[0] ?? process.execPath,
    execArgv: [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), '--import', tsx],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env,
  });
  const running = o.processes?.live ?? new Set();
  running.add(child);
  child.once('exit', () => buildStep(started, 'the build process exited'));
  const answer = await new Promise<{ meta?: SnapshotMeta; error?: string }>((resolve) => {
    child.once('message', (m: { meta?: SnapshotMeta; error?: string }) => resolve(m));
    child.once('exit', (code, signal) => resolve({ error: `the snapshot build process ended (${signal ?? `exit ${code}`}) before it finished` }));
    const build: ChildBuild = { file: o.file, from: o.from, threads: o.threads, memoryLimit: o.memoryLimit, priority: o.priority };
    child.send({ build });
  }).finally(() => running.delete(child));
  buildStep(started, 'the build process answered');
  child.kill();
  if (!answer.meta) {
    await removeFiles(o.file); // what a killed child left (a failing one removes its own)
    throw new Error(answer.error ?? 'snapshot build failed');
  }
  let t = performance.now();
  const lookups = await readLookups(lookupsFile(o.file));
  buildStep(t, 'server: read the lookups');

  t = performance.now();
  const s = await Snapshot.open(o.file, answer.meta, lookups, { connections: o.connections });
  buildStep(t, 'server: open the database');
  return s;
}

/** The child's side: build, write the lookups, close keeping the files, answer. */
async function childBuild(o: ChildBuild): Promise<SnapshotMeta> {
  buildStep(0, 'the build process started (node, tsx and its modules loaded)');
  // before DuckDB starts its threads, which inherit it (under SCHED_IDLE the nice value hardly matters; 19 if chrt failed)
  setPriority(0, o.priority === 'idle' ? 19 : (o.priority ?? 10));
  const from: Pick<BuildOptions, 'attach' | 'relations' | 'source' | 'asOf'> = o.from.kind === 'warehouse'
    ? warehouseSource(o.from.path)
    : { relations: o.from.relations, source: o.from.source, asOf: o.from.asOf };
  const s = await Snapshot.build({ file: o.file, mode: 'copy', connections: 1, threads: o.threads, memoryLimit: o.memoryLimit, ...from });
  const { meta, lookups } = s.handOver();
  let t = performance.now();
  await writeLookups(lookupsFile(o.file), lookups!);
  buildStep(t, 'write the lookups file');
  t = performance.now();
  s.closeKeepingFiles();
  buildStep(t, 'close the database');
  return meta;
}

if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('disconnect', () => process.exit(1)); // the server is gone: nobody will open the result
  process.once('message', (m: { build: ChildBuild }) => {
    childBuild(m.build).then(
      (meta) => process.send!({ meta }, () => process.exit(0)),
      (e: Error) => process.send!({ error: e.message }, () => process.exit(1)),
    );
  });
}
