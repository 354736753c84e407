import { LogNotifier } from './log-notifier';

/** The part of LogNotifier a follower uses. */
export type AppendSignal = Pick<LogNotifier, 'subscribe'>;

/**
 * What every loop that follows a log shares (subscriptions, relays): its position, callers
 * waiting for it to reach a position, and an idle wait that ends at the next append to the log
 * (LISTEN/NOTIFY), after a poll interval, or when the loop is told to stop.
 *
 * It listens for the whole time the loop runs, not only while idle: an append that commits while
 * the loop is reading or publishing makes the next idle return at once, instead of being missed
 * and waiting out the poll interval.
 */
export class LogFollower {
  position = 0;
  private active = false;
  private loop?: Promise<void>;
  private readonly waiters: { position: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private wakeUp?: () => void;
  /** An append was signalled since the last idle. */
  private appended = false;
  /** Idle, and ending at the next append. */
  private listening = false;
  private unsubscribe?: () => void;

  constructor(
    private readonly log: string,
    private readonly notifier?: AppendSignal,
  ) {}

  get running(): boolean {
    return this.active;
  }

  /** Runs `body` (which loops while `running`) in the background. */
  launch(body: () => Promise<void>): void {
    this.active = true;
    this.unsubscribe?.();
    this.unsubscribe = this.notifier?.subscribe(this.log, () => {
      this.appended = true;
      if (this.listening) this.wake();
    });
    this.loop = body();
  }

  /** Ends the loop after its current step, then fails whoever still waits for a position. */
  async halt(name: string): Promise<void> {
    this.active = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.wake();
    await this.loop;
    this.loop = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} stopped at ${this.position}`));
  }

  /** Resolves once the position reaches `position`; rejects if the loop stops first. */
  waitFor(position: number): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ position, resolve, reject }));
  }

  /** May move backwards, when a stored checkpoint was rewound under the loop. */
  advance(position: number): void {
    this.position = position;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].position <= position) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  /**
   * Waits for the next append to the log (or just `ms` without a notifier), or for wake(). An
   * append since the last idle ends it at once. `listen` false (a back-off after an error) waits
   * the whole `ms` whatever is appended.
   */
  async idle(ms: number, listen = true): Promise<void> {
    if (listen && this.notifier && this.appended) {
      this.appended = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.listening = listen;
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.listening = false;
    this.wakeUp = undefined;
    if (listen) this.appended = false;
  }

  wake(): void {
    this.wakeUp?.();
  }
}
