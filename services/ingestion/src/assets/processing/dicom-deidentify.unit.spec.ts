import { data as dcmjsData } from 'dcmjs';
import { DeidentificationRecordV1 } from '@trellis/contracts';
import { createSyntheticDicom, generateSyntheticDataset, Prng, SyntheticDicomIdentity, syntheticDicomIdentity } from '@trellis/synthetic';
import { deidentifyDicom, replacementUid } from './dicom-deidentify';
import { probeImage } from './image-probe';
import { AssetValidationCode } from './processing.exception';
import { validationError as failure } from './testing/validation-error';

const { DicomDict, DicomMessage, DicomMetaDictionary } = dcmjsData;
const UID_KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const PSEUDONYM = 'b3f1c2d4-5e6f-4a1b-9c8d-7e6f5a4b3c2d';

function read(bytes: Buffer) {
  const dict = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  return { meta: DicomMetaDictionary.naturalizeDataset(dict.meta), ds: DicomMetaDictionary.naturalizeDataset(dict.dict), raw: dict.dict };
}

/** A monochrome image with chosen stored values, written with dcmjs in the given transfer syntax. */
function monochromeDicom(opts: {
  values: number[];
  rows: number;
  columns: number;
  photometric?: string;
  window?: [number, number];
  syntax?: string;
  bits?: 8 | 16;
  extra?: Record<string, unknown>;
}): Buffer {
  const bits = opts.bits ?? 16;
  const pixels = bits === 16 ? new Uint16Array(opts.values).buffer : new Uint8Array(opts.values).buffer;
  const dict = new DicomDict(
    DicomMetaDictionary.denaturalizeDataset({
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
      MediaStorageSOPInstanceUID: '1.2.3.4.5.6',
      TransferSyntaxUID: opts.syntax ?? '1.2.840.10008.1.2.1',
      ImplementationClassUID: '1.2.3.4',
    }),
  );
  dict.dict = DicomMetaDictionary.denaturalizeDataset({
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
    SOPInstanceUID: '1.2.3.4.5.6',
    PatientName: 'Roe^Jane',
    Rows: opts.rows,
    Columns: opts.columns,
    SamplesPerPixel: 1,
    PhotometricInterpretation: opts.photometric ?? 'MONOCHROME2',
    BitsAllocated: bits,
    BitsStored: bits === 16 ? 12 : 8,
    HighBit: bits === 16 ? 11 : 7,
    PixelRepresentation: 0,
    RescaleIntercept: -1024,
    RescaleSlope: 1,
    ...(opts.window ? { WindowCenter: opts.window[0], WindowWidth: opts.window[1] } : {}),
    ...(opts.extra ?? {}),
    PixelData: [pixels],
    _vrMap: { PixelData: bits === 16 ? 'OW' : 'OB' },
  });
  return Buffer.from(dict.write());
}

function syntheticFile(seed: number, photometric: 'RGB' | 'MONOCHROME2', patch: Partial<SyntheticDicomIdentity> = {}) {
  const { subjects, items } = generateSyntheticDataset({ seed, subjects: 1, itemsPerSubject: 1, imageSize: 16 });
  const identity = { ...syntheticDicomIdentity(new Prng(seed), subjects[0]), ...patch };
  return { identity, rgb: items[0].rgb, bytes: createSyntheticDicom({ width: 16, height: 16, rgb: items[0].rgb, photometric }, identity) };
}

