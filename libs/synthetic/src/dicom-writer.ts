import { data as dcmjsData } from 'dcmjs';
import { Prng } from './prng';

const { DicomDict, DicomMetaDictionary } = dcmjsData;

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const SECONDARY_CAPTURE_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7';
/** Creator of the private block the synthetic files carry, to prove de-identification drops it. */
export const SYNTHETIC_PRIVATE_CREATOR = 'TRELLIS SYNTH';

/**
 * Every identifying value a synthetic DICOM file carries. Exposed so tests can search a
 * de-identified output for each one.
 */
export interface SyntheticDicomIdentity {
  patientName: string; // DICOM PN, e.g. 'Doe^John'
  patientId: string;
  patientBirthDate: string; // YYYYMMDD
  patientSex: 'M' | 'F' | 'O';
  patientAge: string; // e.g. '064Y'
  otherPatientIds: string;
  patientAddress: string;
  patientTelephone: string;
  accessionNumber: string;
  institutionName: string;
  institutionAddress: string;
  departmentName: string;
  referringPhysicianName: string;
  performingPhysicianName: string;
  operatorsName: string;
  physiciansOfRecord: string;
  readingPhysicianName: string;
  studyDate: string; // YYYYMMDD
  studyTime: string; // HHMMSS
  deviceSerialNumber: string;
  stationName: string;
  studyId: string;
  studyDescription: string;
  seriesDescription: string;
  imageComments: string;
  additionalPatientHistory: string;
  /** Value of the private element (0009,1001). */
  privateValue: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  frameOfReferenceUid: string;
  referencedSopInstanceUid: string;
}

export interface SyntheticDicomImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  /** RGB keeps 8-bit colour; MONOCHROME2 stores luminance as 12 bits in 16 with a rescale. */
  photometric?: 'RGB' | 'MONOCHROME2';
}

