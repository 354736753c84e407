import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { LogNotifier } from '@trellis/event-store';
import { retryDelayMs } from './webhook-backoff';
import { WEBHOOK_CONFIG, WebhookConfig } from './webhook.config';
import { openWebhookSecret } from './webhook-secret.cipher';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';
import { ClaimedDelivery, WebhookStore } from './webhook.store';

/** How an attempt ended, in words safe to store and log: never the receiver's body, never the URL. */
type Outcome = { kind: 'delivered'; statusCode: number } | { kind: 'failed'; statusCode: number | null; error: string } | { kind: 'abandoned' };

/** A claim outlives the attempt by this much, so a slow database write after the POST does not lose it. */
const LEASE_MARGIN_MS = 30_000;
/** Shutdown waits at most this long for the loop to give back what it holds. */
const STOP_GRACE_MS = 5_000;
const NETWORK_CODE = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * Sends due deliveries while the application runs: claims a batch (SKIP LOCKED, so any number
 * of processes may run a sender), POSTs each with its signature and a timeout, and records the
 * outcome: 2xx delivered; anything else, a redirect included (not followed: where a receiver
 * moved is for an admin to register), another attempt after the backoff, until the last attempt
 * fails the delivery. Woken at once by commits to the registry log, else every pollMs.
 */
@Injectable()
export class WebhookSender implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('RegistryWebhooks');
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private readonly shutdown = new AbortController();

  constructor(
    private readonly store: WebhookStore,
    @Inject(WEBHOOK_CONFIG) private readonly config: WebhookConfig,
    @Optional() @Inject(LogNotifier) private readonly notifier?: LogNotifier,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.concurrency === 0 || this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    this.shutdown.abort();
    this.wake?.();
    if (!this.loop) return;
    // Bounded: a database that no longer answers must not hold the process open.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
    clearTimeout(timer);
    this.loop = undefined;
  }

  /** Look for due deliveries now rather than at the next poll. */
  nudge(): void {
    this.wake?.();
  }

  /** One round: claim and send what is due; the number of deliveries attempted. */
  async sendDue(): Promise<number> {
    const claimed = await this.store.claimDue(this.config.concurrency || 1, this.config.timeoutMs + LEASE_MARGIN_MS);
    await Promise.all(claimed.map((d) => this.attempt(d)));
    return claimed.length;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let attempted = 0;
      try {
        attempted = await this.sendDue();
      } catch (err) {
        // The database was away or busy: the next round tries again; no row is lost meanwhile.
        if (!this.stopping) this.logger.warn(`webhook round failed: ${errorCode(err)}`);
      }
      // A full batch suggests more is due: go on without waiting.
      if (!this.stopping && attempted < (this.config.concurrency || 1)) await this.idle();
    }
  }

  private async idle(): Promise<void> {
    const waits = (this.notifier ? this.config.wakeOnLogs : []).map((log) => this.notifier!.wait(log, this.config.pollMs));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => {
        this.wake = r;
        timer = setTimeout(r, this.config.pollMs);
      }),
      ...waits.map((w) => w.promise),
    ]);
    clearTimeout(timer);
    this.wake = undefined;
    for (const w of waits) w.cancel();
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const outcome = await this.post(d);
    try {
      if (outcome.kind === 'abandoned') {
        await this.store.release(d.id, d.attempt);
        return;
      }
      if (outcome.kind === 'delivered') {
        await this.store.recordDelivered(d.id, d.attempt, outcome.statusCode);
        return;
      }
      const last = d.attempt >= this.config.backoff.maxAttempts || d.webhookDisabled;
      const retryInMs = last ? null : retryDelayMs(d.attempt, d.id, this.config.backoff);
      const recorded = await this.store.recordFailure(d.id, d.attempt, { statusCode: outcome.statusCode, error: outcome.error, retryInMs });
      if (recorded && last) {
        this.logger.warn(`delivery ${d.id} of webhook ${d.webhookId} failed after ${d.attempt} attempt${d.attempt === 1 ? '' : 's'}: ${outcome.error}`);
      }
    } catch (err) {
      // The claim stays: the delivery is due again when its lease ends.
      this.logger.warn(`delivery ${d.id} of webhook ${d.webhookId}: outcome not recorded (${errorCode(err)})`);
    }
  }

  private async post(d: ClaimedDelivery): Promise<Outcome> {
    if (d.webhookDisabled) return { kind: 'failed', statusCode: null, error: 'webhook disabled' };
    const secret = openWebhookSecret(this.config.secretKey, d.webhookId, d.secretSealed);
    if (secret === null) return { kind: 'failed', statusCode: null, error: 'signing secret does not open with this process key (REGISTRY_WEBHOOK_KEY)' };
    if (this.shutdown.signal.aborted) return { kind: 'abandoned' };
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, this.shutdown.signal]),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Trellis-Webhooks/1',
          [SIGNATURE_HEADER]: signWebhook(secret, d.body, Math.floor(Date.now() / 1000)),
          'Trellis-Event-Type': d.eventType,
          'Trellis-Delivery-Id': d.id,
        },
      });
      // The receiver's body is never read into anything kept: it may quote the event or worse.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { kind: 'delivered', statusCode: res.status };
      const what = res.status >= 300 && res.status < 400 ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}`;
      return { kind: 'failed', statusCode: res.status, error: what };
    } catch (err) {
      if (this.shutdown.signal.aborted) return { kind: 'abandoned' };
      if (timeout.aborted) return { kind: 'failed', statusCode: null, error: `no answer within ${this.config.timeoutMs} ms` };
      return { kind: 'failed', statusCode: null, error: `network error (${errorCode(err)})` };
    }
  }
}

/** An error's code (ECONNREFUSED, a SQLSTATE), never its message, which may name the address or quote input. */
function errorCode(err: unknown): string {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NETWORK_CODE.test(e.code)) return e.code;
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return `SQLSTATE ${e.code}`;
  }
  return err instanceof Error ? err.name : 'unknown';
}
