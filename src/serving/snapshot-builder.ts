// Builds a copied snapshot in a child process, so the server's event loop does none of the work: DuckDB's copy, the
// body file, and the lookup keys (millions of strings converted from DuckDB, and the garbage they leave) all happen in
// the child, which runs at a lower CPU priority (nice 10, inherited by DuckDB's threads) than the server's requests.
// The child leaves three files: the database, the body file and a lookups file (the sorted keys and line starts as
// raw arrays); the server opens them, reading the lookups with one asynchronous read, and swaps. A failed or killed
// child leaves the current snapshot serving.
import { fork } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProfileBodies } from './bodies.ts';
import { SortedKeys, type SortedKeyParts } from './sorted-keys.ts';
import { Snapshot, type BuildOptions, type Lookups, type SnapshotMeta, type SnapshotRelations } from './snapshot.ts';
import { warehouseSource } from './sources.ts';

/** A copy build that can cross a process boundary: the relations as SQL text, or the warehouse file to attach. */
export interface ChildBuild {
  file: string;
  from: { kind: 'warehouse'; path: string } | { kind: 'relations'; relations: SnapshotRelations; source: string; asOf?: string };
  threads?: number;
  memoryLimit?: string;
  /** The child's nice value (default 10): below the server's requests. */
  nice?: number;
}

const LOOKUPS = ['email', 'phone', 'source'] as const;

/** The lookups as one file: a JSON header line with each array's offset and length, then the arrays, 8-byte aligned. */
async function writeLookups(file: string, l: Lookups): Promise<void> {
  const b = l.bodies.parts();
  const arrays: [string, ArrayBufferView][] = [['starts', b.starts], ['lengths', b.lengths], ['firstRows', b.firstRows]];
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

async function readLookups(file: string): Promise<Lookups> {
  const buf = await readFile(file);
  const nl = buf.indexOf(0x0a);
  const { files, ...header } = JSON.parse(buf.toString('utf8', 0, nl)) as Record<string, [number, number]> & { files: string[] };
  const start = Math.ceil((nl + 1) / 8) * 8;
  // a fresh copy per array: aligned, and no view keeps the whole file's buffer alive
  const bytes = (name: string) => {
    const [off, len] = header[name]!;
    return Buffer.from(buf.subarray(start + off, start + off + len));
  };
  const u32 = (name: string) => {
    const b = bytes(name);
    return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  const keys = (name: string) => SortedKeys.fromParts({ bytes: bytes(`${name}.bytes`), starts: u32(`${name}.starts`), rowOf: u32(`${name}.rowOf`) });
  const st = bytes('starts');
  const starts = new Float64Array(st.buffer.slice(st.byteOffset, st.byteOffset + st.byteLength));
  const bodies = ProfileBodies.open({ files, starts, lengths: u32('lengths'), firstRows: u32('firstRows') }, keys('ids'));
  return { bodies, email: keys('email'), phone: keys('phone'), source: keys('source') };
}

const lookupsFile = (file: string) => `${file}.lookups`;

/** Builds in a child process and opens the result here. */
export async function buildInChild(o: ChildBuild & { connections?: number }): Promise<Snapshot> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = fork(fileURLToPath(import.meta.url), [], { execArgv: ['--import', tsx], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env });
  const answer = await new Promise<{ meta?: SnapshotMeta; error?: string }>((resolve) => {
    child.once('message', (m: { meta?: SnapshotMeta; error?: string }) => resolve(m));
    child.once('exit', (code, signal) => resolve({ error: `the snapshot build process ended (${signal ?? `exit ${code}`}) before it finished` }));
    child.send({ build: o });
  });
  child.kill();
  if (!answer.meta) throw new Error(answer.error ?? 'snapshot build failed');
  const lookups = await readLookups(lookupsFile(o.file));
  return Snapshot.open(o.file, answer.meta, lookups, { connections: o.connections });
}

/** The child's side: build, write the lookups, close keeping the files, answer. */
async function childBuild(o: ChildBuild): Promise<SnapshotMeta> {
  setPriority(0, o.nice ?? 10); // before DuckDB starts its threads, which inherit it
  const from: Pick<BuildOptions, 'attach' | 'relations' | 'source' | 'asOf'> = o.from.kind === 'warehouse'
    ? warehouseSource(o.from.path)
    : { relations: o.from.relations, source: o.from.source, asOf: o.from.asOf };
  const s = await Snapshot.build({ file: o.file, mode: 'copy', connections: 1, threads: o.threads, memoryLimit: o.memoryLimit, ...from });
  const { meta, lookups } = s.handOver();
  await writeLookups(lookupsFile(o.file), lookups!);
  s.closeKeepingFiles();
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
