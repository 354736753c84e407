import { deciderSpec } from '@trellis/testing';
import { IngestionErrorCode, IngestionException } from '../ingestion.exception';
import { evolveSubject, initialSubjectState, SubjectEvent } from '../subjects/subject.decider';
import { AssetCommand, AssetEvent, AssetState, decideAsset, DescribedAsset, evolveAsset, initialAssetState } from './asset.decider';

const spec = deciderSpec<AssetState, AssetCommand, AssetEvent>({ decide: decideAsset, evolve: evolveAsset, initialState: initialAssetState });
const subjectId = '6f1c2b0e-4a5d-4c3b-9e8f-0a1b2c3d4e5f';
const assetId = 'a0000000-0000-4000-8000-00000000000a';
const imageId = 'a0000000-0000-4000-8000-00000000000b';
const now = new Date('2026-06-01T00:00:00Z');
const registered: SubjectEvent = { type: 'SubjectRegistered', data: { subjectId } };
const permit: SubjectEvent = {
  type: 'ConsentRecorded',
  data: {
    subjectId,
    consentId: '0b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4',
    status: 'active',
    decision: 'permit',
    purposes: ['research'],
    period: { start: null, end: null },
    sourceSha256: null,
    fhirVersion: null,
  },
};
const subjectOf = (events: SubjectEvent[]) => events.reduce(evolveSubject, initialSubjectState);
const upload = { sha256: 'a'.repeat(64), size: 10, declaredMimeType: 'text/plain' };
const ingested = {
  kind: 'report' as const,
  mimeType: 'text/plain',
  width: null,
  height: null,
  storage: {
    raw: `subjects/${subjectId}/${'a'.repeat(64)}`,
    curated: `subjects/${subjectId}/${'b'.repeat(64)}`,
    curatedSha256: 'b'.repeat(64),
    curatedMediaType: 'text/plain' as const,
    derivative: null,
    derivativeSha256: null,
  },
  deidentification: { method: 'hipaa-safe-harbor' as const, options: [], summary: { names: 1 } },
};
const ingest = (subject: SubjectEvent[], over: Partial<Extract<AssetCommand, { type: 'IngestAsset' }>> = {}): AssetCommand => ({
  type: 'IngestAsset',
  assetId,
  upload,
  ingested,
  subjectId,
  subject: subjectOf(subject),
  kind: 'report',
  describesAssetId: null,
  describes: null,
  now,
  ...over,
});
const rejection =
  (reasonCode: string, subject: string | null = subjectId) =>
  (events: AssetEvent[]) => {
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('AssetRejected');
    expect(events[0].data).toMatchObject({ assetId, subjectId: subject, reasonCode, sha256: upload.sha256, size: 10 });
  };
const image = (over: Partial<DescribedAsset> = {}): DescribedAsset => ({ assetId: imageId, subjectId, kind: 'image', status: 'ingested', ...over });