const FIRST = ['Alice', 'Bruno', 'Chiara', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Keiko', 'Liam', 'Marta', 'Noah', 'Olga', 'Pavel'];
const LAST = [
  'Anders',
  'Bauer',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Hoffmann',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Novak',
  'Okafor',
  'Petrov',
];

/** A 2.25 UID (UUID-derived form) with 38 digits, drawn from the generator. */
export function syntheticUid(rng: Prng): string {
  return `2.25.${rng.int(1, 9)}${rng.digits(37)}`;
}

export function syntheticDicomIdentity(rng: Prng, patient: { name: string; birthDate: string; mrn: string }): SyntheticDicomIdentity {
  const [given, family] = patient.name.split(' ');
  const person = (): string => `${rng.pick(LAST)}^${rng.pick(FIRST)}`;
  const date = `${rng.int(2015, 2024)}${pad(rng.int(1, 12))}${pad(rng.int(1, 28))}`;
  const birthYear = Number(patient.birthDate.slice(0, 4));
  return {
    patientName: `${family}^${given}`,
    patientId: patient.mrn,
    patientBirthDate: patient.birthDate.replace(/-/g, ''),
    patientSex: rng.pick(['M', 'F', 'O'] as const),
    patientAge: `${String(Number(date.slice(0, 4)) - birthYear).padStart(3, '0')}Y`,
    otherPatientIds: `OPI${rng.digits(8)}`,
    patientAddress: `${rng.int(10, 9999)} ${rng.pick(['Birch', 'Cedar', 'Elm', 'Juniper'])} Lane, Springfield`,
    patientTelephone: `555${rng.digits(7)}`,
    accessionNumber: `ACN${rng.digits(9)}`,
    institutionName: `${rng.pick(['Saint', 'North', 'Lakeside', 'Riverside'])} ${rng.pick(['Mercy', 'General', 'Valley'])} Hospital ${rng.digits(3)}`,
    institutionAddress: `${rng.int(100, 999)} Hospital Road, Shelbyville`,
    departmentName: `Radiology Wing ${rng.digits(4)}`,
    referringPhysicianName: person(),
    performingPhysicianName: person(),
    operatorsName: person(),
    physiciansOfRecord: person(),
    readingPhysicianName: person(),
    studyDate: date,
    studyTime: `${pad(rng.int(7, 18))}${pad(rng.int(0, 59))}${pad(rng.int(0, 59))}`,
    deviceSerialNumber: `DSN${rng.digits(8)}`,
    stationName: `STN${rng.digits(5)}`,
    studyId: `SID${rng.digits(6)}`,
    studyDescription: `Chest study for ${given} ${family} ${rng.digits(4)}`,
    seriesDescription: `Series of ${family} ${rng.digits(4)}`,
    imageComments: `Acquired for ${given} ${family}, MRN ${patient.mrn}`,
    additionalPatientHistory: `History given by ${given} ${family} ${rng.digits(4)}`,
    privateValue: `PRIV${rng.digits(10)}`,
    studyInstanceUid: syntheticUid(rng),
    seriesInstanceUid: syntheticUid(rng),
    sopInstanceUid: syntheticUid(rng),
    frameOfReferenceUid: syntheticUid(rng),
    referencedSopInstanceUid: syntheticUid(rng),
  };
}

/**
 * A DICOM Part 10 file (Explicit VR Little Endian, Secondary Capture) with every identifying
 * attribute of `identity` filled in, one private block and a nested sequence holding a UID.
 */
export function createSyntheticDicom(image: SyntheticDicomImage, identity: SyntheticDicomIdentity): Buffer {
  const { width, height, rgb } = image;
  const photometric = image.photometric ?? 'RGB';
  if (rgb.length !== width * height * 3) throw new RangeError(`rgb must hold ${width * height * 3} bytes, got ${rgb.length}`);

  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
    MediaStorageSOPInstanceUID: identity.sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: '2.25.80302813137786398554742050926734630921',
    ImplementationVersionName: 'TRELLIS_SYNTH',
  };

  let pixels: ArrayBuffer;
  let imagePixel: Record<string, unknown>;
  if (photometric === 'RGB') {
    pixels = copyToArrayBuffer(rgb);
    imagePixel = {
      SamplesPerPixel: 3,
      PhotometricInterpretation: 'RGB',
      PlanarConfiguration: 0,
      BitsAllocated: 8,
      BitsStored: 8,
      HighBit: 7,
      PixelRepresentation: 0,
    };
  } else {
    // 12-bit stored values: luminance * 16; with intercept -1024 the modality values run
    // -1024..3056, like CT Hounsfield units.
    const mono = new Uint16Array(width * height);
    for (let i = 0; i < mono.length; i++) {
      const y = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
      mono[i] = Math.round(y * 16);
    }
    pixels = mono.buffer;
    imagePixel = {
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16,
      BitsStored: 12,
      HighBit: 11,
      PixelRepresentation: 0,
      RescaleIntercept: -1024,
      RescaleSlope: 1,
      WindowCenter: 1016,
      WindowWidth: 4080,
    };
  }

  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'SECONDARY'],
    SOPClassUID: SECONDARY_CAPTURE_SOP_CLASS,
    SOPInstanceUID: identity.sopInstanceUid,
    StudyDate: identity.studyDate,
    SeriesDate: identity.studyDate,
    ContentDate: identity.studyDate,
    AcquisitionDate: identity.studyDate,
    StudyTime: identity.studyTime,
    SeriesTime: identity.studyTime,
    ContentTime: identity.studyTime,
    AcquisitionTime: identity.studyTime,
    AccessionNumber: identity.accessionNumber,
    Modality: 'OT',
    ConversionType: 'SYN',
    Manufacturer: 'Trellis Synthetic',
    InstitutionName: identity.institutionName,
    InstitutionAddress: identity.institutionAddress,
    ReferringPhysicianName: identity.referringPhysicianName,
    StationName: identity.stationName,
    StudyDescription: identity.studyDescription,
    SeriesDescription: identity.seriesDescription,
    InstitutionalDepartmentName: identity.departmentName,
    PhysiciansOfRecord: identity.physiciansOfRecord,
    PerformingPhysicianName: identity.performingPhysicianName,
    NameOfPhysiciansReadingStudy: identity.readingPhysicianName,
    OperatorsName: identity.operatorsName,
    ReferencedStudySequence: [{ ReferencedSOPClassUID: '1.2.840.10008.3.1.2.3.1', ReferencedSOPInstanceUID: identity.referencedSopInstanceUid }],
    PatientName: identity.patientName,
    PatientID: identity.patientId,
    PatientBirthDate: identity.patientBirthDate,
    PatientSex: identity.patientSex,
    OtherPatientIDs: identity.otherPatientIds,
    PatientAge: identity.patientAge,
    PatientAddress: identity.patientAddress,
    PatientTelephoneNumbers: identity.patientTelephone,
    AdditionalPatientHistory: identity.additionalPatientHistory,
    DeviceSerialNumber: identity.deviceSerialNumber,
    StudyInstanceUID: identity.studyInstanceUid,
    SeriesInstanceUID: identity.seriesInstanceUid,
    StudyID: identity.studyId,
    SeriesNumber: '1',
    InstanceNumber: '1',
    FrameOfReferenceUID: identity.frameOfReferenceUid,
    ImageComments: identity.imageComments,
    Rows: height,
    Columns: width,
    ...imagePixel,
    PixelData: [pixels],
    _vrMap: { PixelData: photometric === 'RGB' ? 'OB' : 'OW' },
  };

  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  // A private block (odd group): creator element plus one value; the de-identifier must drop both.
  dict.dict['00090010'] = { vr: 'LO', Value: [SYNTHETIC_PRIVATE_CREATOR] };
  dict.dict['00091001'] = { vr: 'LO', Value: [identity.privateValue] };
  return Buffer.from(dict.write());
}

function copyToArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
