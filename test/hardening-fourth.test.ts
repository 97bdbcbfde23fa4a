// Issue 19, fourth pass. The leftover of the third: `c360 run` on an existing home whose lake held no dated rows ran
// Silver (and wrote a manifest) before failing at the as-of date; `c360 job` refused a wrong input folder or as-of date
// only after taking the home lock, so a typo'd home was created and a failed manifest written. Every such refusal now
// happens before the lock and before any stage.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-fourth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI in process, capturing what it writes. */
async function c360(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += String(c)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
  try {
    return { code: await main([...argv]), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('run-wide values are settled before any stage', () => {
  it('`c360 run` on an existing home whose lake holds no dated rows is refused before the lock: no manifest, no Silver', async () => {
    const home = join(dir, 'empty-home');
    await mkdir(join(home, 'lake'), { recursive: true });
    const r = await c360('run', '--home', home, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('No dated rows in the lake');
    expect((await readdir(home)).sort()).toEqual(['lake']);
    expect(await readdir(join(home, 'lake'))).toEqual([]);
  });

  it('a run whose drops bring no dated rows stops right after Bronze ingestion: no Silver or Gold job ran', async () => {
    const home = join(dir, 'empty-input');
    const input = join(dir, 'no-drops');
    await mkdir(input);
    const r = await c360('run', '--home', home, '--json', '--input', input);
    expect(r.code).toBe(2);
    const [file] = await readdir(join(home, 'runs'));
    const manifest = JSON.parse(await readFile(join(home, 'runs', file!), 'utf8')) as { status: string; jobs: { stage: string; activity: string; status: string }[] };
    expect(manifest.status).toBe('failed');
    expect(manifest.jobs.at(-1)).toMatchObject({ activity: 'resolve_as_of', stage: 'silver_processing', status: 'failed' });
    expect(manifest.jobs.filter((j) => j.status !== 'skipped' && j.activity !== 'resolve_as_of').map((j) => j.stage)).toEqual(
      manifest.jobs.filter((j) => j.status !== 'skipped' && j.activity !== 'resolve_as_of').map(() => 'bronze_ingestion'),
    );
    expect(existsSync(join(home, 'lake', 'silver'))).toBe(false);
  });

  it('a wrong pipeline value with --input is refused before the home is created', async () => {
    const home = join(dir, 'never', 'home');
    const input = join(dir, 'no-drops-2');
    await mkdir(input);
    for (const [flag, value] of [['--horizon-days', 'abc'], ['--train-every-days', '0'], ['--as-of', '2026-02-30']]) {
      const r = await c360('run', '--home', home, '--json', '--input', input, flag!, value!);
      expect(r.code, flag).toBe(2);
      expect(existsSync(join(dir, 'never')), flag).toBe(false);
    }
  });

  it('`c360 job` refuses a missing input folder, a bad value, an unknown or extra job, and an as-of with no data before the lock: the home is not created', async () => {
    const home = join(dir, 'job', 'home');
    const cases: [string[], string][] = [
      [['bronze-ingest', '--param', 'table=CUSTOMERS', '--param', `input=${join(dir, 'nope')}`], 'is neither a local folder nor a prefix in the lake'],
      [['bronze-ingest', '--param', 'table=CUSTOMERS', '--param', 'input=x', '--param', 'input=y'], '--param input is given twice'],
      [['bronze-ingest', '--param', 'table'], '--param takes name=value'],
      [['no-such-job'], "Unknown job 'no-such-job'"],
      [['silver-identity', 'extra'], "'extra' is extra"],
      [['warehouse-load', '--run-date', '2026-02-30'], '--run-date must be a date'],
      [['warehouse-load'], 'No dated rows in the lake'],
    ];
    for (const [args, message] of cases) {
      const r = await c360('job', ...args, '--home', home, '--json');
      expect(r.err, args.join(' ')).toContain(message);
      expect(r.code, args.join(' ')).toBe(2);
      expect(existsSync(join(dir, 'job')), args.join(' ')).toBe(false);
    }
  });
});
