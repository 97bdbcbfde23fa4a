// Builds a copied snapshot in a child process, so the server's event loop does none of the work: DuckDB's copy, the
// body file, and the lookup keys (millions of strings converted from DuckDB, and the garbage they leave) all happen in
// the child, which runs below the server's requests for the CPU: a build beside a serving snapshot in the SCHED_IDLE
// class (chrt, inherited by DuckDB's and V8's threads: it gets only CPU nobody else wants, so the requests are never
// made to wait for it however many threads it runs; nice 19 where chrt is missing), a first build at a nice value.
// A build beside a serving snapshot is forked by the build host (build-host.ts), never by the server itself.
// The child leaves three kinds of files: the database, the body files and a lookups file (the sorted keys, line starts
// and the bodies' dictionary as raw arrays); the server opens them, reading the lookups array by array through the thread pool, and swaps. A failed or killed
// child leaves the current snapshot serving.
import type { ChildProcess } from 'node:child_process';
import { open, writeFile } from 'node:fs/promises';
import { setPriority } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { HostReport, HostRequest } from './build-host.ts';
import { BUILDER_SCRIPT, forkPlaced, HOST_SCRIPT, type Placement } from './build-launch.ts';
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
  /** 'idle': the SCHED_IDLE class (nice 19 without chrt; the class is the parent's to set); a number: that nice value (default 10). */
  priority?: 'idle' | number;
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

export { besideBuildCpus } from './build-launch.ts';

const lookupsFile = (file: string) => `${file}.lookups`;

type Answer = { meta?: SnapshotMeta; error?: string };
const endedEarly = (how: string): Answer => ({ error: `the snapshot build process ended (${how}) before it finished` });

/**
 * The build processes of one store. The first build, which has no requests to make way for, is forked by the server
 * itself, and at the same moment the build host (build-host.ts), placed as later builds are; every later build is
 * forked by the host, so the server never forks while it serves. Stopping kills every build at once (SIGKILL, by pid:
 * a SCHED_IDLE process on a busy machine may not get the CPU to handle a gentler signal for a long time).
 */
export class BuildProcesses {
  private readonly here = new Set<ChildProcess>();
  private host: ChildProcess | null = null;
  private readonly viaHost = new Map<number, { pid?: number; resolve(a: Answer): void }>();
  private seq = 0;
  private stopped = false;
  /** Processes the server itself forked (its first build and the host), the builds the host forked, the last build's pid. */
  readonly counts = { forkedHere: 0, forkedByHost: 0, lastBuildPid: 0 };

  /** `beside`: the placement of builds beside a serving snapshot, and so of the host. */
  constructor(private readonly beside: Placement) {}

  /** Starts the host unless it runs; the server calls it before it serves (with its first build). */
  startHost(): void {
    if (this.host || this.stopped) return;
    const h = forkPlaced(HOST_SCRIPT, this.beside);
    this.counts.forkedHere++;
    this.host = h;
    h.on('message', (m: HostReport) => {
      if (!('id' in m)) return;
      const b = this.viaHost.get(m.id);
      if (!b) return;
      if ('pid' in m) {
        b.pid = m.pid;
        this.counts.forkedByHost++;
        this.counts.lastBuildPid = m.pid;
      } else if ('answer' in m) b.resolve(m.answer as Answer);
      else b.resolve(endedEarly(m.exit));
    });
    h.once('exit', (code, signal) => {
      // a host gone takes its builds' answers with it; the next build starts a new one
      if (this.host === h) this.host = null;
      for (const b of this.viaHost.values()) b.resolve(endedEarly(this.stopped ? 'SIGKILL' : `build host: ${signal ?? `exit ${code}`}`));
    });
    h.send({ init: { nice: this.beside.priority === 'idle' ? 19 : this.beside.priority } } satisfies HostRequest);
    h.unref();
    (h.channel as unknown as { unref(): void } | undefined)?.unref(); // an idle host keeps no process alive
  }

  /** Runs a build: forked here (a first build) or by the host (beside a serving snapshot). */
  run(job: ChildBuild, beside: boolean): Promise<Answer> {
    if (this.stopped) return Promise.resolve(endedEarly('SIGKILL'));
    if (!beside) {
      const started = performance.now();
      const child = forkPlaced(BUILDER_SCRIPT, null);
      this.counts.forkedHere++;
      this.counts.lastBuildPid = child.pid ?? 0;
      this.here.add(child);
      return new Promise<Answer>((resolve) => {
        child.once('message', (m: Answer) => {
          resolve(m);
          child.kill();
        });
        child.once('exit', (code, signal) => {
          buildStep(started, 'the build process exited');
          resolve(endedEarly(signal ?? `exit ${code}`));
        });
        child.send({ build: job });
      }).finally(() => this.here.delete(child));
    }
    this.startHost(); // a no-op unless the host died since
    const id = ++this.seq;
    const channel = this.host!.channel as unknown as { ref(): void; unref(): void } | undefined;
    channel?.ref(); // a build under way keeps the process alive, as a forked child would
    return new Promise<Answer>((resolve) => {
      this.viaHost.set(id, { resolve });
      this.host!.send({ build: { id, job, env: process.env } } satisfies HostRequest);
    }).finally(() => {
      this.viaHost.delete(id);
      if (this.viaHost.size === 0) channel?.unref();
    });
  }

  /** Kills every build under way (the host too: a new one starts with the next build, if any). */
  stop(): void {
    this.stopped = true;
    for (const c of this.here) c.kill('SIGKILL');
    for (const b of this.viaHost.values()) {
      try {
        if (b.pid) process.kill(b.pid, 'SIGKILL');
      } catch { /* already gone */ }
    }
    // a build whose pid has not been reported yet ends when its host does (it exits when its parent goes)
    this.host?.kill('SIGKILL');
  }
}

/** Builds in a child process (see BuildProcesses) and opens the result here. */
export async function buildInChild(o: ChildBuild & { connections?: number; processes: BuildProcesses; beside: boolean }): Promise<Snapshot> {
  const started = performance.now();
  const build: ChildBuild = { file: o.file, from: o.from, threads: o.threads, memoryLimit: o.memoryLimit, priority: o.priority };
  const answer = await o.processes.run(build, o.beside);
  buildStep(started, 'the build process answered');
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
