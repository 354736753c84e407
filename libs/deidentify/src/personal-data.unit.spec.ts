import { personalDataIn, personalDataMessage } from './personal-data';

describe(personalDataIn.name, () => {
  it('lists every category the redactor finds, in HIPAA_CATEGORIES order', () => {
    expect(personalDataIn('Patient: Jane Roe, seen 2021-03-14, MRN 8812345, phone 555-123-4567')).toEqual(['name', 'date', 'phone', 'mrn']);
  });

  it('finds nothing in text the redactor leaves as it is', () => {
    expect(personalDataIn('chest x-ray, PA view, 2021 cohort, nodule 3.2 cm at L4-L5')).toEqual([]);
  });

  it('names the categories in its message and nothing of the text', () => {
    expect(personalDataMessage(['name', 'date'])).toMatch(/^looks like personal data \(name, date\);/);
  });
});
