// `c360 evaluate` end to end: the table on stdout and the run manifest with the metrics.
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../src/cli/commands/evaluate.ts';
import { createLogger } from '../src/runtime/logger.ts';

const CDNOW = new URL('./fixtures/clv/CDNOW_sample.txt', import.meta.url).pathname;

describe('c360 evaluate', () => {
  it('prints the comparison table and writes the run manifest', async () => {
    const home = await mkdtemp(join(tmpdir(), 'evalcli-'));
    const lines: string[] = [];
    const code = await command.run({ home, cdnow: CDNOW, 'as-of': '1997-12-29', 'horizon-days': '90' }, [], { log: createLogger({ silent: true }), out: (l) => lines.push(l) });
    expect(code).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/up to 1997-09-30; holdout \(1997-09-30, 1997-12-29\]/);
    expect(text).toMatch(/\| past_spend \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] \| baseline: historical spend \|/);
    expect(text).toMatch(/\| \*\*churn\*\* \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] \| model: /);
    expect(text).toMatch(/\| recency \| 0\.\d{4} \[0\.\d{4}, 0\.\d{4}\] \| baseline: days since last purchase \|/);
    const files = await readdir(join(home, 'runs'));
    expect(files).toHaveLength(1);
    const manifest = JSON.parse(await readFile(join(home, 'runs', files[0]!), 'utf8'));
    expect(manifest).toMatchObject({ pipeline: 'evaluate', status: 'succeeded', asOf: '1997-12-29' });
    const ev = manifest.jobs[0].metrics.evaluation;
    expect(ev.cutoff).toBe('1997-09-30');
    expect(ev.clv.spearman).toBeGreaterThan(ev.clv.baselinePastSpendSpearman);
    expect(manifest.jobs[0].rowCounts['input.base_tx']).toBe(6919);
  });

  it('rejects a bad horizon and conflicting sources', async () => {
    const io = { log: createLogger({ silent: true }), out: () => {} };
    await expect(command.run({ home: tmpdir(), 'horizon-days': 'x' }, [], io)).rejects.toThrow(/--horizon-days must be a whole number/);
    await expect(command.run({ home: tmpdir(), cdnow: CDNOW, synthetic: true, 'horizon-days': '30' }, [], io)).rejects.toThrow(/alternatives/);
    await expect(command.run({ home: tmpdir(), cdnow: CDNOW, transactions: CDNOW, 'horizon-days': '30' }, [], io)).rejects.toThrow(/alternatives/);
  });
});
