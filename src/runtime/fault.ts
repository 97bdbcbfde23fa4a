// Fault injection for the crash tests: with C360_FAULT=<point>, the process kills itself with SIGKILL when it reaches
// that point (e.g. between a dataset's data files and its state commit), the window a commit protocol must survive.
export function faultPoint(name: string): void {
  if (process.env.C360_FAULT && process.env.C360_FAULT === name) process.kill(process.pid, 'SIGKILL');
}
