/** Stops, in reverse order, whatever global-setup started (and nothing it found running). */
export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as any).__TRELLIS_SERVICES__ as { stop: (() => Promise<void>)[] } | undefined;
  if (!state) return;
  for (const stop of state.stop.reverse()) {
    await stop().catch((err) => console.error(`[teardown] ${String(err)}`));
  }
  state.stop = [];
}
