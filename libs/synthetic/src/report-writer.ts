import { Prng } from './prng';
import { SyntheticFinding, SyntheticSubject } from './synthetic.types';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const STREETS = ['Maple Street', 'Oak Avenue', 'Pine Road', 'Cedar Lane', 'Elm Boulevard', 'Willow Drive'];
const CITIES = ['Springfield, IL', 'Riverton, WY', 'Fairview, OR', 'Franklin, TN', 'Greenville, SC'];
// Includes 036 and 059, two of the restricted 3-digit ZIP prefixes (population under 20,000).
const ZIPS = ['62704', '82501', '97024', '37064', '29601', '03601', '05901'];
const DOCTORS = ['Alice Brown', 'Marcus Webb', 'Sofia Lindgren', 'Omar Haddad', 'Priya Raman', 'Tomas Kral'];

const SHAPE_WORD: Record<SyntheticFinding['shape'], string> = { circle: 'round', square: 'square', triangle: 'triangular' };
const IMPRESSION: Record<SyntheticFinding['label'], string> = {
  normal: 'No acute abnormality (normal study).',
  nodule: 'Solitary pulmonary nodule.',
  mass: 'Mass lesion; recommend CT correlation.',
  effusion: 'Pleural effusion.',
};

/** A date in one of the formats real reports mix, so a redactor has to handle them all. */
export function formatDate(rng: Prng, y: number, m: number, d: number): string {
  switch (rng.int(0, 3)) {
    case 0:
      return `${y}-${pad(m)}-${pad(d)}`;
    case 1:
      return `${pad(m)}/${pad(d)}/${y}`;
    case 2:
      return `${d} ${MONTHS[m - 1]} ${y}`;
    default:
      return `${MONTHS[m - 1]} ${d}, ${y}`;
  }
}

/**
 * A radiology-style report: the finding in FINDINGS/IMPRESSION, plus fake identifiers of every
 * HIPAA Safe Harbor kind a report tends to carry (name, dates, age, phone, fax, e-mail, MRN,
 * SSN, account and health plan numbers, address with ZIP, URL, IP address, device serial).
 * Measurements ('5 mm'), vertebra levels and bare years are included to catch over-redaction.
 */
export function writeReport(rng: Prng, subject: SyntheticSubject, finding: SyntheticFinding): string {
  const [given, family] = subject.name.split(' ');
  const birthYear = Number(subject.birthDate.slice(0, 4));
  const examYear = rng.int(2018, 2024);
  const examMonth = rng.int(1, 12);
  const examDay = rng.int(1, 28);
  const age = examYear - birthYear;
  const birth = subject.birthDate.split('-').map(Number);
  const email = `${given.toLowerCase()}.${family.toLowerCase()}${rng.int(1, 99)}@example-mail.com`;
  const doctor = rng.pick(DOCTORS);
  const sizeMm = finding.size === 'large' ? rng.int(30, 45) : rng.int(4, 9);
  const priorYear = examYear - rng.int(1, 3);

  return [
    'RADIOLOGY REPORT',
    `Patient: ${given} ${family}    MRN: ${subject.mrn}`,
    `DOB: ${formatDate(rng, birth[0], birth[1], birth[2])}    Age: ${age} years`,
    `SSN: ${rng.int(100, 899)}-${rng.int(10, 99)}-${rng.int(1000, 9999)}    Account No: ${rng.digits(10)}`,
    `Health Plan ID: HP-${rng.digits(9)}`,
    `Address: ${rng.int(12, 9800)} ${rng.pick(STREETS)}, ${rng.pick(CITIES)} ${rng.pick(ZIPS)}`,
    `Phone: (555) ${rng.int(200, 999)}-${rng.digits(4)}    Fax: 555-${rng.int(200, 999)}-${rng.digits(4)}`,
    `E-mail: ${email}`,
    `Portal: https://portal.example-hospital.org/records/${subject.mrn}`,
    `Workstation: ${rng.int(10, 192)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
    `Device serial number: SN-${rng.digits(7)}`,
    `Exam date: ${formatDate(rng, examYear, examMonth, examDay)}`,
    `Referring physician: Dr. ${doctor}`,
    '',
    `CLINICAL HISTORY: ${age}-year-old with cough since ${priorYear}. Prior film reviewed by Dr. ${doctor}.`,
    '',
    `FINDINGS: A ${finding.size} ${finding.color} ${SHAPE_WORD[finding.shape]} (${finding.shape}) opacity is seen in the ${finding.position}` +
      `${finding.position === 'center' ? ' of the field' : ' zone'}, measuring ${sizeMm} mm (${(sizeMm / 10).toFixed(1)} cm).` +
      ' Degenerative change at L4-L5. Heart size normal.',
    '',
    `IMPRESSION: ${IMPRESSION[finding.label]} Finding: ${finding.label}.`,
    '',
    `Electronically signed by Dr. ${doctor} on ${formatDate(rng, examYear, examMonth, examDay)}.`,
    '',
  ].join('\n');
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
