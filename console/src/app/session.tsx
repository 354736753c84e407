import { createContext, useContext } from 'react';
import { ApiClient } from '../api/api-client';

/** Who is signed in, as /auth/whoami says, with a client carrying their token. */
export interface Session {
  principalId: string;
  displayName: string | null;
  roles: string[];
  api: ApiClient;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

export function hasRole(session: Session, ...roles: string[]): boolean {
  return session.roles.includes('admin') || roles.some((r) => session.roles.includes(r));
}

/**
 * The token lives in sessionStorage: gone when the tab closes, never sent anywhere but this
 * origin's API. A link may carry it in the fragment (`/console/#token=trl_...`, what the demo
 * prints), which browsers never send to a server; it is moved into storage and taken off the URL.
 */
const KEY = 'trellis.token';

export function takeTokenFromLocation(): string | null {
  const m = /(?:^#|&)token=(trl_[A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (m) {
    sessionStorage.setItem(KEY, m[1]);
    history.replaceState(null, '', window.location.pathname + '#/');
  }
  return sessionStorage.getItem(KEY);
}

export function storeToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

export async function signIn(token: string): Promise<Session> {
  const api = new ApiClient(token);
  const who = await api.get<{ principalId: string; displayName: string | null; roles: string[] }>('/auth/whoami');
  return { ...who, api };
}
