// One DuckDB instance per pipeline run, lent to its jobs one at a time. Opening an instance costs ~20-50 ms of a busy
// machine (thread pool, buffer manager, temp folder) and a daily run opens ~80 engines; a job instead gets a new
// connection whose default database is a new in-memory one (Engine.session), detached when the job closes it, so
// what it creates is gone as with an engine of its own. Engines with options (a database file, another memory limit)
// and engines asked for while the shared one is lent (a job holding two at once) are instances of their own.
import { Engine, type EngineOptions } from '../engine/duckdb.ts';

export class RunEngines {
  private base?: Engine;
  private lent?: Engine;
  private sessions = 0;
  /** The DETACH of the last session closed: the next session waits for it. */
  private detaching: Promise<void> = Promise.resolve();

  constructor(private readonly tempDirectory: string) {}

  async open(options: EngineOptions = {}): Promise<Engine> {
    const own = Object.values(options).some((v) => v !== undefined);
    if (own || this.lent) return Engine.open({ tempDirectory: this.tempDirectory, ...options });
    // Taken before the first await: a second open meanwhile gets an instance of its own.
    const placeholder = {} as Engine;
    this.lent = placeholder;
    try {
      await this.detaching;
      this.base ??= await Engine.open({ tempDirectory: this.tempDirectory });
      const base = this.base;
      const database = `job_${++this.sessions}`;
      let released = false;
      const session = await base.session(database, () => {
        if (released) return;
        released = true;
        if (this.lent === session) this.lent = undefined;
        this.detaching = base.run(`DETACH DATABASE IF EXISTS ${database}`).catch(() => undefined);
      });
      this.lent = session;
      return session;
    } catch (e) {
      if (this.lent === placeholder) this.lent = undefined;
      throw e;
    }
  }

  /** After a job: a session it left open is closed (the job is over; its tables go as its own instance's would). */
  afterJob(): void {
    if (this.lent && this.lent.connection) this.lent.close();
  }

  /** At the end of the run. */
  async close(): Promise<void> {
    this.afterJob();
    await this.detaching;
    this.base?.close();
    this.base = undefined;
  }
}
