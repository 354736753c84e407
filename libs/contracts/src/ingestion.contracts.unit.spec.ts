import { AssetIngestedV1, curatedImageMediaType, ingestionContracts } from './ingestion.contracts';

const sha = (c: string) => c.repeat(64);
const v1 = (kind: 'image' | 'report', mimeType: string) =>
  AssetIngestedV1.parse({
    assetId: '01a21ecc-a816-75ef-acde-9843b67bfe01',
    subjectId: '01a21ecc-a816-75ef-acde-9843b67bfe02',
    kind,
    mimeType,
    sha256: sha('a'),
    size: 10,
    width: kind === 'image' ? 4 : null,
    height: kind === 'image' ? 4 : null,
    storage: {
      raw: 'r',
      curated: 'c',
      curatedSha256: sha('b'),
      derivative: kind === 'image' ? 'd' : null,
      derivativeSha256: kind === 'image' ? sha('d') : null,
    },
    deidentification: { method: 'none', options: [], summary: {} },
    describesAssetId: null,
  });

describe('AssetIngested', () => {
  it('is written as version 2, which records the curated media type', () => {
    expect(ingestionContracts.currentVersion('AssetIngested')).toBe(2);
    const data = { ...v1('image', 'image/jpeg'), storage: { ...v1('image', 'image/jpeg').storage, curatedMediaType: 'image/jpeg' } };
    expect(ingestionContracts.validate('AssetIngested', 2, data)).toEqual(data);
    const { curatedMediaType: _, ...withoutType } = data.storage;
    expect(() => ingestionContracts.validate('AssetIngested', 2, { ...data, storage: withoutType })).toThrow(/curatedMediaType/);
    expect(() => ingestionContracts.validate('AssetIngested', 2, { ...data, storage: { ...data.storage, curatedMediaType: 'image/gif' } })).toThrow(
      /curatedMediaType/,
    );
  });

  it.each([
    ['an image (JPEG upload, curated as PNG before v2)', 'image', 'image/jpeg', 'image/png'],
    ['an image (DICOM, rendered as PNG)', 'image', 'application/dicom', 'image/png'],
    ['a report (redacted UTF-8 text)', 'report', 'application/fhir+json', 'text/plain'],
  ] as const)('upcasts a v1 event of %s to the type its curated blob had', (_name, kind, mimeType, curated) => {
    const old = v1(kind, mimeType);
    const { version, data } = ingestionContracts.upcast('AssetIngested', 1, old);
    expect(version).toBe(2);
    expect(data).toEqual({ ...old, storage: { ...old.storage, curatedMediaType: curated } });
    expect(() => ingestionContracts.validate('AssetIngested', 2, data)).not.toThrow();
  });
});

describe(curatedImageMediaType.name, () => {
  it('tells PNG from JPEG by the first bytes, and neither from anything else', () => {
    expect(curatedImageMediaType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe('image/png');
    expect(curatedImageMediaType(Buffer.from([0xff, 0xd8, 0xff, 0xdb]))).toBe('image/jpeg');
    expect(curatedImageMediaType(Buffer.from('GIF89a..'))).toBeNull();
    expect(curatedImageMediaType(Buffer.alloc(0))).toBeNull();
  });
});
