import {
  evolveSubjectConsents,
  initialSubjectConsentState,
  permittedPurposes,
  type RegisteredSubject,
  type SubjectConsentEvent,
  type SubjectConsentState,
} from '@trellis/contracts';
import type { Decider } from '@trellis/event-store';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';

/** The events of one subject's stream (`subject-<id>`): registration, consent history, erasure. */
export type SubjectEvent = SubjectConsentEvent;

export type { ConsentState, RegisteredSubject } from '@trellis/contracts';
export type SubjectState = SubjectConsentState;

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

export const initialSubjectState: SubjectState = initialSubjectConsentState;

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

export const evolveSubject: (state: SubjectState, event: SubjectEvent) => SubjectState = evolveSubjectConsents;

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

export { permittedPurposes };
