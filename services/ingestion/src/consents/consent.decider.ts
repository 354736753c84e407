import { CONSENT_PURPOSES, ConsentPurpose, ConsentStatus } from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { assertRegistered, evolveSubject, initialSubjectState, SubjectEvent, SubjectState } from '../subjects/subject.decider';

/**
 * Consent lives on the subject's stream (its history is the subject's), decided here: the
 * shape follows FHIR Consent (status, decision, purposes, period, source document by hash).
 */
export type ConsentCommand =
  | {
      type: 'RecordConsent';
      subjectId: string;
      consentId: string;
      status: ConsentStatus;
      decision: 'permit' | 'deny';
      purposes: string[];
      period: { start: string | null; end: string | null };
      sourceSha256: string | null;
      fhirVersion: 'R4' | 'R5' | null;
    }
  | { type: 'WithdrawConsent'; subjectId: string; consentId: string; purposes?: string[]; eraseData: boolean };

function purposesOrThrow(purposes: string[], field: string): ConsentPurpose[] {
  const unknown = purposes.filter((p) => !(CONSENT_PURPOSES as readonly string[]).includes(p));
  if (purposes.length === 0 || unknown.length > 0) {
    throw new IngestionException(
      IngestionErrorCode.InvalidRequest,
      `${field} must be a non-empty list of ${CONSENT_PURPOSES.join(', ')}${unknown.length ? `; not: ${unknown.join(', ')}` : ''}`,
      [field],
    );
  }
  return [...new Set(purposes as ConsentPurpose[])].sort();
}

export function decideConsent(state: SubjectState, command: ConsentCommand): SubjectEvent[] {
  switch (command.type) {
    case 'RecordConsent': {
      assertRegistered(state, command.subjectId);
      if (state.consents[command.consentId]) {
        throw new IngestionException(IngestionErrorCode.InvalidRequest, `consent ${command.consentId} is already recorded`);
      }
      const purposes = purposesOrThrow(command.purposes, 'purposes');
      const { start, end } = command.period;
      if (start && end && new Date(end) <= new Date(start)) {
        throw new IngestionException(IngestionErrorCode.InvalidRequest, 'period.end must be after period.start', ['period.end']);
      }
      return [
        {
          type: 'ConsentRecorded',
          data: {
            subjectId: command.subjectId,
            consentId: command.consentId,
            status: command.status,
            decision: command.decision,
            purposes,
            period: { start, end },
            sourceSha256: command.sourceSha256,
            fhirVersion: command.fhirVersion,
          },
        },
      ];
    }
    case 'WithdrawConsent': {
      assertRegistered(state, command.subjectId);
      const consent = state.consents[command.consentId];
      if (!consent) throw new IngestionException(IngestionErrorCode.ConsentNotFound, `subject ${command.subjectId} has no consent ${command.consentId}`);
      if (consent.decision !== 'permit') {
        throw new IngestionException(IngestionErrorCode.InvalidRequest, `consent ${command.consentId} is a deny; there is nothing to withdraw`);
      }
      const remaining = consent.purposes.filter((p) => !consent.withdrawn.includes(p));
      const asked = command.purposes === undefined ? remaining : purposesOrThrow(command.purposes, 'purposes');
      const notGranted = asked.filter((p) => !consent.purposes.includes(p));
      if (notGranted.length > 0) {
        throw new IngestionException(IngestionErrorCode.InvalidRequest, `consent ${command.consentId} does not permit ${notGranted.join(', ')}`, ['purposes']);
      }
      const purposes = asked.filter((p) => remaining.includes(p));
      // A repeated withdrawal that only asks for deletion still counts: erasure must be reachable.
      if (purposes.length === 0 && !command.eraseData) {
        throw new IngestionException(IngestionErrorCode.ConsentAlreadyWithdrawn, `consent ${command.consentId} is already withdrawn for ${asked.join(', ')}`);
      }
      return [
        {
          type: 'ConsentWithdrawn',
          data: {
            subjectId: command.subjectId,
            consentId: command.consentId,
            purposes: purposes.length ? purposes : asked.length ? asked : consent.purposes,
            eraseData: command.eraseData,
          },
        },
      ];
    }
    default: {
      const never: never = command;
      throw new Error(`unhandled command ${JSON.stringify(never)}`);
    }
  }
}

/** Consent commands run against the subject's stream, so the subject's evolve folds what they decide. */
export const consentDecider: Decider<SubjectState, ConsentCommand, SubjectEvent> = {
  decide: decideConsent,
  evolve: evolveSubject,
  initialState: initialSubjectState,
};
