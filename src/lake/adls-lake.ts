// The lake on ADLS Gen2 through the Blob API (ADLS Gen2 accounts accept Blob calls; Azurite speaks only Blob), so
// the code the Azurite tests exercise is the code that runs in Azure. Atomic commits: a file is uploaded as staged
// blocks and becomes visible only when its block list is committed. DuckDB reads a downloaded copy (localPath).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import { TransientError, UsageError } from '../runtime/errors.ts';
import { describeHolder, type Holder } from '../runtime/lock.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lake, LakeFile } from './lake.ts';

const TMP_MARK = '.tmp-';

export interface AdlsSpec {
  /** Blob endpoint, e.g. https://acct.blob.core.windows.net or http://127.0.0.1:10000/devstoreaccount1 (Azurite). */
  endpoint: string;
  account: string;
  container: string;
  /** Folder inside the container that is the lake root ('' for the container root). */
  prefix: string;
  location: string;
}

/**
 * Parses a lake URL: abfss://<container>@<account>.dfs.core.windows.net[/<prefix>],
 * https://<account>.(dfs|blob).core.windows.net/<container>[/<prefix>], or a path-style emulator URL
 * http(s)://host:port/<account>/<container>[/<prefix>] (Azurite).
 */
export function parseAdlsSpec(spec: string): AdlsSpec {
  const url = new URL(spec);
  const trim = (p: string) => p.replace(/^\/+|\/+$/g, '');
  if (url.protocol === 'abfss:') {
    const container = decodeURIComponent(url.username);
    const account = url.hostname.split('.')[0]!;
    if (!container || !account) throw new UsageError(`Lake URL '${spec}' must look like abfss://<container>@<account>.dfs.core.windows.net/<folder>`);
    const prefix = trim(decodeURIComponent(url.pathname));
    return { endpoint: `https://${account}.blob.${url.hostname.split('.').slice(2).join('.')}`, account, container, prefix, location: spec.replace(/\/+$/, '') };
  }
  const parts = trim(decodeURIComponent(url.pathname)).split('/').filter(Boolean);
  const azureHost = /^([a-z0-9]+)\.(dfs|blob)\.(.+)$/.exec(url.hostname);
  if (azureHost) {
    const [, account, , suffix] = azureHost;
    const [container, ...rest] = parts;
    if (!container) throw new UsageError(`Lake URL '${spec}' names no container (https://<account>.dfs.core.windows.net/<container>/<folder>)`);
    const prefix = rest.join('/');
    return {
      endpoint: `${url.protocol}//${account}.blob.${suffix}`,
      account: account!,
      container,
      prefix,
      location: `abfss://${container}@${account}.dfs.${suffix}${prefix ? `/${prefix}` : ''}`,
    };
  }
  // Path-style (emulator): the first segment is the account.
  const [account, container, ...rest] = parts;
  if (!account || !container) throw new UsageError(`Lake URL '${spec}' must be http(s)://host:port/<account>/<container>[/<folder>] for an emulator`);
  return { endpoint: `${url.protocol}//${url.host}/${account}`, account, container, prefix: rest.join('/'), location: spec.replace(/\/+$/, '') };
}

/** Credentials: C360_STORAGE_CONNECTION_STRING, else C360_STORAGE_ACCOUNT_KEY, else DefaultAzureCredential. */
async function serviceClient(s: AdlsSpec): Promise<BlobServiceClient> {
  const cs = process.env.C360_STORAGE_CONNECTION_STRING;
  if (cs) return BlobServiceClient.fromConnectionString(cs);
  const key = process.env.C360_STORAGE_ACCOUNT_KEY;
  if (key) return new BlobServiceClient(s.endpoint, new StorageSharedKeyCredential(s.account, key));
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new BlobServiceClient(s.endpoint, new DefaultAzureCredential());
}

export class AdlsLake implements Lake {
  readonly location: string;
  /** Bytes downloaded by this lake object (read and localPath cache misses): what a job pulled from storage. */
  downloadedBytes = 0;

  constructor(
    private readonly container: ContainerClient,
    private readonly prefix: string,
    location: string,
    private readonly cacheDir: string,
  ) {
    this.location = location;
  }

