// The temp folder and DuckDB engine most test files open once and close after all their tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';

/** Opens a temp folder (named by `prefix`) and an engine before the file's tests; hands them to `use`; removes both after. */
export function withTempEngine(prefix: string, use: (dir: string, engine: Engine) => void): void {
  let dir: string | undefined;
  let engine: Engine | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    engine = await Engine.open();
    use(dir, engine);
  });
  afterAll(async () => {
    engine?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}
