import { personalDataIn, personalDataMessage } from './personal-data';

describe(personalDataIn.name, () => {
  it('lists every category the redactor finds, in HIPAA_CATEGORIES order', () => {
    expect(personalDataIn('Patient: Jane Roe, seen 2021-03-14, MRN 8812345, phone 555-123-4567')).toEqual(['name', 'date', 'phone', 'mrn']);
  });

  it('takes a UUID for the pseudonymous id it is, also where its digits look like an account number', () => {
    // These three tripped the redactor's other-id rule before UUIDs were set aside.
    for (const id of ['01a23f81-71be-756b-adec-387767425383', '01a23f81-71c0-738e-8810-183257452803', '01a23f81-71c1-768b-9eec-380783492603']) {
      expect(personalDataIn(`annotation of ${id} v1`)).toEqual([]);
    }
    expect(personalDataIn('annotation of 01a23f81-71be-756b-adec-387767425383 for MRN 12345678')).toContain('mrn');
  });

  it('finds nothing in text the redactor leaves as it is', () => {
    expect(personalDataIn('chest x-ray, PA view, 2021 cohort, nodule 3.2 cm at L4-L5')).toEqual([]);
  });

  it('names the categories in its message and nothing of the text', () => {
    expect(personalDataMessage(['name', 'date'])).toMatch(/^looks like personal data \(name, date\);/);
  });
});
