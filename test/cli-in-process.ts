// The CLI run in this test process (no child process): what it wrote to stdout and stderr, and its exit code.
import { vi } from 'vitest';
import { main } from '../src/cli/main.ts';

/** Runs `c360 ...argv` in process, capturing what it writes. */
export async function c360(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
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
