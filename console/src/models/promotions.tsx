import { useState, type FormEvent } from 'react';
import { hasRole, useSession } from '../app/session';
import { Badge, Short, When } from '../ui/components';
import { Refusal } from './model-parts';
import type { DecisionBody, PromotionRequestBody, PromotionView, VersionView } from './models.api';

const STATUS_TONE = { pending: 'warn', approved: 'ok', rejected: 'bad' } as const;

/** Engineers ask to move an alias; the gates answer at once, an approver later. */
export function PromotionRequestForm({
  model,
  versions,
  version,
  onRequested,
}: {
  model: string;
  versions: Pick<VersionView, 'version' | 'archived'>[];
  version?: number;
  onRequested: (p: PromotionView) => void;
}) {
  const session = useSession();
  const [form, setForm] = useState({ version: version ? String(version) : '', alias: '', reason: '', tolerance: '' });
  const [error, setError] = useState<Error | null>(null);
  const [result, setResult] = useState<PromotionView | null>(null);
  const [busy, setBusy] = useState(false);
  if (!hasRole(session, 'engineer')) return null;
  const live = versions.filter((v) => !v.archived);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const body: PromotionRequestBody = {
        model,
        version: Number(form.version),
        alias: form.alias.trim(),
        reason: form.reason.trim(),
        ...(form.tolerance.trim() ? { tolerance: Number(form.tolerance) } : {}),
      };
      const p = await session.api.post<PromotionView>('/registry/promotions', body);
      setResult(p);
      onRequested(p);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form card" onSubmit={submit} aria-label="Request promotion">
      <h3>Request promotion</h3>
      <label htmlFor="promo-version">Version</label>
      <select id="promo-version" value={form.version} onChange={(e) => setForm({ ...form, version: e.target.value })} required>
        <option value="">choose…</option>
        {live.map((v) => (
          <option key={v.version} value={v.version}>
            Version {v.version}
          </option>
        ))}
      </select>
      <label htmlFor="promo-alias">Alias</label>
      <input
        id="promo-alias"
        value={form.alias}
        onChange={(e) => setForm({ ...form, alias: e.target.value })}
        required
        pattern="[a-z][a-z0-9_\-]{0,49}"
        title="lowercase letters, digits, _ and -, starting with a letter"
        placeholder="champion, candidate, staging…"
      />
      <label htmlFor="promo-reason">Reason</label>
      <textarea id="promo-reason" value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} required maxLength={2000} rows={2} />
      <label htmlFor="promo-tolerance">Metric tolerance (optional, absolute)</label>
      <input id="promo-tolerance" inputMode="decimal" value={form.tolerance} onChange={(e) => setForm({ ...form, tolerance: e.target.value })} />
      <button type="submit" disabled={busy || !form.version || !form.alias.trim() || !form.reason.trim()}>
        Request promotion
      </button>
      {error ? <Refusal error={error} /> : null}
      {result ? (
        <div role="status" className={`note ${result.status === 'rejected' ? 'note-error' : 'note-ok'}`} data-testid="promotion-result">
          {result.status === 'pending'
            ? `The gates passed: promotion of version ${form.version} to ${result.alias} waits for an approver.`
            : `Refused by the gates: ${(result.verdicts ?? [])
                .filter((g) => !g.passed)
                .map((g) => `${g.gate} (${g.reason})`)
                .join('; ')}`}
        </div>
      ) : null}
    </form>
  );
}

export function Promotions({ promotions, versionById, onDecided }: { promotions: PromotionView[]; versionById: Map<string, number>; onDecided: () => void }) {
  if (promotions.length === 0) return <p className="muted">No promotion asked for yet.</p>;
  return (
    <ol className="promotions" aria-label="Promotions, newest first">
      {promotions.map((p) => (
        <li
          key={p.promotionId}
          className="card"
          data-promotion-id={p.promotionId}
          data-status={p.status}
          aria-label={`Promotion of version ${versionById.get(p.modelVersionId) ?? '?'} to ${p.alias}, ${p.status}`}
        >
          <h3>
            Version {versionById.get(p.modelVersionId) ?? <Short id={p.modelVersionId} />} → {p.alias} <Badge tone={STATUS_TONE[p.status]}>{p.status}</Badge>
          </h3>
          <p>
            Asked by <Short id={p.requestedBy} /> at <When at={p.requestedAt} />: {p.reason}
            {p.currentVersionId ? ` (replacing version ${versionById.get(p.currentVersionId) ?? p.currentVersionId})` : ' (the alias was free)'}
          </p>
          {p.verdicts ? (
            <ul className="gates" aria-label="Gate verdicts">
              {p.verdicts.map((g) => (
                <li key={g.gate}>
                  <Badge tone={g.passed ? 'ok' : 'bad'}>
                    {g.passed ? '✓' : '✗'} {g.gate}
                  </Badge>{' '}
                  {g.reason}
                </li>
              ))}
            </ul>
          ) : null}
          {p.status !== 'pending' ? (
            <p data-testid="decision">
              {p.status === 'approved' ? 'Approved' : 'Rejected'}
              {p.decidedBy ? (
                <>
                  {' '}
                  by <Short id={p.decidedBy} />
                </>
              ) : (
                ' by the gates'
              )}
              {p.decidedAt ? (
                <>
                  {' '}
                  at <When at={p.decidedAt} />
                </>
              ) : null}
              {p.comment ? `: “${p.comment}”` : ''}
            </p>
          ) : (
            <Decide promotion={p} onDecided={onDecided} />
          )}
        </li>
      ))}
    </ol>
  );
}

/** Approvers approve or reject with a comment; the platform refuses its requester and the run's requester. */
function Decide({ promotion, onDecided }: { promotion: PromotionView; onDecided: () => void }) {
  const session = useSession();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  if (!hasRole(session, 'approver')) return <p className="muted">Waiting for a person with the approver role.</p>;
  const id = `comment-${promotion.promotionId}`;
  const decide = async (verb: 'approve' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      const body: DecisionBody = { comment: comment.trim() };
      await session.api.post<PromotionView>(`/registry/promotions/${encodeURIComponent(promotion.promotionId)}/${verb}`, body);
      onDecided();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={(e) => (e.preventDefault(), void decide('approve'))} aria-label={`Decide on the promotion to ${promotion.alias}`}>
      <label htmlFor={id}>Comment</label>
      <textarea id={id} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={2000} rows={2} required />
      <div className="row">
        <button type="submit" disabled={busy || !comment.trim()}>
          Approve
        </button>
        <button type="button" disabled={busy || !comment.trim()} onClick={() => void decide('reject')}>
          Reject
        </button>
      </div>
      {error ? <Refusal error={error} /> : null}
    </form>
  );
}
