// Starting snapshot build processes, shared by the server (its first build, and the build host) and the build host
// (every later build). Node built-ins only: the build host loads this and nothing heavier.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** chrt (util-linux), to start a build in the SCHED_IDLE class; null where absent (then nice 19). */
const CHRT = ['/usr/bin/chrt', '/bin/chrt'].find((f) => existsSync(f)) ?? null;
/** taskset (util-linux), to keep a build off some CPUs; null where absent. */
const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((f) => existsSync(f)) ?? null;

/** How a process is placed: its CPU class or nice value, and the CPUs it may run on. */
export interface Placement {
  /** 'idle': the SCHED_IDLE class (nice 19 without chrt); a number: that nice value. */
  priority: 'idle' | number;
  /** CPUs it may run on (a taskset list, e.g. '1'); absent: all. */
  cpus?: string;
}

/**
 * The CPUs a build beside a serving snapshot may use: all but the first, so one CPU never runs the build, not even
 * the kernel's work done for it (its writes, page faults, the pages freed when it deletes a file or exits), which
 * SCHED_IDLE does not cover: at a million people a build confined this way slowed requests far less
 * (docs/serving.md). C360_SERVE_BUILD_CPUS overrides it ('all': no confinement). Null: all CPUs (one CPU, or no taskset).
 */
export function besideBuildCpus(): string | null {
  const env = process.env.C360_SERVE_BUILD_CPUS;
  if (env === 'all') return null;
  if (env) return /^[\d,-]+$/.test(env) ? env : null;
  const n = availableParallelism();
  return n >= 2 && TASKSET ? (n === 2 ? '1' : `1-${n - 1}`) : null;
}

/**
 * Forks `script` (TypeScript, through tsx) with an IPC channel, placed by taskset and chrt; they exec node with the
 * IPC descriptor fork opened, so the child talks to its parent as if forked directly. A nice value is the child's
 * own to set (before it starts threads, which inherit it).
 */
export function forkPlaced(script: string, p: Placement | null, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const chrt = p?.priority === 'idle' ? CHRT : null;
  const wrap = [...(p?.cpus && TASKSET ? [TASKSET, '-c', p.cpus] : []), ...(chrt ? [chrt, '--idle', '0'] : [])];
  return fork(script, [], {
    execPath: wrap[0] ?? process.execPath,
    execArgv: [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), '--import', tsx],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env,
  });
}

/** The build process's script. */
export const BUILDER_SCRIPT = fileURLToPath(new URL('./snapshot-builder.ts', import.meta.url));
/** The build host's script. */
export const HOST_SCRIPT = fileURLToPath(new URL('./build-host.ts', import.meta.url));
