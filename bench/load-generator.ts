// An open-loop HTTP load generator in its own process (forked by bench/serve.bench.ts), so generating the load and
// timing it never waits on the benchmark's own work and never shares an event loop with the server. Requests are sent
// at a fixed rate whatever the server does; each one's latency counts from the moment it was due, so a stalled server
// shows as latency instead of as requests sent late (coordinated omission). Talks to its parent over IPC:
// { run: LoadSpec } starts a run, { stop: true } ends it early; the answer is { result: LoadResult }.
import { createConnection, type Socket } from 'node:net';

export interface LoadSpec {
  url: string;
  key: string;
  rate: number;
  seconds: number;
  /** What to ask: GET /health, a random person by c360 id, or by e-mail address. */
  target: 'health' | 'c360' | 'email';
  customers: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Per request, milliseconds from its due time to the end of its answer. */
  latencies: number[];
  /** Per request, milliseconds from when it was sent to the end of its answer (what the server and network took). */
  serviceLatencies: number[];
  statuses: Record<string, number>;
  /** Answers by the AS_OF_DATE they carried. */
  asOfs: Record<string, number>;
  /** How late the generator itself sent a request at worst (it kept up when this is small). */
  maxSendLagMs: number;
  /** CPU seconds the generator used. */
  cpuSeconds: number;
  /** Connections it opened (more when answers were slow: it never waits for a free one). */
  connections: number;
  /** Requests slower than 20 ms from due time: when they were due (epoch ms, to set beside the server's events) and how slow. */
  slow: { dueEpochMs: number; ms: number; fromSendMs: number }[];
}

/** The bench's synthetic people: CUSTOMER360_ID and e-mail of person i (bench/serve.bench.ts writes them). */
export const benchId = (i: number) => `C360-${i.toString(16).toUpperCase().padStart(16, '0')}`;
export const benchEmail = (i: number) => `person${i}@example.com`;

function pathOf(spec: LoadSpec): string {
  const i = Math.floor(Math.random() * spec.customers);
  switch (spec.target) {
    case 'health': return '/health';
    case 'c360': return `/customer/profile/c360:${benchId(i)}`;
    case 'email': return `/customer/profile/email:${encodeURIComponent(benchEmail(i))}`;
  }
}

/**
 * A keep-alive HTTP/1.1 connection on a raw socket, one request at a time: a request is one write of a ready string
 * and a response is found by its Content-Length, so the generator spends a few microseconds per request where
 * node:http's client spends hundreds (on a shared 2-core machine the generator's CPU is the server's loss).
 */
class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((r: { status: number; body: string }) => void) | null = null;
  busy = false;
  closed = false;
  constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.parse();
    });
    const fail = () => {
      this.closed = true;
      this.waiting?.({ status: 0, body: '' });
      this.waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', fail);
  }

  private parse(): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const length = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.toString('utf8', end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const w = this.waiting;
    this.waiting = null;
    this.busy = false;
    w({ status, body });
  }

  send(request: string): Promise<{ status: number; body: string }> {
    this.busy = true;
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

function connect(url: URL): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: url.hostname, port: Number(url.port) }, () => resolve(new Connection(socket)));
    socket.once('error', reject);
  });
}

export async function runLoad(spec: LoadSpec, stopped: () => boolean): Promise<LoadResult> {
  const url = new URL(spec.url);
  const idle: Connection[] = [];
  const all: Connection[] = [];
  const latencies: number[] = [];
  const serviceLatencies: number[] = [];
  const statuses: Record<string, number> = {};
  const asOfs: Record<string, number> = {};
  const slow: LoadResult['slow'] = [];
  const pending = new Set<Promise<void>>();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  let maxSendLagMs = 0;
  const head = `Host: ${url.host}\r\nAuthorization: Bearer ${spec.key}\r\n\r\n`;
  const send = async (due: number) => {
    // open loop: a request never waits for a free connection; a new one is opened when all are busy
    let c = idle.pop();
    while (c?.closed) c = idle.pop();
    if (!c) {
      c = await connect(url).catch(() => undefined);
      if (c) all.push(c);
    }
    const sentAt = performance.now();
    const r = c ? await c.send(`GET ${pathOf(spec)} HTTP/1.1\r\n${head}`) : { status: 0, body: '' };
    const end = performance.now();
    if (c && !c.closed) idle.push(c);
    latencies.push(end - due);
    if (end - due > 20) slow.push({ dueEpochMs: Math.round(performance.timeOrigin + due), ms: Math.round((end - due) * 10) / 10, fromSendMs: Math.round((end - sentAt) * 10) / 10 });
    serviceLatencies.push(end - sentAt);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const m = /"AS_OF_DATE":"([\d-]+)"/.exec(r.body);
    if (m) asOfs[m[1]!] = (asOfs[m[1]!] ?? 0) + 1;
  };
  while (performance.now() - start < spec.seconds * 1000 && !stopped()) {
    const now = performance.now();
    const due = Math.floor(((now - start) / 1000) * spec.rate) + 1;
    for (; sent < due; sent++) {
      const at = start + (sent / spec.rate) * 1000;
      maxSendLagMs = Math.max(maxSendLagMs, now - at);
      const p = send(at);
      pending.add(p);
      void p.then(() => pending.delete(p));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  for (const c of all) c.close();
  const c = process.cpuUsage(cpu0);
  return { requests: sent, seconds: (performance.now() - start) / 1000, latencies, serviceLatencies, statuses, asOfs, maxSendLagMs, cpuSeconds: (c.user + c.system) / 1e6, connections: all.length, slow };
}

if (process.send) {
  let stop = false;
  process.on('message', (m: { run?: LoadSpec; stop?: boolean; exit?: boolean }) => {
    if (m.stop) stop = true;
    if (m.exit) process.exit(0);
    if (m.run) {
      stop = false;
      void runLoad(m.run, () => stop).then((result) => process.send!({ result }));
    }
  });
  process.send({ ready: true });
}
