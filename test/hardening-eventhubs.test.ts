// Issue 19: an unreachable Event Hubs namespace used to fail `c360 stream` after ~95 s with "AggregateError", exit 1
// (terminal). It now fails within the connect bound as a transient error (exit 75), naming the hub, the namespace and
// what to check. A namespace that accepts the connection but never answers is bounded by
// C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
let dir: string;

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), ...args], { env: { ...process.env, C360_LAKE_URL: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

const cs = (port: number) => `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=any;SharedAccessKey=any;UseDevelopmentEmulator=true`;

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-eh-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an unreachable Event Hubs namespace', () => {
  it('c360 stream: refused connection -> exit 75 naming the hub, the namespace and the fix, nothing in the lake', async () => {
    const port = await closedPort();
    const home = join(dir, 'refused');
    const r = await cli(['stream', '--hub', 'orders', '--connection-string', cs(port), '--home', home, '--until-idle', '1', '--json']);
    expect(r.code).toBe(75);
    const line = JSON.parse(r.stderr.trim().split('\n').at(-1)!);
    expect(line.msg).toBe('stream failed');
    expect(line.error).toContain(`Could not reach the event hub 'orders' in namespace 127.0.0.1:${port}`);
    expect(line.error).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(line.error).toContain('c360 hub');
    expect(r.stderr).not.toContain('AggregateError');
    expect(existsSync(join(home, 'lake', 'bronze'))).toBe(false);
  }, 60_000);

  it('c360 stream: a namespace that accepts but never answers is given up after C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await cli(['stream', '--hub', 'orders', '--connection-string', cs(port), '--home', join(dir, 'silent'), '--until-idle', '1', '--json'], {
        C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS: '2',
      });
      expect(r.code).toBe(75);
      expect(r.stderr).toContain('(no answer within 2 s)');
      expect(r.stderr).toContain('C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS=2');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 60_000);

  it('c360 replay: the same, before any row is read', async () => {
    const port = await closedPort();
    const r = await cli(['replay', '--table', 'CUSTOMER_BEHAVIORAL_EVENTS', '--file', join(ROOT, 'package.json'), '--hub', 'events', '--connection-string', cs(port)]);
    expect(r.code).toBe(75);
    expect(r.stderr).toContain(`Could not reach the event hub 'events' in namespace 127.0.0.1:${port}`);
  }, 60_000);

  it('a bad bound is a usage error', async () => {
    const r = await cli(['stream', '--hub', 'h', '--connection-string', cs(1), '--home', join(dir, 'bad')], { C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS: 'soon' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("C360_EVENTHUBS_CONNECT_TIMEOUT_SECONDS must be a positive number of seconds, got 'soon'");
  }, 60_000);
});
