import { describe, expect, it } from 'vitest';
import { bindParams, policyOf, topoSort, DEFAULT_POLICY, type Activity } from '../pipelines/ir.ts';
import type { Job } from '../src/runtime/job.ts';

const job: Job = { name: 'noop', description: 'does nothing', run: async () => {} };
const act = (name: string, dependsOn: string[] = []): Activity => ({ name, description: name, job, dependsOn });

describe('pipeline IR', () => {
  it('orders activities after their dependencies', () => {
    const order = topoSort([act('c', ['b']), act('a'), act('b', ['a'])]).map((a) => a.name);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('rejects unknown dependencies and cycles', () => {
    expect(() => topoSort([act('a', ['missing'])])).toThrow(/unknown activity 'missing'/);
    expect(() => topoSort([act('a', ['b']), act('b', ['a'])])).toThrow(/cycle/);
  });

  it('binds placeholders and refuses unknown ones', () => {
    expect(bindParams({ table: '{{item}}', d: 'x-{{runDate}}' }, { item: 'CUSTOMERS', runDate: '2026-01-02' })).toEqual({
      table: 'CUSTOMERS',
      d: 'x-2026-01-02',
    });
    expect(() => bindParams({ t: '{{nope}}' }, {})).toThrow(/Unknown placeholder \{\{nope\}\}/);
  });

  it('fills policy defaults', () => {
    expect(policyOf({ ...act('a'), policy: { retry: 5 } })).toEqual({ ...DEFAULT_POLICY, retry: 5 });
  });
});
