// Issue 19 (d): every run leaves a manifest, including killed ones (c360 runs tells interrupted from running), and
// --json makes stdout and fatal errors JSON lines, with no stack trace.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSample } from '../src/sample/generate.ts';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
let sample: string;
const c360 = (args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, C360_LAKE_URL: '' } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-runs-'));
  sample = join(dir, 'sample');
  await generateSample({ customers: 40, days: 20, seed: 9, out: sample });
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a manifest for every run', () => {
  it('a run killed with SIGKILL part way leaves its manifest; c360 runs lists it as interrupted, with how far it got', async () => {
    const home = join(dir, 'killed');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), 'run', '--input', sample, '--home', home, '--json'], { stdio: 'ignore', env: { ...process.env, C360_LAKE_URL: '' } });
    const exited = new Promise((r) => child.on('exit', r));
    // Kill once the manifest shows a few finished jobs.
    const end = Date.now() + 120_000;
    for (;;) {
      const files = existsSync(join(home, 'runs')) ? await readdir(join(home, 'runs')) : [];
      const m = files[0] ? JSON.parse(await readFile(join(home, 'runs', files[0]), 'utf8').catch(() => '{}')) : undefined;
      if ((m?.jobs?.length ?? 0) >= 3) break;
      if (Date.now() > end) throw new Error('the run wrote no manifest with jobs');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const r = c360(['runs', '--home', home, '--json']);
    expect(r.status).toBe(0);
    const listed = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ status: 'interrupted', command: expect.stringContaining('c360 run --input') });
    expect(listed[0].jobs).toBeGreaterThanOrEqual(3);
    const plain = c360(['runs', '--home', home]);
    expect(plain.stdout).toMatch(/interrupted .* stopped after \d+ job\(s\), last /);
  }, 180_000);

  it('a failed run is listed as failed with the failing job and its error', () => {
    const home = join(dir, 'failed');
    expect(c360(['run', '--input', sample, '--home', home, '--json', '--as-of', '2020-01-01']).status).toBe(2);
    const r = c360(['runs', '--home', home]);
    expect(r.stdout).toMatch(/failed .*resolve_as_of: --as-of 2020-01-01 is outside the data/);
  }, 180_000);
});

describe('--json', () => {
  it('a fatal error is one JSON line on stderr with the exit code, no stack trace; result lines on stdout are JSON', () => {
    const bad = c360(['run', '--home', join(dir, 'x'), '--json', '--as-of', '2026-02-30']);
    expect(bad.status).toBe(2);
    const line = JSON.parse(bad.stderr.trim());
    expect(line).toMatchObject({ level: 'error', command: 'run', exitCode: 2, msg: "--as-of must be a date YYYY-MM-DD, got '2026-02-30'" });
    expect(line.stack).toBeUndefined();
    const home = join(dir, 'ok');
    const ok = c360(['ingest', '--table', 'CUSTOMERS', '--file', join(sample, 'CUSTOMERS.parquet'), '--home', home, '--json']);
    expect(ok.status).toBe(0);
    for (const l of ok.stdout.trim().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
    expect(ok.stdout).toContain('"out":"CUSTOMERS: input');
  });
});

describe('the live status line', () => {
  it('is cleared before a result line or an error is written, so text never runs together', async () => {
    const { createLogger, clearStatusLine } = await import('../src/runtime/logger.ts');
    let screen = '';
    const tty = { isTTY: true, columns: 80, write: (s: string) => ((screen += s), true) } as unknown as NodeJS.WriteStream;
    const log = createLogger({ stream: tty });
    log.progress('ingesting CUSTOMERS', { file: 'a.csv' });
    expect(screen).toBe('\r\x1b[2K… ingesting CUSTOMERS  file=a.csv');
    clearStatusLine(); // what a stdout result line or a fatal error does first
    expect(screen.endsWith('\r\x1b[2K')).toBe(true);
    clearStatusLine(); // nothing showing: nothing written
    log.info('done');
    expect(screen).toBe('\r\x1b[2K… ingesting CUSTOMERS  file=a.csv\r\x1b[2Kdone\n');
  });
});
