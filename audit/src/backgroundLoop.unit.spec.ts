import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backgroundLoop } from './backgroundLoop';

/** A tick whose runs the test finishes by hand, recording when each started and whether two overlapped. */
function gatedTick(): { tick: () => Promise<void>; started: number; overlapped: boolean; finish: () => void } {
  const state = {
    started: 0,
    overlapped: false,
    running: false,
    release: [] as (() => void)[],
  };
  return {
    tick: async () => {
      if (state.running) state.overlapped = true;
      state.running = true;
      state.started += 1;
      await new Promise<void>((resolve) => state.release.push(resolve));
      state.running = false;
    },
    get started() {
      return state.started;
    },
    get overlapped() {
      return state.overlapped;
    },
    finish: () => state.release.shift()?.(),
  };
}

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('the audit background loop', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks at once, then every interval after the previous tick ended', async () => {
    const gate = gatedTick();
    const loop = backgroundLoop({ intervalMs: 1_000, tick: gate.tick, onError: () => undefined });
    await settle();
    expect(gate.started).toBe(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(gate.started).toBe(1); // still running: the timer is armed only when it ends
    gate.finish();
    await settle();
    await vi.advanceTimersByTimeAsync(999);
    expect(gate.started).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(gate.started).toBe(2);
    gate.finish();
    const stopping = loop.stop();
    await settle();
    await stopping;
  });

  it('runs one more tick for any number of wakes during a tick, never two at once', async () => {
    const gate = gatedTick();
    const loop = backgroundLoop({ intervalMs: 60_000, tick: gate.tick, onError: () => undefined });
    await settle();
    loop.wake();
    loop.wake();
    loop.wake();
    gate.finish();
    await settle();
    expect(gate.started).toBe(2);
    gate.finish();
    await settle();
    expect(gate.started).toBe(2);
    expect(gate.overlapped).toBe(false);
    await loop.stop();
  });

  it('runs exclusive work between ticks, never during one', async () => {
    const gate = gatedTick();
    const loop = backgroundLoop({ intervalMs: 60_000, tick: gate.tick, onError: () => undefined });
    await settle();
    let workRan = false;
    const work = loop.exclusive(() => {
      workRan = true;
      return Promise.resolve(42);
    });
    await settle();
    expect(workRan).toBe(false);
    gate.finish();
    await expect(work).resolves.toBe(42);
    await loop.stop();
  });

  it('stops after the running tick and starts no other', async () => {
    const gate = gatedTick();
    const loop = backgroundLoop({ intervalMs: 1_000, tick: gate.tick, onError: () => undefined });
    await settle();
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    loop.wake();
    await settle();
    expect(stopped).toBe(false);
    gate.finish();
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gate.started).toBe(1);
    expect(loop.stopped).toBe(true);
  });

  it('reports a failing tick and keeps ticking', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const loop = backgroundLoop({
      intervalMs: 1_000,
      tick: () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('database down')) : Promise.resolve();
      },
      onError: (error) => errors.push(error),
    });
    await settle();
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await loop.stop();
  });

  it('polls again after busyIntervalMs while ticks find work, and falls back to intervalMs when idle', async () => {
    const work = [true, true, false, true];
    const startedAt: number[] = [];
    const loop = backgroundLoop({
      intervalMs: 1_000,
      busyIntervalMs: 100,
      tick: () => {
        startedAt.push(Date.now());
        return Promise.resolve(work.shift() ?? false);
      },
      onError: () => undefined,
    });
    const t0 = Date.now();
    await settle();
    await vi.advanceTimersByTimeAsync(99);
    expect(startedAt).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(100);
    // The third tick found nothing: the next is a full interval later.
    expect(startedAt).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(999);
    expect(startedAt).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt.map((t) => t - t0)).toEqual([0, 100, 200, 1_200]);
    await loop.stop();
  });

  it('waits a full interval after a failing tick even when busy before', async () => {
    let calls = 0;
    const loop = backgroundLoop({
      intervalMs: 1_000,
      busyIntervalMs: 100,
      tick: () => {
        calls += 1;
        return calls === 2 ? Promise.reject(new Error('database down')) : Promise.resolve(true);
      },
      onError: () => undefined,
    });
    await settle();
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(3);
    await loop.stop();
  });
});
