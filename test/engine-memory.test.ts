// The engine's memory limit: DuckDB's own default (80% of RAM) leaves too little for the rest of the process.
import { totalmem } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, defaultMemoryLimit } from '../src/engine/duckdb.ts';

const limitOf = async (e: Engine) => {
  try {
    return String(await e.scalar(`SELECT current_setting('memory_limit')`));
  } finally {
    e.close();
  }
};
const saved = process.env.C360_DUCKDB_MEMORY_LIMIT;
afterEach(() => {
  if (saved === undefined) delete process.env.C360_DUCKDB_MEMORY_LIMIT;
  else process.env.C360_DUCKDB_MEMORY_LIMIT = saved;
});

describe('engine memory limit', () => {
  it('defaults to 40% of memory, takes C360_DUCKDB_MEMORY_LIMIT, and an explicit option wins', async () => {
    delete process.env.C360_DUCKDB_MEMORY_LIMIT;
    const mib = Number(/^(\d+)MiB$/.exec(defaultMemoryLimit())?.[1]);
    expect(mib).toBeGreaterThan((totalmem() / 2 ** 20) * 0.35);
    expect(mib).toBeLessThan((totalmem() / 2 ** 20) * 0.45);
    const gib = (s: string) => Number(/^([\d.]+) GiB$/.exec(s)?.[1]);
    expect(gib(await limitOf(await Engine.open()))).toBeCloseTo(mib / 1024, 1);
    process.env.C360_DUCKDB_MEMORY_LIMIT = '2GB';
    expect(await limitOf(await Engine.open())).toBe('1.8 GiB');
    expect(await limitOf(await Engine.open({ memoryLimit: '1GB' }))).toBe('953.6 MiB');
  });

  it('names the variable and the value DuckDB refused', async () => {
    process.env.C360_DUCKDB_MEMORY_LIMIT = 'lots';
    await expect(Engine.open()).rejects.toThrow(/C360_DUCKDB_MEMORY_LIMIT 'lots' must be a size with a unit, such as 8GB/);
    await expect(Engine.open({ memoryLimit: '80%' })).rejects.toThrow(/memory limit '80%' must be a size/);
  });
});
