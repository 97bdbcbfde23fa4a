// The build host: a small long-lived process the server starts with its first build, before it serves, which forks
// every later snapshot build when the server asks, so the server never forks while it serves (a fork copies the
// forking process's page tables: 2-12 ms of the server's main thread at a million people, docs/serving.md). It is
// placed as builds beside a serving snapshot are (SCHED_IDLE or its nice value, off the first CPU), and the builds it
// forks inherit that. It relays each build's pid, answer and exit; the server kills builds by pid itself.
import type { ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { BUILDER_SCRIPT, forkPlaced } from './build-launch.ts';
import { buildStep } from './build-timing.ts';

export type HostRequest = { init: { nice: number } } | { build: { id: number; job: unknown; env: NodeJS.ProcessEnv } } | { stop: true };
export type HostReport = { ready: true } | { id: number; pid: number } | { id: number; answer: unknown } | { id: number; exit: string };

const builds = new Map<number, ChildProcess>();
const send = (m: HostReport) => process.send!(m);
const killAll = () => {
  for (const c of builds.values()) c.kill('SIGKILL');
};

if (process.send) {
  process.once('disconnect', () => {
    killAll(); // the server is gone: nobody will open what the builds make
    process.exit(1);
  });
  process.on('message', (m: HostRequest) => {
    if ('init' in m) {
      setPriority(0, m.init.nice);
      send({ ready: true });
    } else if ('stop' in m) {
      killAll();
    } else {
      const { id, job, env } = m.build;
      const started = performance.now();
      const c = forkPlaced(BUILDER_SCRIPT, null, env);
      buildStep(started, 'the build host forked the build process');
      builds.set(id, c);
      send({ id, pid: c.pid! });
      c.once('message', (answer) => {
        send({ id, answer });
        c.kill();
      });
      c.once('error', (e) => {
        builds.delete(id);
        send({ id, exit: e.message });
      });
      c.once('exit', (code, signal) => {
        buildStep(started, 'the build process exited');
        builds.delete(id);
        send({ id, exit: signal ?? `exit ${code}` });
      });
      c.send({ build: job });
    }
  });
}
