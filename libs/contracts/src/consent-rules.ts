import type { ConsentPurpose, ConsentRecorded, ConsentStatus, ConsentWithdrawn, SubjectErased, SubjectRegistered } from './ingestion.contracts';

/**
 * What the consent events of one subject add up to, and which purposes that permits. Ingestion
 * admits assets by it and the trainer freezes training snapshots by it; both fold the same
 * published events, so the rule lives beside the contract rather than in either service.
 */
export interface ConsentState {
  status: ConsentStatus;
  decision: 'permit' | 'deny';
  purposes: ConsentPurpose[];
  withdrawn: ConsentPurpose[];
  start: string | null;
  end: string | null;
}

interface KnownSubject {
  subjectId: string;
  consents: Record<string, ConsentState>;
}
export type RegisteredSubject = KnownSubject & { status: 'registered' };
export type SubjectConsentState = { status: 'none' } | RegisteredSubject | (KnownSubject & { status: 'erased' });

/** The events that change a subject's consent state (the stream `subject-<id>` of the ingestion log). */
export type SubjectConsentEvent = SubjectRegistered | ConsentRecorded | ConsentWithdrawn | SubjectErased;

export const initialSubjectConsentState: SubjectConsentState = { status: 'none' };

export function evolveSubjectConsents(state: SubjectConsentState, event: SubjectConsentEvent): SubjectConsentState {
  switch (event.type) {
    case 'SubjectRegistered':
      return { status: 'registered', subjectId: event.data.subjectId, consents: {} };
    case 'ConsentRecorded': {
      if (state.status === 'none') return state;
      const d = event.data;
      const consent: ConsentState = { status: d.status, decision: d.decision, purposes: d.purposes, withdrawn: [], start: d.period.start, end: d.period.end };
      return { ...state, consents: { ...state.consents, [d.consentId]: consent } };
    }
    case 'ConsentWithdrawn': {
      if (state.status === 'none') return state;
      const c = state.consents[event.data.consentId];
      if (!c) return state;
      const withdrawn = [...new Set([...c.withdrawn, ...event.data.purposes])];
      return { ...state, consents: { ...state.consents, [event.data.consentId]: { ...c, withdrawn } } };
    }
    case 'SubjectErased':
      return state.status === 'none' ? state : { subjectId: state.subjectId, consents: state.consents, status: 'erased' };
  }
}

/**
 * The purposes a subject currently permits: active permit consents in their period, minus
 * withdrawn purposes, minus purposes an active deny consent names (a deny wins over a permit).
 */
export function permittedPurposes(state: SubjectConsentState, now: Date): ConsentPurpose[] {
  if (state.status !== 'registered') return [];
  const inPeriod = (c: ConsentState) => c.status === 'active' && (!c.start || new Date(c.start) <= now) && (!c.end || new Date(c.end) > now);
  const permitted = new Set<ConsentPurpose>();
  const denied = new Set<ConsentPurpose>();
  for (const c of Object.values(state.consents)) {
    if (!inPeriod(c)) continue;
    for (const p of c.purposes) {
      if (c.decision === 'deny') denied.add(p);
      else if (!c.withdrawn.includes(p)) permitted.add(p);
    }
  }
  return [...permitted].filter((p) => !denied.has(p)).sort();
}
