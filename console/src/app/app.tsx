import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError } from '../api/api-client';
import { ErrorNote } from '../ui/components';
import { hasRole, signIn, storeToken, takeTokenFromLocation, SessionContext, type Session } from './session';
import { href, useRoute } from './router';
import { matchRoute } from './route-match';
import { ROUTES } from './routes';
import type { RouteDef } from './route-def';

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [checking, setChecking] = useState(true);

  useEffect(() => {
    const token = takeTokenFromLocation();
    if (!token) {
      setChecking(false);
      return;
    }
    signIn(token).then(
      (s) => {
        setSession(s);
        setChecking(false);
      },
      (err: Error) => {
        storeToken(null);
        setError(err);
        setChecking(false);
      },
    );
  }, []);

  if (checking)
    return (
      <p className="muted" role="status">
        Signing in…
      </p>
    );
  if (!session)
    return (
      <SignIn
        error={error}
        onSignedIn={(s, token) => {
          storeToken(token);
          setSession(s);
          setError(null);
        }}
      />
    );
  return (
    <SessionContext.Provider value={session}>
      <Shell
        session={session}
        onSignOut={() => {
          storeToken(null);
          setSession(null);
        }}
      />
    </SessionContext.Provider>
  );
}

function SignIn({ error, onSignedIn }: { error: Error | null; onSignedIn: (s: Session, token: string) => void }) {
  const [token, setToken] = useState('');
  const [failure, setFailure] = useState<Error | null>(error);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      onSignedIn(await signIn(token.trim()), token.trim());
    } catch (err) {
      setFailure(err instanceof ApiError && err.status === 401 ? new Error('That token is not valid (unknown, revoked or expired).') : (err as Error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Trellis console</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          placeholder="trl_…"
          required
          autoFocus
        />
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
        <p className="muted">
          An admin gives you a token: <code>npm run token -- create --roles auditor --label you</code>. It stays in this tab only.
        </p>
      </form>
      {failure ? <ErrorNote error={failure} /> : null}
    </main>
  );
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const match = matchRoute(ROUTES, route);
  const nav = ROUTES.filter((r) => r.nav && (!r.roles || hasRole(session, ...r.roles)));
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={href()}>
          Trellis
        </a>
        <nav aria-label="Sections">
          <ul>
            {nav.map((r) => (
              <li key={r.path[0]}>
                <a href={href(r.path[0])} aria-current={route.segments[0] === r.path[0] ? 'page' : undefined}>
                  {r.nav}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title={session.principalId}>{session.displayName ?? session.principalId.slice(0, 8)}</span>{' '}
          <span className="muted">({session.roles.join(', ')})</span>{' '}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {match ? (
          <Guard def={match.def} session={session}>
            {match.def.render(match.params, route)}
          </Guard>
        ) : (
          <NotFound />
        )}
      </main>
    </div>
  );
}

/** What the role may not open shows a clear message (the API would refuse it anyway). */
function Guard({ def, session, children }: { def: RouteDef; session: Session; children: ReactNode }) {
  if (def.roles && !hasRole(session, ...def.roles))
    return (
      <div role="alert" className="note note-forbidden">
        <strong>Not available to your roles.</strong> This page needs one of: {def.roles.join(', ')}. You have: {session.roles.join(', ')}.
      </div>
    );
  return <>{children}</>;
}

function NotFound() {
  return (
    <div role="alert" className="note note-error">
      <strong>No such page.</strong> <a href={href()}>Back to the start</a>
    </div>
  );
}