  private key(path: string): string {
    const clean = path.split('/').filter((p) => p && p !== '.').join('/');
    if (clean.split('/').includes('..')) throw new Error(`Lake path escapes the lake root: ${path}`);
    return this.prefix ? (clean ? `${this.prefix}/${clean}` : this.prefix) : clean;
  }

  private rel(name: string): string {
    return this.prefix ? name.slice(this.prefix.length + 1) : name;
  }

  async list(prefix: string): Promise<LakeFile[]> {
    const base = this.key(prefix);
    const out: LakeFile[] = [];
    // Folder semantics like the local lake: 'a/b' lists a/b/**, never a/bc.
    for await (const b of this.container.listBlobsFlat({ prefix: base ? `${base}/` : undefined, includeMetadata: true })) {
      if (b.metadata?.hdi_isfolder === 'true') continue; // ADLS Gen2 directory entries
      const name = b.name.slice(b.name.lastIndexOf('/') + 1);
      if (name.includes(TMP_MARK)) continue;
      out.push({ path: this.rel(b.name), size: b.properties.contentLength ?? 0 });
    }
    if (base && out.length === 0 && (await this.container.getBlobClient(base).exists())) {
      const p = await this.container.getBlobClient(base).getProperties();
      if (p.metadata?.hdi_isfolder !== 'true') out.push({ path: this.rel(base), size: p.contentLength ?? 0 });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async exists(path: string): Promise<boolean> {
    if (await this.container.getBlobClient(this.key(path)).exists()) return true;
    // A folder exists when something is under it (as for a local directory).
    const it = this.container.listBlobsFlat({ prefix: `${this.key(path)}/` }).byPage({ maxPageSize: 1 });
    const page = await it.next();
    return !page.done && page.value.segment.blobItems.length > 0;
  }

  async read(path: string): Promise<Buffer> {
    const data = await this.container.getBlobClient(this.key(path)).downloadToBuffer();
    this.downloadedBytes += data.length;
    return data;
  }

  async write(path: string, data: Buffer | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    // uploadData stages blocks and commits the list in one call: readers see the old or the new content.
    await this.container.getBlockBlobClient(this.key(path)).uploadData(body);
  }

  async putFile(localFile: string, path: string): Promise<void> {
    await this.container.getBlockBlobClient(this.key(path)).uploadFile(localFile, { blockSize: 8 * 1024 * 1024, concurrency: 4 });
    // Same contract as the local lake, which moves the file into place.
    await rm(localFile, { force: true });
  }

  async localPath(path: string): Promise<string> {
    const blob = this.container.getBlobClient(this.key(path));
    const props = await blob.getProperties();
    const file = join(this.cacheDir, ...path.split('/').filter(Boolean));
    const tag = `${file}.etag`;
    if (existsSync(file) && existsSync(tag) && (await readFile(tag, 'utf8')) === props.etag) {
      if ((await stat(file)).size === props.contentLength) return file;
    }
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${createHash('md5').update(`${process.pid}-${Math.random()}`).digest('hex').slice(0, 8)}.download`;
    await blob.downloadToFile(tmp);
    this.downloadedBytes += props.contentLength ?? 0;
    await rename(tmp, file);
    await writeFile(tag, props.etag ?? '');
    return file;
  }

  async delete(path: string): Promise<void> {
    const key = this.key(path);
    const names: string[] = [];
    for await (const b of this.container.listBlobsFlat({ prefix: `${key}/` })) names.push(b.name);
    // Deepest first, so ADLS Gen2 directory entries go after their content.
    names.sort((a, b) => b.length - a.length);
    for (const n of names) await this.container.getBlobClient(n).deleteIfExists();
    await this.container.getBlobClient(key).deleteIfExists();
  }

  /** A scope overlapping `scope` whose lock blob is leased now, if any. */
  private async conflictingScope(scope: string): Promise<string | undefined> {
    const dir = this.key('_locks');
    for await (const b of this.container.listBlobsFlat({ prefix: `${dir}/` })) {
      const name = b.name.slice(dir.length + 1);
      if (!name.endsWith('.lock')) continue;
      const other = name.slice(0, -'.lock'.length);
      const state = b.properties.leaseState;
      if (overlaps(scope, other) && (state === 'leased' || state === 'breaking')) return other;
    }
    return undefined;
  }

  async lock(scope: string, holder: Holder, waitMs: number): Promise<() => Promise<void>> {
    const blob = this.container.getBlockBlobClient(this.key(`_locks/${scope}.lock`));
    const lease = blob.getBlobLeaseClient();
    const deadline = Date.now() + waitMs;
    for (;;) {
      // The lock blob itself may already exist (and be leased): creating it only when absent never touches a lease.
      await blob.upload('', 0, { conditions: { ifNoneMatch: '*' } }).catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 409 && e.statusCode !== 412) throw e;
      });
      let busy = scope;
      try {
        await lease.acquireLease(LEASE_SECONDS);
        // Held; but scopes overlap: the pipeline writes what every job and ingest writes. Each side takes its own
        // lease first and then looks for the other's, so of two that start at once at least one sees the other
        // (and both may step back and try again): never both run.
        const other = await this.conflictingScope(scope);
        if (other === undefined) break;
        await lease.releaseLease().catch(() => undefined);
        busy = other;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 409) throw e;
      }
      if (Date.now() >= deadline) {
        const holderBlob = this.container.getBlockBlobClient(this.key(`_locks/${busy}.lock`));
        const meta = await holderBlob.getProperties().then((p) => p.metadata ?? {}, () => ({}) as Record<string, string>);
        const h = meta.pid ? { pid: Number(meta.pid), host: meta.host, command: decodeURIComponent(meta.command ?? ''), since: meta.since } : undefined;
        const what = busy === scope ? `scope '${scope}' is in use` : `scope '${scope}' overlaps scope '${busy}', which is in use`;
        throw new TransientError(
          `${this.location} ${what} by ${describeHolder(h)}: one writer at a time. Wait for it to finish (or set C360_LOCK_WAIT_SECONDS), then run again; a crashed holder's lease expires within ${LEASE_SECONDS} s`,
        );
      }
      await sleep(Math.min(1000, Math.max(50, deadline - Date.now())));
    }
    const leaseId = lease.leaseId;
    await blob.setMetadata({ pid: String(holder.pid), host: holder.host, command: encodeURIComponent(holder.command), since: holder.since }, { conditions: { leaseId } });
    const renew = setInterval(() => void lease.renewLease().catch(() => undefined), (LEASE_SECONDS * 1000) / 3);
    renew.unref();
    return async () => {
      clearInterval(renew);
      await lease.releaseLease().catch(() => undefined);
    };
  }
}

