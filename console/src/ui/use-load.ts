import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/api-client';

export interface Loaded<T> {
  data?: T;
  error?: ApiError | Error;
  loading: boolean;
  reload(): void;
}

/**
 * Runs a load when its keys change and keeps the newest answer only (a slow answer to an older
 * key never overwrites a newer one). `every` (ms) polls while the page is open: a running job's
 * status and loss curve.
 */
export function useLoad<T>(load: () => Promise<T>, keys: unknown[], every?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  const run = useCallback(load, keys);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: unknown) => mine === seq.current && setState({ error: error instanceof Error ? error : new Error(String(error)), loading: false }),
    );
  }, [run, tick]);
  useEffect(() => {
    if (!every) return;
    const id = setInterval(() => setTick((t) => t + 1), every);
    return () => clearInterval(id);
  }, [every]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}
