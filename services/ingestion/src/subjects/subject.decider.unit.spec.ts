import { deciderSpec } from '@trellis/testing';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import {
  decideSubject,
  evolveSubject,
  initialSubjectState,
  permittedPurposes,
  SubjectCommand,
  SubjectEvent,
  SubjectIdentityFields,
  SubjectState,
} from './subject.decider';

const spec = deciderSpec<SubjectState, SubjectCommand, SubjectEvent>({ decide: decideSubject, evolve: evolveSubject, initialState: initialSubjectState });
const subjectId = '6f1c2b0e-4a5d-4c3b-9e8f-0a1b2c3d4e5f';
const consentId = '0b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4';
const registered: SubjectEvent = { type: 'SubjectRegistered', data: { subjectId } };
const erased: SubjectEvent = { type: 'SubjectErased', data: { subjectId, reason: 'gdpr-art17', assetCount: 2, blobsDeleted: 6 } };
const consent = (over: Partial<Extract<SubjectEvent, { type: 'ConsentRecorded' }>['data']> = {}): SubjectEvent => ({
  type: 'ConsentRecorded',
  data: {
    subjectId,
    consentId,
    status: 'active',
    decision: 'permit',
    purposes: ['model-training', 'research'],
    period: { start: null, end: null },
    sourceSha256: null,
    fhirVersion: null,
    ...over,
  },
});
const code = (expected: IngestionErrorCode) => (err: unknown) => {
  expect(err).toBeInstanceOf(IngestionException);
  expect((err as IngestionException).code).toBe(expected);
};
const stateOf = (events: SubjectEvent[]) => events.reduce(evolveSubject, initialSubjectState);

describe('decideSubject', () => {
  describe('RegisterSubject', () => {
    const identity: SubjectIdentityFields = { externalRef: 'S0001', name: 'Jane Doe', birthDate: '1961-04-17', mrn: 'MRN0012345' };
    const register = (over: Partial<SubjectIdentityFields> = {}, onFile?: SubjectIdentityFields): SubjectCommand => ({
      type: 'RegisterSubject',
      subjectId,
      identity: { ...identity, ...over },
      ...(onFile ? { onFile } : {}),
    });

    it('registers a new subject under its pseudonymous id only', () => {
      spec.given([]).when(register()).then([registered]);
      spec
        .given([])
        .when(register({ externalRef: null }))
        .then([registered]);
      spec
        .given([])
        .when(register({ name: null, birthDate: null, mrn: null }))
        .then([registered]);
    });

    it('refuses to register the same id twice', () => {
      spec.given([registered]).when(register()).thenThrows(code(IngestionErrorCode.SubjectAlreadyRegistered));
    });

    // Issue 11, item 1: consent bypass through a reused external reference.
    describe('item 1: a reused external reference', () => {
      it('answers the same person registering again with nothing to append (a re-import)', () => {
        spec.given([registered]).when(register({}, identity)).then([]);
      });

      it('refuses the reference for a different name, birth date or MRN with a conflict naming only the differing fields', () => {
        const differing = (over: Partial<SubjectIdentityFields>, fields: string[]) =>
          spec
            .given([registered])
            .when(register(over, identity))
            .thenThrows((err) => {
              code(IngestionErrorCode.SubjectIdentityConflict)(err);
              expect((err as IngestionException).errorClass).toBe('conflict');
              expect((err as IngestionException).fields).toEqual(fields);
              expect((err as Error).message).not.toMatch(/Jane|Doe|1961|MRN|S0001|Other|1970/);
            });
        differing({ name: 'Other Person' }, ['name']);
        differing({ birthDate: '1970-01-01' }, ['birthDate']);
        differing({ mrn: 'MRN0099999' }, ['mrn']);
        differing({ name: 'Other Person', birthDate: '1970-01-01', mrn: 'MRN0099999' }, ['name', 'birthDate', 'mrn']);
        // A detail left out is not the same identity either: the reference alone cannot claim a person.
        differing({ name: null }, ['name']);
      });

      it('refuses the reference of an erased subject', () => {
        spec.given([registered, erased]).when(register({}, identity)).thenThrows(code(IngestionErrorCode.SubjectErased));
      });

      it('refuses a subject with neither an external reference nor any identity (400)', () => {
        spec
          .given([])
          .when(register({ externalRef: null, name: null, birthDate: null, mrn: null }))
          .thenThrows((err) => {
            code(IngestionErrorCode.InvalidRequest)(err);
            expect((err as IngestionException).errorClass).toBe('validation');
          });
      });
    });
  });

  describe('EraseSubject', () => {
    const erase: SubjectCommand = { type: 'EraseSubject', subjectId, reason: 'gdpr-art17', assetCount: 2, blobsDeleted: 6 };

    it('records the erasure with counts, not content', () => {
      spec.given([registered]).when(erase).then([erased]);
    });

    it('answers not found for an unknown subject and conflict for an erased one', () => {
      spec.given([]).when(erase).thenThrows(code(IngestionErrorCode.SubjectNotFound));
      spec.given([registered, erased]).when(erase).thenThrows(code(IngestionErrorCode.SubjectErased));
    });
  });
});

describe('permittedPurposes', () => {
  const now = new Date('2026-06-01T00:00:00Z');

  it('lists the purposes of active permits', () => {
    expect(permittedPurposes(stateOf([registered, consent()]), now)).toEqual(['model-training', 'research']);
  });

  it('drops withdrawn purposes, denied purposes, and consents outside their period or not active', () => {
    const withdrawn: SubjectEvent = { type: 'ConsentWithdrawn', data: { subjectId, consentId, purposes: ['research'], eraseData: false } };
    expect(permittedPurposes(stateOf([registered, consent(), withdrawn]), now)).toEqual(['model-training']);
    const deny = consent({ consentId: '1b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4', decision: 'deny', purposes: ['model-training'] });
    expect(permittedPurposes(stateOf([registered, consent(), deny]), now)).toEqual(['research']);
    expect(permittedPurposes(stateOf([registered, consent({ period: { start: '2027-01-01T00:00:00.000Z', end: null } })]), now)).toEqual([]);
    expect(permittedPurposes(stateOf([registered, consent({ period: { start: null, end: '2026-01-01T00:00:00.000Z' } })]), now)).toEqual([]);
    expect(permittedPurposes(stateOf([registered, consent({ status: 'inactive' })]), now)).toEqual([]);
  });

  it('permits nothing once the subject is erased', () => {
    expect(permittedPurposes(stateOf([registered, consent(), erased]), now)).toEqual([]);
  });
});