/**
 * Scopes that run beside everything: a hub's stream (Bronze of the streaming tables only, while the pipeline skips
 * them) and activation (reads Gold, writes its own outbox).
 */
const BESIDE_ALL = /^(bronze-stream\.|activate$)/;

/**
 * Which scopes a scope's writer excludes besides itself: `pipeline` (run, start, forget, retention: every dataset)
 * excludes every job and ingest scope; a job or ingest scope (`bronze-ingest.CUSTOMERS`, `silver-customers`, ...)
 * excludes the pipeline. Different tables' jobs run in parallel (ADF's ForEach).
 */
export function overlaps(scope: string, other: string): boolean {
  if (scope === other || BESIDE_ALL.test(scope) || BESIDE_ALL.test(other)) return false;
  return scope === 'pipeline' || other === 'pipeline';
}

/** Lease length: a crashed holder's lock frees itself this long after its last renewal. */
const LEASE_SECONDS = 60;

export async function openAdlsLake(spec: string, home: string): Promise<Lake> {
  const s = parseAdlsSpec(spec);
  const service = await serviceClient(s);
  const container = service.getContainerClient(s.container);
  try {
    await container.createIfNotExists();
  } catch (e) {
    // With data-plane RBAC only, creating may be refused while the container exists: the first real call tells.
    if ((e as { statusCode?: number }).statusCode !== 403) throw e;
  }
  const cacheDir = join(home, 'cache', 'adls', s.account, s.container, ...s.prefix.split('/').filter(Boolean));
  return new AdlsLake(container, s.prefix, s.location, cacheDir);
}
