/** Stops, in reverse order, whatever global-setup started (and nothing it found running). */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __TRELLIS_SERVICES__?: { stop: (() => Promise<void>)[] } }).__TRELLIS_SERVICES__;
  if (!state) return;
  for (const stop of state.stop.reverse()) {
    await stop().catch((err) => console.error(`[teardown] ${String(err)}`));
  }
  state.stop = [];
}
