import { EmbeddedPostgresOptions, postmasterPid, processAlive, startEmbeddedPostgres, stopEmbeddedPostgres } from './embedded-postgres.launcher';

export interface SupervisorOptions {
  /** How often the postmaster's pid is checked. */
  checkIntervalMs?: number;
  /** First wait after a failed restart, doubled per failure up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Where the supervisor says what it does (PostgreSQL's own output goes to the server's `log`). */
  log?: (line: string) => void;
}

/**
 * Keeps the embedded PostgreSQL of the process that owns it running: when its postmaster is gone
 * (killed, crashed), the server is started again on the same port and data, with backoff while
 * it refuses (its old backends still hold the shared memory for a moment). The pool and the
 * LISTEN connection reconnect by themselves; meanwhile requests fail with connection errors,
 * which the HTTP filter answers with 503 and Retry-After.
 */
export class EmbeddedPostgresSupervisor {
  private timer?: NodeJS.Timeout;
  private restarting?: Promise<void>;
  private stopped = false;
  private up = true;

  constructor(
    private readonly server: EmbeddedPostgresOptions,
    private readonly options: SupervisorOptions = {},
  ) {}

  /** False from the moment the postmaster is found gone until it has been restarted. */
  get available(): boolean {
    return this.up;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs ?? 500);
    this.timer.unref();
  }

  /** Stops supervising (a restart under way finishes first), then stops the server. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.restarting;
    await stopEmbeddedPostgres(this.server.dataDir);
  }

  private async check(): Promise<void> {
    if (this.stopped || this.restarting) return;
    const pid = await postmasterPid(this.server.dataDir);
    if (pid !== undefined && processAlive(pid)) return;
    if (this.stopped || this.restarting) return;
    this.up = false;
    this.restarting = this.restart().finally(() => (this.restarting = undefined));
  }

  private async restart(): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    log(`[trellis] the embedded PostgreSQL on port ${this.server.port} is gone; restarting it`);
    let delay = this.options.initialBackoffMs ?? 250;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await startEmbeddedPostgres(this.server);
        this.up = true;
        log(`[trellis] the embedded PostgreSQL on port ${this.server.port} runs again (attempt ${attempt})`);
        return;
      } catch (err) {
        // Started, but a later step failed (creating the database): it runs, so it is back.
        const pid = await postmasterPid(this.server.dataDir);
        if (pid !== undefined && processAlive(pid)) {
          this.up = true;
          return;
        }
        log(`[trellis] restart ${attempt} of the embedded PostgreSQL failed (${(err as Error).message}); next try in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.options.maxBackoffMs ?? 5_000);
      }
    }
  }
}
