import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MasterPipeline } from '../pipelines/ir.ts';
import { LocalLake } from '../src/lake/index.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { C360Error, TransientError } from '../src/runtime/errors.ts';
import type { Job } from '../src/runtime/job.ts';
import { silentLogger } from '../src/runtime/logger.ts';

async function setup() {
  const home = await mkdtemp(join(tmpdir(), 'runner-'));
  return { home, lake: new LocalLake(join(home, 'lake')) };
}

/** The runner refuses parameters a job does not declare: declare the ones the test pipeline binds. */
const declaring = (job: Job, name: string): Job => ({ ...job, params: [{ name, description: name }] });

function pipeline(jobs: { a: Job; b: Job; c: Job }, opts: { retry?: number; when?: string } = {}): MasterPipeline {
  return {
    name: 'test_master',
    description: 't',
    parameters: [{ name: 'flag', type: 'Bool', description: 'f', default: false }],
    stages: [
      {
        name: 'one',
        title: 'One',
        description: '',
        activities: [
          { name: 'b', description: '', job: declaring(jobs.b, 't'), dependsOn: ['a'], params: { t: '{{item}}' }, forEach: { items: ['X', 'Y'] }, policy: { retry: opts.retry ?? 0 } },
          { name: 'a', description: '', job: declaring(jobs.a, 'd'), params: { d: '{{runDate}}' } },
        ],
      },
      { name: 'two', title: 'Two', description: '', activities: [{ name: 'c', description: '', job: jobs.c, when: opts.when }] },
    ],
  };
}

describe('local runner', () => {
  it('runs stages in order, activities after their dependencies, fan-out per item, and writes the manifest', async () => {
    const { home, lake } = await setup();
    const calls: string[] = [];
    const mk = (name: string): Job => ({
      name,
      description: name,
      run: async (ctx) => {
        calls.push(`${name}:${JSON.stringify(ctx.params)}`);
        ctx.report.rowCounts[name] = 3;
      },
    });
    const m = await runPipeline({ home, lake, log: silentLogger, runDate: '2026-02-03', runId: 'r1', pipeline: pipeline({ a: mk('a'), b: mk('b'), c: mk('c') }) });
    expect(calls).toEqual(['a:{"d":"2026-02-03"}', 'b:{"t":"X"}', 'b:{"t":"Y"}', 'c:{}']);
    expect(m.status).toBe('succeeded');
    const onDisk = JSON.parse(await readFile(join(home, 'runs', 'r1.json'), 'utf8'));
    expect(onDisk.jobs.map((j: { activity: string }) => j.activity)).toEqual(['a', 'b[X]', 'b[Y]', 'c']);
    expect(onDisk.jobs[0].rowCounts).toEqual({ a: 3 });
    expect(onDisk.loadId).toBe('r1');
  });

  it('retries transient failures by policy, and stops the run on a terminal failure', async () => {
    const { home, lake } = await setup();
    let attempts = 0;
    const flaky: Job = { name: 'b', description: '', run: async () => { if (++attempts < 2) throw new TransientError('blip'); } };
    const ok: Job = { name: 'ok', description: '', run: async () => {} };
    const m = await runPipeline({ home, lake, log: silentLogger, pipeline: pipeline({ a: ok, b: flaky, c: ok }, { retry: 3 }), retryIntervalOverride: 0 });
    expect(m.status).toBe('succeeded');
    expect(m.jobs.find((j) => j.activity === 'b[X]')?.attempts).toBe(2);

    let cRan = false;
    const broken: Job = { name: 'b', description: '', run: async () => { throw new C360Error('bad data'); } };
    const c: Job = { name: 'c', description: '', run: async () => { cRan = true; } };
    const failed = await runPipeline({ home, lake, log: silentLogger, pipeline: pipeline({ a: ok, b: broken, c }, { retry: 3 }), retryIntervalOverride: 0 });
    expect(failed.status).toBe('failed');
    expect(failed.jobs.find((j) => j.activity === 'b[X]')).toMatchObject({ status: 'failed', attempts: 1, error: { message: 'bad data', transient: false } });
    expect(cRan).toBe(false);
  });

  it('skips activities whose condition parameter is false', async () => {
    const { home, lake } = await setup();
    let ran = 0;
    const j: Job = { name: 'j', description: '', run: async () => { ran++; } };
    const off = await runPipeline({ home, lake, log: silentLogger, pipeline: pipeline({ a: j, b: j, c: j }, { when: 'flag' }) });
    expect(off.jobs.find((x) => x.activity === 'c')?.status).toBe('skipped');
    expect(ran).toBe(3);
    await runPipeline({ home, lake, log: silentLogger, params: { flag: 'true' }, pipeline: pipeline({ a: j, b: j, c: j }, { when: 'flag' }) });
    expect(ran).toBe(7);
  });
});
