import { useState, type FormEvent } from 'react';
import type { ConsentImpactQuery, ConsentImpactQueryVariables } from '../api/graphql.generated';
import { href, navigate } from '../app/router';
import { hasRole, useSession } from '../app/session';
import { Badge, ErrorNote, KeyValues, Loading, Page, Short, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { consentStanding, impactSections, marksOf, normalizeRef, withdrawablePurposes, withdrawalBody } from './subject-model';
import type { ConsentRecord, SubjectView, WithdrawConsentResult } from './subjects.api';
import { CONSENT_IMPACT_QUERY } from './subjects.graphql';

/** Look a subject up by pseudonymous id or external reference; with one, its consents and impact. */
export function SubjectPage({ subjectRef }: { subjectRef?: string }) {
  return (
    <Page title={subjectRef ? `Subject ${subjectRef}` : 'Subjects'}>
      <LookUp initial={subjectRef ?? ''} />
      {subjectRef ? (
        <SubjectDetails subjectRef={subjectRef} />
      ) : (
        <p className="muted">Subjects are shown by their pseudonymous id only; no personal details leave ingestion.</p>
      )}
    </Page>
  );
}

function LookUp({ initial }: { initial: string }) {
  const [ref, setRef] = useState(initial);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ref.trim()) navigate(href('subjects', normalizeRef(ref)));
  };
  return (
    <form className="row controls" onSubmit={submit} aria-label="Look up a subject">
      <div className="grow">
        <label htmlFor="subject-ref">Subject id or external reference</label>
        <input
          id="subject-ref"
          value={ref}
          onChange={(e) => setRef(e.target.value)}
          style={{ width: '100%' }}
          placeholder="pseudonymous id (UUID) or reference"
        />
      </div>
      <div className="controls-submit">
        <button type="submit" disabled={!ref.trim()}>
          Look up
        </button>
      </div>
    </form>
  );
}

function SubjectDetails({ subjectRef }: { subjectRef: string }) {
  const { api } = useSession();
  const subject = useLoad(() => api.get<SubjectView>(`/ingestion/subjects/${encodeURIComponent(subjectRef)}`), [api, subjectRef]);
  const [done, setDone] = useState<string | null>(null);
  return (
    <Loading state={subject}>
      {(s) => (
        <>
          <div data-testid="subject-summary">
            <KeyValues
              rows={[
                ['pseudonymous id', <code key="id">{s.subjectId}</code>],
                [
                  'status',
                  <Badge key="s" tone={s.status === 'active' ? 'ok' : 'bad'}>
                    {s.status}
                  </Badge>,
                ],
                ['registered', <When key="r" at={s.registeredAt} />],
                ['erased', s.erasedAt ? <When key="e" at={s.erasedAt} /> : 'no'],
                ['permits now', s.permittedPurposes.length ? s.permittedPurposes.join(', ') : 'nothing'],
              ]}
            />
          </div>
          {done ? (
            <p role="status" className="note note-ok">
              {done}
            </p>
          ) : null}
          <Consents
            subject={s}
            onWithdrawn={(message) => {
              setDone(message);
              subject.reload();
            }}
          />
          <h2>Impact</h2>
          <Impact subjectId={s.subjectId} version={s.consents.map((c) => c.withdrawnPurposes.length).join(',')} />
        </>
      )}
    </Loading>
  );
}

