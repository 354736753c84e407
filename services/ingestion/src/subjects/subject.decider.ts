import type { ConsentPurpose, ConsentRecorded, ConsentStatus, ConsentWithdrawn, SubjectErased, SubjectRegistered } from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';

/** The events of one subject's stream (`subject-<id>`): registration, consent history, erasure. */
export type SubjectEvent = SubjectRegistered | ConsentRecorded | ConsentWithdrawn | SubjectErased;

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
export type SubjectState = { status: 'none' } | RegisteredSubject | (KnownSubject & { status: 'erased' });

/** What identifies a person, as registered; kept only in the erasable identity table, never in an event. */
export interface SubjectIdentityFields {
  externalRef: string | null;
  name: string | null;
  birthDate: string | null;
  mrn: string | null;
}

/** The identity fields compared when an external reference is registered again. */
export const IDENTITY_FIELDS = ['name', 'birthDate', 'mrn'] as const;

export type SubjectCommand =
  | {
      type: 'RegisterSubject';
      subjectId: string;
      identity: SubjectIdentityFields;
      /**
       * The identity on file for `identity.externalRef`, when that reference is registered already
       * (the state is then that subject's): the same person registering again, or another person.
       */
      onFile?: SubjectIdentityFields;
    }
  | { type: 'EraseSubject'; subjectId: string; reason: 'gdpr-art17' | 'consent-withdrawn'; assetCount: number; blobsDeleted: number };

export const initialSubjectState: SubjectState = { status: 'none' };

export const subjectStream = (subjectId: string) => `subject-${subjectId}`;

export function decideSubject(state: SubjectState, command: SubjectCommand): SubjectEvent[] {
  switch (command.type) {
    case 'RegisterSubject': {
      const { identity, onFile } = command;
      if (identity.externalRef === null && IDENTITY_FIELDS.every((f) => identity[f] === null))
        throw new IngestionException(IngestionErrorCode.InvalidRequest, 'a subject needs an external reference or an identity (name, birthDate, mrn)', [
          'externalRef',
        ]);
      if (state.status === 'none') return [{ type: 'SubjectRegistered', data: { subjectId: command.subjectId } }];
      if (!onFile || onFile.externalRef === null || onFile.externalRef !== identity.externalRef)
        throw new IngestionException(IngestionErrorCode.SubjectAlreadyRegistered, `subject ${command.subjectId} is already registered`);
      assertRegistered(state, command.subjectId);
      // The same reference for another person would put their data under this person's consent.
      const differing = IDENTITY_FIELDS.filter((f) => identity[f] !== onFile[f]);
      if (differing.length > 0)
        throw new IngestionException(
          IngestionErrorCode.SubjectIdentityConflict,
          `the external reference is registered with a different ${differing.join(', ')}`,
          [...differing],
        );
      return [];
    }
    case 'EraseSubject':
      assertRegistered(state, command.subjectId);
      return [
        {
          type: 'SubjectErased',
          data: { subjectId: command.subjectId, reason: command.reason, assetCount: command.assetCount, blobsDeleted: command.blobsDeleted },
        },
      ];
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

export function evolveSubject(state: SubjectState, event: SubjectEvent): SubjectState {
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

export const subjectDecider: Decider<SubjectState, SubjectCommand, SubjectEvent> = {
  decide: decideSubject,
  evolve: evolveSubject,
  initialState: initialSubjectState,
};

/** Refuses commands on a subject that was never registered (404) or has been erased (409). */
export function assertRegistered(state: SubjectState, subjectId: string): asserts state is RegisteredSubject {
  if (state.status === 'none') throw new IngestionException(IngestionErrorCode.SubjectNotFound, `no subject ${subjectId}`);
  if (state.status === 'erased') throw new IngestionException(IngestionErrorCode.SubjectErased, `subject ${subjectId} has been erased`);
}

/**
 * The purposes a subject currently permits: active permit consents in their period, minus
 * withdrawn purposes, minus purposes an active deny consent names (a deny wins over a permit).
 */
export function permittedPurposes(state: SubjectState, now: Date): ConsentPurpose[] {
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
