// An open-loop HTTP load generator in its own process (forked by bench/serve.bench.ts), so generating the load and
// timing it never waits on the benchmark's own work and never shares an event loop with the server. Requests are sent
// at a fixed rate whatever the server does; each one's latency counts from the moment it was due, so a stalled server
// shows as latency instead of as requests sent late (coordinated omission). Talks to its parent over IPC:
// { run: LoadSpec } starts a run, { stop: true } ends it early; the answer is { result: LoadResult }.
import { Agent, request } from 'node:http';

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
  statuses: Record<string, number>;
  /** Answers by the AS_OF_DATE they carried. */
  asOfs: Record<string, number>;
  /** How late the generator itself sent a request at worst (it kept up when this is small). */
  maxSendLagMs: number;
  /** CPU seconds the generator used. */
  cpuSeconds: number;
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

export async function runLoad(spec: LoadSpec, stopped: () => boolean): Promise<LoadResult> {
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const asOfs: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let sent = 0;
  let maxSendLagMs = 0;
  const send = (due: number) => {
    const p = new Promise<void>((resolve) => {
      const done = (status: number, body: string) => {
        latencies.push(performance.now() - due);
        statuses[status] = (statuses[status] ?? 0) + 1;
        const m = /"AS_OF_DATE":"([\d-]+)"/.exec(body);
        if (m) asOfs[m[1]!] = (asOfs[m[1]!] ?? 0) + 1;
        resolve();
      };
      const req = request({ host: url.hostname, port: url.port, path: pathOf(spec), agent, headers: { authorization: `Bearer ${spec.key}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => done(res.statusCode ?? 0, body));
        res.on('error', () => done(0, ''));
      });
      req.on('error', () => done(0, ''));
      req.end();
    });
    pending.add(p);
    void p.then(() => pending.delete(p));
  };
  while (performance.now() - start < spec.seconds * 1000 && !stopped()) {
    const now = performance.now();
    const due = Math.floor(((now - start) / 1000) * spec.rate) + 1;
    for (; sent < due; sent++) {
      const at = start + (sent / spec.rate) * 1000;
      maxSendLagMs = Math.max(maxSendLagMs, now - at);
      send(at);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  agent.destroy();
  const c = process.cpuUsage(cpu0);
  return { requests: sent, seconds: (performance.now() - start) / 1000, latencies, statuses, asOfs, maxSendLagMs, cpuSeconds: (c.user + c.system) / 1e6 };
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