function Consents({ subject, onWithdrawn }: { subject: SubjectView; onWithdrawn: (message: string) => void }) {
  const session = useSession();
  const canWithdraw = hasRole(session, 'steward') && subject.status === 'active';
  const [withdrawing, setWithdrawing] = useState<ConsentRecord | null>(null);
  return (
    <>
      <Table
        caption="Consent history"
        rows={subject.consents}
        rowKey={(c) => c.consentId}
        empty="No consent recorded."
        columns={[
          { header: 'Recorded', cell: (c) => <When at={c.recordedAt} /> },
          { header: 'Consent', cell: (c) => <Short id={c.consentId} /> },
          { header: 'Decision', cell: (c) => c.decision },
          { header: 'Purposes', cell: (c) => c.purposes.join(', ') },
          { header: 'Withdrawn', cell: (c) => (c.withdrawnPurposes.length ? c.withdrawnPurposes.join(', ') : '—') },
          {
            header: 'Period',
            cell: (c) => (
              <>
                <When at={c.periodStart} /> – <When at={c.periodEnd} />
              </>
            ),
          },
          {
            header: 'Standing',
            cell: (c) => {
              const s = consentStanding(c);
              return <Badge tone={s.tone}>{s.text}</Badge>;
            },
          },
          ...(canWithdraw
            ? [
                {
                  header: 'Action',
                  cell: (c: ConsentRecord) =>
                    withdrawablePurposes(c).length ? (
                      <button type="button" onClick={() => setWithdrawing(c)} aria-label={`Withdraw consent ${c.consentId}`}>
                        Withdraw…
                      </button>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
      {withdrawing ? (
        <WithdrawConfirm
          key={withdrawing.consentId}
          subjectId={subject.subjectId}
          consent={withdrawing}
          onCancel={() => setWithdrawing(null)}
          onDone={(message) => {
            setWithdrawing(null);
            onWithdrawn(message);
          }}
        />
      ) : null}
    </>
  );
}

/** The confirmation: which purposes, whether the subject also asked for erasure, and what follows. */
function WithdrawConfirm({
  subjectId,
  consent,
  onCancel,
  onDone,
}: {
  subjectId: string;
  consent: ConsentRecord;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const { api } = useSession();
  const left = withdrawablePurposes(consent);
  const [chosen, setChosen] = useState<string[]>(left);
  const [erase, setErase] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { ...withdrawalBody(consent, chosen), ...(erase ? { eraseData: true } : {}) };
      const result = await api.post<WithdrawConsentResult>(
        `/ingestion/subjects/${encodeURIComponent(subjectId)}/consents/${encodeURIComponent(consent.consentId)}/withdraw`,
        body,
      );
      onDone(`Consent withdrawn for ${result.purposes.join(', ')}${result.erased ? '; the subject was erased' : ''}.`);
    } catch (err) {
      setError(err as Error);
      setBusy(false);
    }
  };
  return (
    <form className="card" role="dialog" aria-labelledby="withdraw-title" onSubmit={submit} onKeyDown={(e) => e.key === 'Escape' && onCancel()}>
      <h2 id="withdraw-title">Withdraw consent {consent.consentId}</h2>
      <p>
        This is recorded in the subject&apos;s event stream and cannot be undone. Models trained on this subject&apos;s data are flagged; new snapshots leave it
        out.
      </p>
      <fieldset>
        <legend>Purposes to withdraw</legend>
        {left.map((p) => (
          <label key={p} className="check">
            <input
              type="checkbox"
              checked={chosen.includes(p)}
              onChange={(e) => setChosen(e.target.checked ? [...chosen, p] : chosen.filter((x) => x !== p))}
              autoFocus={p === left[0]}
            />{' '}
            {p}
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={erase} onChange={(e) => setErase(e.target.checked)} /> The subject also asks for erasure (their assets are deleted)
      </label>
      {error ? <ErrorNote error={error} /> : null}
      <div className="row">
        <button type="submit" className="primary" disabled={busy || chosen.length === 0}>
          Confirm withdrawal
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

type ImpactNode = ConsentImpactQuery['consentImpact']['subject'];

/** Every place the subject's data reached, in the order it flowed; flagged model versions marked. `version` reloads it after a withdrawal. */
function Impact({ subjectId, version }: { subjectId: string; version: string }) {
  const { api } = useSession();
  const impact = useLoad(
    () =>
      api
        .graphql<ConsentImpactQuery, ConsentImpactQueryVariables>(CONSENT_IMPACT_QUERY, { subjectId })
        .then((d) => impactSections<ImpactNode>(d.consentImpact)),
    [api, subjectId, version],
  );
  return (
    <Loading state={impact}>
      {(sections) => (
        <div data-testid="consent-impact">
          <p>
            {sections.map((s, i) => (
              <span key={s.key}>
                {i ? ' → ' : ''}
                {s.title.toLowerCase()} <strong>{s.totalCount}</strong>
              </span>
            ))}
          </p>
          {sections.map((s) => (
            <section key={s.key} aria-labelledby={`impact-${s.key}`}>
              <h3 id={`impact-${s.key}`}>
                {s.title} ({s.totalCount})
              </h3>
              {s.nodes.length === 0 ? (
                <p className="muted">None.</p>
              ) : (
                <ul>
                  {s.nodes.map((n) => {
                    const { flags, aliases } = marksOf(n);
                    return (
                      <li key={n.id} data-node-id={n.id}>
                        <a href={href('lineage', n.id)}>{n.label}</a> <span className="muted">({n.id})</span>{' '}
                        {aliases.map((a) => (
                          <Badge key={a} tone="info">
                            alias {a}
                          </Badge>
                        ))}{' '}
                        {flags.map((f) => (
                          <Badge key={f} tone="bad">
                            ⚑ {f}
                          </Badge>
                        ))}
                      </li>
                    );
                  })}
                  {s.totalCount > s.nodes.length ? <li className="muted">… and {s.totalCount - s.nodes.length} more</li> : null}
                </ul>
              )}
            </section>
          ))}
        </div>
      )}
    </Loading>
  );
}
