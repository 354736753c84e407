import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import { EVENTS_CHANNEL } from './postgres-event-store';

/** The emitter's key for listeners to every log (a symbol: no log name can collide with it). */
const ANY_LOG = Symbol('any log');

/**
 * One LISTEN connection per process, waking every subscription of a log when an append to it
 * commits. Notifications are only a hint: subscriptions also poll, so a dropped connection
 * delays delivery but never loses an event.
 */
export class LogNotifier {
  private readonly emitter = new EventEmitter();
  private client?: Client;
  private closed = false;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly log: (m: string) => void = () => undefined,
  ) {
    this.emitter.setMaxListeners(0);
  }

  async start(): Promise<void> {
    this.closed = false;
    await this.connect().catch((err) => {
      this.log(`[log-notifier] LISTEN unavailable, polling only: ${String(err)}`);
      this.scheduleReconnect();
    });
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  /** Calls `listener` at every append to `log` until the returned function is called. */
  subscribe(log: string, listener: () => void): () => void {
    this.emitter.on(log, listener);
    return () => this.emitter.off(log, listener);
  }

  /** Calls `listener` with the log's name at every append to any log, until the returned function is called. */
  subscribeAll(listener: (log: string) => void): () => void {
    this.emitter.on(ANY_LOG, listener);
    return () => this.emitter.off(ANY_LOG, listener);
  }

  /** Resolves at the next append to `log`, or after `timeoutMs`, whichever comes first. */
  wait(log: string, timeoutMs: number): { promise: Promise<void>; cancel: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let onNotify: (() => void) | undefined;
    const promise = new Promise<void>((resolve) => {
      onNotify = () => resolve();
      timer = setTimeout(resolve, timeoutMs);
      this.emitter.once(log, onNotify);
    }).finally(() => {
      clearTimeout(timer);
      if (onNotify) this.emitter.off(log, onNotify);
    });
    return { promise, cancel: () => onNotify?.() };
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel !== EVENTS_CHANNEL || !msg.payload) return;
      this.emitter.emit(msg.payload);
      this.emitter.emit(ANY_LOG, msg.payload);
    });
    // A server that went away (crashed, restarted) ends the connection with an error or just an
    // end; either way LISTEN is off until a new connection is made.
    const lost = (why: string) => {
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      if (this.closed) return;
      this.log(`[log-notifier] connection lost: ${why}`);
      this.scheduleReconnect();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('ended by the server'));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (err) {
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed && !this.client) this.connect().catch(() => this.scheduleReconnect());
    }, 2000);
  }
}