describe(deidentifyDicom.name, () => {
  describe('Basic Application Level Confidentiality Profile', () => {
    const { identity, bytes } = syntheticFile(1, 'RGB');
    const result = deidentifyDicom(bytes, { uidKey: UID_KEY, pseudonym: PSEUDONYM });
    const out = read(result.dicom);

    it('leaves no identifying value anywhere in the output bytes', () => {
      const [family, given] = identity.patientName.split('^');
      const searched = [
        identity.patientName,
        family,
        given,
        identity.patientId,
        identity.patientBirthDate,
        identity.otherPatientIds,
        identity.patientAddress,
        identity.patientTelephone,
        identity.accessionNumber,
        identity.institutionName,
        identity.institutionAddress,
        identity.departmentName,
        identity.referringPhysicianName,
        identity.performingPhysicianName,
        identity.operatorsName,
        identity.physiciansOfRecord,
        identity.readingPhysicianName,
        identity.studyDate,
        identity.studyTime,
        identity.deviceSerialNumber,
        identity.stationName,
        identity.studyId,
        identity.studyDescription,
        identity.seriesDescription,
        identity.imageComments,
        identity.additionalPatientHistory,
        identity.privateValue,
        'TRELLIS SYNTH',
        identity.studyInstanceUid,
        identity.seriesInstanceUid,
        identity.sopInstanceUid,
        identity.frameOfReferenceUid,
        identity.referencedSopInstanceUid,
      ];
      // Sanity: each of them really was in the input.
      for (const value of searched) expect({ value, inInput: bytes.includes(Buffer.from(value, 'latin1')) }).toEqual({ value, inInput: true });
      for (const value of searched) expect({ value, inOutput: result.dicom.includes(Buffer.from(value, 'latin1')) }).toEqual({ value, inOutput: false });
      // Values too short to search for as bytes: check the attributes themselves.
      expect(out.ds.PatientSex ?? '').toBe('');
      expect(out.ds.PatientAge).toBeUndefined();
      expect(out.ds.PatientName ?? '').toEqual(expect.not.stringContaining(family));
    });

    it('applies the profile actions: Z empties, X removes, private groups go', () => {
      for (const kw of ['PatientName', 'PatientBirthDate', 'AccessionNumber', 'ReferringPhysicianName', 'StudyDate', 'StudyTime', 'StudyID']) {
        expect({
          kw,
          present: kw in out.ds,
          empty: [undefined, '', null].includes(out.ds[kw]) || (Array.isArray(out.ds[kw]) && out.ds[kw].length === 0),
        }).toEqual({ kw, present: true, empty: true });
      }
      for (const kw of [
        'InstitutionName',
        'InstitutionAddress',
        'InstitutionalDepartmentName',
        'PerformingPhysicianName',
        'OperatorsName',
        'PhysiciansOfRecord',
        'NameOfPhysiciansReadingStudy',
        'SeriesDate',
        'AcquisitionDate',
        'DeviceSerialNumber',
        'StationName',
        'StudyDescription',
        'SeriesDescription',
        'ImageComments',
        'AdditionalPatientHistory',
        'OtherPatientIDs',
        'PatientAddress',
        'PatientTelephoneNumbers',
        'ReferencedStudySequence',
      ]) {
        expect({ kw, present: kw in out.ds }).toEqual({ kw, present: false });
      }
      expect(Object.keys(out.raw).filter((tag) => parseInt(tag.slice(0, 4), 16) % 2 === 1)).toEqual([]);
      expect(out.ds.Modality).toBe('OT'); // not identifying: kept
    });

    it('puts the pseudonym into PatientID and marks the file as de-identified', () => {
      expect(out.ds.PatientID).toBe(PSEUDONYM);
      expect(out.ds.PatientIdentityRemoved).toBe('YES');
      expect(out.ds.DeidentificationMethod).toContain('Basic Application Level Confidentiality Profile');
      const code = Array.isArray(out.ds.DeidentificationMethodCodeSequence)
        ? out.ds.DeidentificationMethodCodeSequence[0]
        : out.ds.DeidentificationMethodCodeSequence;
      expect(code).toMatchObject({ CodeValue: '113100', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Basic Application Confidentiality Profile' });
      expect(out.meta.TransferSyntaxUID).toBe('1.2.840.10008.1.2.1');
      expect(result.dicom.subarray(128, 132).toString('latin1')).toBe('DICM');
    });

    it('replaces UIDs by HMAC-derived 2.25 UIDs, consistently across attributes and the file meta', () => {
      expect(out.ds.StudyInstanceUID).toBe(replacementUid(UID_KEY, identity.studyInstanceUid));
      expect(out.ds.SeriesInstanceUID).toBe(replacementUid(UID_KEY, identity.seriesInstanceUid));
      expect(out.ds.SOPInstanceUID).toBe(replacementUid(UID_KEY, identity.sopInstanceUid));
      expect(out.ds.FrameOfReferenceUID).toBe(replacementUid(UID_KEY, identity.frameOfReferenceUid));
      expect(out.meta.MediaStorageSOPInstanceUID).toBe(out.ds.SOPInstanceUID);
      for (const uid of [out.ds.StudyInstanceUID, out.ds.SeriesInstanceUID, out.ds.SOPInstanceUID]) {
        expect(uid).toMatch(/^2\.25\.(0|[1-9]\d*)$/);
        expect(uid.length).toBeLessThanOrEqual(64);
      }
      expect(out.ds.SOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.7'); // a standard UID, not identifying
    });

    it('maps the same UID to the same replacement in another file, and differently under another key', () => {
      const other = syntheticFile(2, 'MONOCHROME2', { studyInstanceUid: identity.studyInstanceUid });
      const again = read(deidentifyDicom(other.bytes, { uidKey: UID_KEY, pseudonym: PSEUDONYM }).dicom);
      expect(again.ds.StudyInstanceUID).toBe(out.ds.StudyInstanceUID);
      expect(again.ds.SOPInstanceUID).not.toBe(out.ds.SOPInstanceUID);
      const otherKey = read(deidentifyDicom(bytes, { uidKey: Buffer.from('another key of this deployment!!'), pseudonym: PSEUDONYM }).dicom);
      expect(otherKey.ds.StudyInstanceUID).not.toBe(out.ds.StudyInstanceUID);
      expect(deidentifyDicom(bytes, { uidKey: UID_KEY, pseudonym: PSEUDONYM }).dicom.equals(result.dicom)).toBe(true);
    });

    it('records the method, the options applied and counts per action, valid for AssetIngested', () => {
      expect(DeidentificationRecordV1.parse(result.record)).toEqual(result.record);
      expect(result.record.method).toBe('dicom-ps3.15-e1-basic');
      expect(result.record.options).toEqual(expect.arrayContaining(['retain-longitudinal-temporal-off', 'clean-pixel-data-off']));
      expect(result.record.summary.privateRemoved).toBe(2);
      // Study, series, SOP instance and frame of reference; the referenced SOP instance sits in a removed sequence.
      expect(result.record.summary.uidsReplaced).toBe(4);
      expect(result.record.summary.removed).toBeGreaterThanOrEqual(19);
      expect(result.record.summary.zeroLength).toBeGreaterThanOrEqual(7);
    });
  });

  describe('sequences', () => {
    it('applies the profile inside nested sequences: UIDs replaced, names and dates handled at any depth', () => {
      const bytes = monochromeDicom({
        values: [1, 2, 3, 4],
        rows: 2,
        columns: 2,
        extra: {
          // SourceImageSequence is kept with its UIDs replaced (U); ProcedureCodeSequence is not in Table E.1-1 (kept, recursed).
          SourceImageSequence: [{ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2', ReferencedSOPInstanceUID: '1.3.6.1.4.1.99999.77.1' }],
          ProcedureCodeSequence: [
            { CodeValue: 'CXR', CodingSchemeDesignator: 'LOCAL', CodeMeaning: 'Chest', PatientName: 'Hidden^Nested', StudyDate: '20200102' },
          ],
        },
      });
      const r = deidentifyDicom(bytes, { uidKey: UID_KEY, pseudonym: PSEUDONYM });
      const out = read(r.dicom);
      const source = [out.ds.SourceImageSequence].flat()[0];
      expect(source.ReferencedSOPInstanceUID).toBe(replacementUid(UID_KEY, '1.3.6.1.4.1.99999.77.1'));
      expect(source.ReferencedSOPClassUID).toBe('1.2.840.10008.5.1.4.1.1.2');
      const code = [out.ds.ProcedureCodeSequence].flat()[0];
      expect(code.CodeValue).toBe('CXR');
      for (const secret of ['Hidden^Nested', '20200102', '1.3.6.1.4.1.99999.77.1'])
        expect({ secret, found: r.dicom.includes(Buffer.from(secret)) }).toEqual({ secret, found: false });
    });
  });

  describe('pixel rendering', () => {
    it('renders RGB 8-bit exactly', () => {
      const { rgb, bytes } = syntheticFile(3, 'RGB');
      const r = deidentifyDicom(bytes, { uidKey: UID_KEY, pseudonym: PSEUDONYM });
      expect([r.width, r.height]).toEqual([16, 16]);
      expect(Buffer.from(r.rgb).equals(Buffer.from(rgb))).toBe(true);
    });

    // Stored 0, 1024, 2048, 4095 with intercept -1024 -> -1024, 0, 1024, 3071.
    const values = [0, 1024, 2048, 4095];
    it('applies rescale and the VOI window (PS3.3 C.11.2.1.2) to MONOCHROME2 16-bit', () => {
      // Centre 0, width 2048: -1024 -> 0; 0 -> ((0 + 0.5) / 2047 + 0.5) * 255 = 127.56 -> 128; above 1023 -> 255.
      const r = deidentifyDicom(monochromeDicom({ values, rows: 2, columns: 2, window: [0, 2048] }), { uidKey: UID_KEY, pseudonym: PSEUDONYM });
      expect(Array.from(r.rgb.filter((_, i) => i % 3 === 0))).toEqual([0, 128, 255, 255]);
      expect(r.rgb[3]).toBe(r.rgb[4]);
    });

    it('uses min..max without a window, and inverts MONOCHROME1', () => {
      // (x + 1024) / 4095 * 255: 0, 63.77, 127.53, 255.
      const r2 = deidentifyDicom(monochromeDicom({ values, rows: 2, columns: 2 }), { uidKey: UID_KEY, pseudonym: PSEUDONYM });
      expect(Array.from(r2.rgb.filter((_, i) => i % 3 === 0))).toEqual([0, 64, 128, 255]);
      const r1 = deidentifyDicom(monochromeDicom({ values, rows: 2, columns: 2, photometric: 'MONOCHROME1' }), { uidKey: UID_KEY, pseudonym: PSEUDONYM });
      expect(Array.from(r1.rgb.filter((_, i) => i % 3 === 0))).toEqual([255, 191, 127, 0]);
    });

    it('reads Implicit VR Little Endian and 8-bit monochrome', () => {
      const r = deidentifyDicom(monochromeDicom({ values: [10, 20, 30, 40, 50, 60], rows: 2, columns: 3, bits: 8, syntax: '1.2.840.10008.1.2' }), {
        uidKey: UID_KEY,
        pseudonym: PSEUDONYM,
      });
      expect([r.width, r.height]).toEqual([3, 2]);
      expect(Array.from(r.rgb.filter((_, i) => i % 3 === 0))).toEqual([0, 51, 102, 153, 204, 255]);
      expect(read(r.dicom).meta.TransferSyntaxUID).toBe('1.2.840.10008.1.2.1');
      expect(r.dicom.includes(Buffer.from('Roe^Jane'))).toBe(false);
    });
  });

  describe('refusals', () => {
    it('refuses a compressed transfer syntax, naming it', () => {
      const err = failure(() =>
        deidentifyDicom(monochromeDicom({ values: [1, 2, 3, 4], rows: 2, columns: 2, syntax: '1.2.840.10008.1.2.4.50' }), {
          uidKey: UID_KEY,
          pseudonym: PSEUDONYM,
        }),
      );
      expect(err.code).toBe(AssetValidationCode.UNSUPPORTED_DICOM);
      expect(err.message).toContain('1.2.840.10008.1.2.4.50');
      expect(err.message).toContain('JPEG Baseline');
    });

    it('refuses too many pixels before rendering, and unsupported photometric interpretations', () => {
      const big = monochromeDicom({ values: new Array(64).fill(1), rows: 8, columns: 8 });
      expect(failure(() => deidentifyDicom(big, { uidKey: UID_KEY, pseudonym: PSEUDONYM, maxPixels: 63 })).code).toBe(AssetValidationCode.TOO_MANY_PIXELS);
      const palette = monochromeDicom({ values: [1, 2, 3, 4], rows: 2, columns: 2, photometric: 'PALETTE COLOR' });
      const err = failure(() => deidentifyDicom(palette, { uidKey: UID_KEY, pseudonym: PSEUDONYM }));
      expect(err.code).toBe(AssetValidationCode.UNSUPPORTED_DICOM);
      expect(err.message).toContain('PALETTE COLOR');
    });

    it('refuses empty, non-DICOM and truncated files without quoting them', () => {
      expect(failure(() => deidentifyDicom(Buffer.alloc(0), { uidKey: UID_KEY, pseudonym: PSEUDONYM })).code).toBe(AssetValidationCode.EMPTY_FILE);
      expect(failure(() => deidentifyDicom(Buffer.from('Roe^Jane'.repeat(40)), { uidKey: UID_KEY, pseudonym: PSEUDONYM })).code).toBe(
        AssetValidationCode.WRONG_MAGIC,
      );
      const { bytes } = syntheticFile(4, 'MONOCHROME2');
      for (const cut of [bytes.length - 100, 700, 300]) {
        const err = failure(() => deidentifyDicom(bytes.subarray(0, cut), { uidKey: UID_KEY, pseudonym: PSEUDONYM }));
        expect({ cut, code: [AssetValidationCode.TRUNCATED, AssetValidationCode.DECODE_FAILED].includes(err.code) }).toEqual({ cut, code: true });
        expect(err.message).not.toMatch(/\^/);
      }
    });
  });
});

describe('probeImage on DICOM', () => {
  it('reads Rows and Columns from the header and enforces the pixel limit', () => {
    const bytes = monochromeDicom({ values: new Array(12).fill(0), rows: 3, columns: 4 });
    expect(probeImage(bytes, 'application/dicom', { maxBytes: 1e6, maxPixels: 100 })).toEqual({ mimeType: 'application/dicom', width: 4, height: 3 });
    expect(failure(() => probeImage(bytes, 'application/dicom', { maxBytes: 1e6, maxPixels: 11 })).code).toBe(AssetValidationCode.TOO_MANY_PIXELS);
  });
});
