// A background task run now and then again `intervalMs` after each run ends, never two at once, so a
// run that takes long (Redis away: commands wait for it) delays the next instead of piling runs up.
export interface Repeating {
  /** No run starts after this; resolves once the one under way, if any, has ended. */
  stop(): Promise<void>;
}

export function repeatEvery(task: () => Promise<void>, intervalMs: number): Repeating {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    await task();
    if (stopped) return;
    timer = setTimeout(() => (running = loop()), intervalMs);
    timer.unref();
  };
  let running = loop();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