describe('decideAsset', () => {
  describe('IngestAsset', () => {
    it('ingests for a registered subject with an active permit', () => {
      spec
        .given([])
        .when(ingest([registered, permit]))
        .then([{ type: 'AssetIngested', data: { assetId, subjectId, sha256: upload.sha256, size: 10, describesAssetId: null, ...ingested } }]);
    });

    it('rejects an unknown subject, an erased subject and a subject without consent', () => {
      rejection('UNKNOWN_SUBJECT', null)(decideAsset(initialAssetState, ingest([], { subjectId: null })));
      // A reference that resolved to no registered subject is not named: it may be personal.
      rejection('UNKNOWN_SUBJECT', null)(decideAsset(initialAssetState, ingest([])));
      rejection('SUBJECT_ERASED')(
        decideAsset(
          initialAssetState,
          ingest([registered, permit, { type: 'SubjectErased', data: { subjectId, reason: 'gdpr-art17', assetCount: 0, blobsDeleted: 0 } }]),
        ),
      );
      rejection('NO_CONSENT')(decideAsset(initialAssetState, ingest([registered])));
    });

    it('accepts a report describing an image of the same subject, and rejects every other described asset', () => {
      const ok = decideAsset(initialAssetState, ingest([registered, permit], { describesAssetId: imageId, describes: image() }));
      expect(ok[0]).toMatchObject({ type: 'AssetIngested', data: { describesAssetId: imageId } });
      for (const describes of [null, image({ subjectId: '00000000-0000-4000-8000-000000000000' }), image({ kind: 'report' }), image({ status: 'erased' })]) {
        rejection('INVALID_DESCRIBES')(decideAsset(initialAssetState, ingest([registered, permit], { describesAssetId: imageId, describes })));
      }
      rejection('INVALID_DESCRIBES')(
        decideAsset(initialAssetState, ingest([registered, permit], { kind: 'image', describesAssetId: imageId, describes: image() })),
      );
    });
  });

  describe('AdmitAsset', () => {
    const admit = (subject: SubjectEvent[], over: Partial<Extract<AssetCommand, { type: 'AdmitAsset' }>> = {}): AssetCommand => {
      const { ingested: _, ...rest } = ingest(subject) as Extract<AssetCommand, { type: 'IngestAsset' }>;
      return { ...rest, type: 'AdmitAsset', ...over };
    };

    it('lets an admissible upload go on, recording nothing yet', () => {
      spec
        .given([])
        .when(admit([registered, permit]))
        .then([]);
      spec
        .given([])
        .when(admit([registered, permit], { declaredKind: 'report' }))
        .then([]);
      spec
        .given([])
        .when(admit([registered, permit], { declaredKind: '' }))
        .then([]);
      spec
        .given([])
        .when(admit([registered, permit], { kind: null, declaredKind: 'image' }))
        .then([]);
    });

    it('refuses the subject rules: unknown, erased, without consent', () => {
      rejection('UNKNOWN_SUBJECT', null)(decideAsset(initialAssetState, admit([], { subjectId: null })));
      rejection('SUBJECT_ERASED')(
        decideAsset(
          initialAssetState,
          admit([registered, permit, { type: 'SubjectErased', data: { subjectId, reason: 'gdpr-art17', assetCount: 0, blobsDeleted: 0 } }]),
        ),
      );
      rejection('NO_CONSENT')(decideAsset(initialAssetState, admit([registered])));
    });

    it('refuses a described asset that is not an asset id, before anything else', () => {
      const events = decideAsset(initialAssetState, admit([], { subjectId: null, describesAssetId: 'not-a-uuid' }));
      expect(events[0].data).toMatchObject({ reasonCode: 'INVALID_DESCRIBES', message: 'describesAssetId must be an asset id (UUID)' });
      rejection('INVALID_DESCRIBES')(decideAsset(initialAssetState, admit([registered, permit], { describesAssetId: 'a0000000-0000-4000-8000' })));
    });

    it('refuses a stated kind that the MIME type contradicts', () => {
      const events = decideAsset(initialAssetState, admit([registered, permit], { declaredKind: 'image' }));
      rejection('KIND_MISMATCH')(events);
      expect(events[0].data).toMatchObject({ message: 'the declared kind does not match: text/plain is a report' });
    });

    describe('issue 11 item 4: rejection messages never echo input', () => {
      it('keeps a declared kind and an unknown declared type out of the AssetRejected event', () => {
        const typed = 'Jane Fakename MRN 12345678';
        const kind = decideAsset(initialAssetState, admit([registered, permit], { declaredKind: typed }));
        rejection('KIND_MISMATCH')(kind);
        const type = decideAsset(initialAssetState, {
          type: 'RejectAsset',
          assetId,
          subjectId,
          upload: { ...upload, declaredMimeType: typed },
          code: 'UNSUPPORTED_TYPE',
          message: 'the declared type is not one of image/png, image/jpeg, application/dicom, text/plain, application/fhir+json',
        });
        for (const events of [kind, type]) expect(JSON.stringify(events)).not.toMatch(/Fakename|12345678/);
        expect((type[0].data as { declaredMimeType: string }).declaredMimeType).toBe('unsupported');
      });
    });

    it('reports the subject rules before the kind', () => {
      rejection('NO_CONSENT')(decideAsset(initialAssetState, admit([registered], { declaredKind: 'image' })));
    });
  });

  describe('IngestAsset at commit', () => {
    it('refuses when consent was withdrawn since admission', () => {
      const withdrawn: SubjectEvent = {
        type: 'ConsentWithdrawn',
        data: { subjectId, consentId: '0b9d1c2e-3f4a-4b5c-8d6e-7f8091a2b3c4', purposes: ['research'], eraseData: false },
      };
      rejection('NO_CONSENT')(decideAsset(initialAssetState, ingest([registered, permit, withdrawn])));
    });

    it('applies the same describes and kind rules as admission', () => {
      rejection('INVALID_DESCRIBES')(decideAsset(initialAssetState, ingest([registered, permit], { describesAssetId: 'nope' })));
      rejection('KIND_MISMATCH')(decideAsset(initialAssetState, ingest([registered, permit], { declaredKind: 'image' })));
    });
  });

  describe('RejectAsset', () => {
    it('records a validation failure with its code and message', () => {
      spec
        .given([])
        .when({ type: 'RejectAsset', assetId, subjectId, upload, code: 'TRUNCATED', message: 'the JPEG ends before its end-of-image marker' })
        .then([
          { type: 'AssetRejected', data: { assetId, subjectId, ...upload, reasonCode: 'TRUNCATED', message: 'the JPEG ends before its end-of-image marker' } },
        ]);
    });

    it('refuses to decide an asset twice', () => {
      spec
        .given([{ type: 'AssetRejected', data: { assetId, subjectId, ...upload, reasonCode: 'TRUNCATED', message: 'x' } }])
        .when({ type: 'RejectAsset', assetId, subjectId, upload, code: 'TRUNCATED', message: 'm' })
        .thenThrows((err) => expect((err as IngestionException).code).toBe(IngestionErrorCode.ConcurrentChange));
    });
  });
});
