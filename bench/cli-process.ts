// A `c360` command as a child process for the benchmarks that measure a server in its own process (the collector,
// the local hub, the profile API): start it, wait for the line it prints when ready, read its RSS and CPU from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultLine } from '../src/cli/command.ts';

const CLI = join(import.meta.dirname, '..', 'bin', 'c360.mjs');

/** Starts `c360 ARGS...` and resolves with the first result line on stdout (unwrapped from --json) `ready` accepts. */
/** `detached`: in a session of its own, so its CPU share can be set apart from the bench's (see autogroupNice). */
export function startCli(args: string[], ready: (line: string) => boolean, env?: NodeJS.ProcessEnv, detached = false): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env }, detached });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').map((l) => resultLine(l.trim())).find(ready);
      if (line) resolve({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`c360 ${args[0]} exited with ${code}: ${err}`)));
  });
}

/** SIGTERM, resolved once the process has exited. */
export const stopChild = (child: ChildProcess) =>
  new Promise<void>((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });

/** Current resident set of another process, in MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU seconds (user + system) another process has used, from /proc (clock ticks of 1/100 s). */
export function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Sets the scheduling weight of a process's session (Linux autogroup: with autogroups on, CPU is shared between
 * sessions first, so a process's own nice value only ranks it within its session). False where not possible.
 */
export function autogroupNice(pid: number, nice: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
    return true;
  } catch {
    return false;
  }
}
