import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const c360 = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/c360.mjs', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('c360 command line', () => {
  it('lists its commands and explains unknown ones with exit code 2', () => {
    const help = c360(['help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/\brun\b.*master pipeline/);
    expect(help.stdout).toMatch(/\bjob\b/);
    const unknown = c360(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown command 'frobnicate'/);
  });

  it('rejects bad options and bad dates with a clear message', () => {
    const bad = c360(['run', '--no-such-flag']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/no-such-flag/);
    const date = c360(['run', '--as-of', '31/12/2026']);
    expect(date.status).toBe(2);
    expect(date.stderr).toMatch(/--as-of must be a date YYYY-MM-DD, got '31\/12\/2026'/);
  });

  it('names the valid jobs when asked for an unknown one', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cli-'));
    const r = c360(['job', 'nope', '--home', home]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Unknown job 'nope'\. Jobs:/);
  });

  it('lists every job with its name and description apart', () => {
    const r = c360(['job', '--list']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line).toMatch(/^[a-z-]+ {2,}\S/);
  });
});
