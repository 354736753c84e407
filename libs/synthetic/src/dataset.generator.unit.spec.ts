import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { data as dcmjsData } from 'dcmjs';
import { generateSyntheticDataset, labelOf, renderFinding, writeSyntheticFolder } from './index';

const { DicomMessage, DicomMetaDictionary } = dcmjsData;

function readDicom(bytes: Buffer) {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return DicomMessage.readFile(ab);
}

describe(generateSyntheticDataset.name, () => {
  describe('determinism', () => {
    it.each(['raw', 'png', 'jpeg', 'dicom'] as const)('gives identical bytes for the same seed (%s)', (imageFormat) => {
      const a = generateSyntheticDataset({ seed: 42, subjects: 3, itemsPerSubject: 2, imageFormat });
      const b = generateSyntheticDataset({ seed: 42, subjects: 3, itemsPerSubject: 2, imageFormat });
      expect(b.subjects).toEqual(a.subjects);
      expect(b.items.map((i) => i.report)).toEqual(a.items.map((i) => i.report));
      for (let i = 0; i < a.items.length; i++) {
        expect(Buffer.from(b.items[i].rgb).equals(Buffer.from(a.items[i].rgb))).toBe(true);
        if (imageFormat !== 'raw') expect(b.items[i].encoded!.bytes.equals(a.items[i].encoded!.bytes)).toBe(true);
        else expect(a.items[i].encoded).toBeNull();
      }
    });

    it('gives different data for a different seed', () => {
      const a = generateSyntheticDataset({ seed: 1, subjects: 2, itemsPerSubject: 2, imageFormat: 'png' });
      const b = generateSyntheticDataset({ seed: 2, subjects: 2, itemsPerSubject: 2, imageFormat: 'png' });
      expect(b.subjects.map((s) => s.mrn)).not.toEqual(a.subjects.map((s) => s.mrn));
      expect(b.items[0].encoded!.bytes.equals(a.items[0].encoded!.bytes)).toBe(false);
      expect(b.items[0].report).not.toEqual(a.items[0].report);
    });
  });

  describe('subjects and consents', () => {
    it('numbers subjects and withdraws exactly the requested fraction', () => {
      const { subjects, items } = generateSyntheticDataset({ seed: 7, subjects: 20, itemsPerSubject: 3, withdrawnFraction: 0.25 });
      expect(subjects.map((s) => s.subjectRef).slice(0, 3)).toEqual(['S7-0001', 'S7-0002', 'S7-0003']);
      // Another seed, other people: other references.
      expect(generateSyntheticDataset({ seed: 8, subjects: 1, itemsPerSubject: 1 }).subjects[0].subjectRef).toBe('S8-0001');
      expect(subjects.filter((s) => s.consents[0].withdrawn)).toHaveLength(5);
      expect(items).toHaveLength(60);
      for (const s of subjects) {
        expect(s.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(s.consents[0].purposes).toContain('model-training');
        expect(new Date(s.consents[0].start).toISOString()).toBeTruthy();
      }
    });

    it('rejects out-of-range options with a message naming the option', () => {
      expect(() => generateSyntheticDataset({ seed: 1, subjects: -1, itemsPerSubject: 1 })).toThrow(/subjects/);
      expect(() => generateSyntheticDataset({ seed: 1, subjects: 1, itemsPerSubject: 1, withdrawnFraction: 2 })).toThrow(/withdrawnFraction/);
    });
  });

  describe('items', () => {
    const { items, subjects } = generateSyntheticDataset({ seed: 11, subjects: 8, itemsPerSubject: 4, imageSize: 48 });

    it('derives the label from the finding and describes it in caption and answers', () => {
      for (const item of items) {
        expect(item.finding.label).toBe(labelOf(item.finding.shape, item.finding.size));
        expect(item.caption).toBe(`A ${item.finding.size} ${item.finding.color} ${item.finding.shape} in the ${item.finding.position}.`);
        expect(item.qa.map((q) => q.answer)).toEqual([item.finding.shape, item.finding.color, item.finding.position, item.finding.size, item.finding.label]);
        expect(item.rgb).toHaveLength(48 * 48 * 3);
        expect(item.report).toContain(item.finding.shape);
        expect(item.report).toContain(`Finding: ${item.finding.label}`);
      }
      // Enough variety for a model to learn from.
      expect(new Set(items.map((i) => i.finding.label)).size).toBe(4);
    });

    it('puts every identifier category into the report', () => {
      for (const item of items) {
        const subject = subjects.find((s) => s.subjectRef === item.subjectRef)!;
        const r = item.report;
        expect(r).toContain(subject.name.split(' ')[1]);
        expect(r).toContain(subject.mrn);
        expect(r).toContain(subject.birthDate.slice(0, 4));
        expect(r).toMatch(/Exam date: \S/);
        expect(r).toMatch(/Phone: \(555\) \d{3}-\d{4}/);
        expect(r).toMatch(/Fax: 555-\d{3}-\d{4}/);
        expect(r).toMatch(/[a-z]+\.[a-z]+\d+@example-mail\.com/);
        expect(r).toMatch(/SSN: \d{3}-\d{2}-\d{4}/);
        expect(r).toMatch(/Account No: \d{10}/);
        expect(r).toMatch(/Health Plan ID: HP-\d{9}/);
        expect(r).toMatch(/Address: \d+ [A-Z][a-z]+ (Street|Avenue|Road|Lane|Boulevard|Drive), [A-Za-z]+, [A-Z]{2} \d{5}/);
        expect(r).toMatch(/https:\/\/\S+/);
        expect(r).toMatch(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/);
        expect(r).toMatch(/Dr\. [A-Z][a-z]+ [A-Z][a-z]+/);
      }
    });
  });

  describe('encodings', () => {
    it('writes PNG that decodes back to the rendered pixels', () => {
      const [item] = generateSyntheticDataset({ seed: 3, subjects: 1, itemsPerSubject: 1, imageFormat: 'png', imageSize: 32 }).items;
      expect(item.encoded!.mimeType).toBe('image/png');
      const png = PNG.sync.read(item.encoded!.bytes);
      expect([png.width, png.height]).toEqual([32, 32]);
      for (let p = 0; p < 32 * 32; p++)
        expect([png.data[p * 4], png.data[p * 4 + 1], png.data[p * 4 + 2]]).toEqual([item.rgb[p * 3], item.rgb[p * 3 + 1], item.rgb[p * 3 + 2]]);
    });

    it('writes JPEG that decodes close to the rendered pixels', () => {
      const [item] = generateSyntheticDataset({ seed: 3, subjects: 1, itemsPerSubject: 1, imageFormat: 'jpeg', imageSize: 32 }).items;
      expect(item.encoded!.mimeType).toBe('image/jpeg');
      const img = jpeg.decode(item.encoded!.bytes, { useTArray: true });
      expect([img.width, img.height]).toEqual([32, 32]);
      let err = 0;
      for (let p = 0; p < 32 * 32; p++) for (let c = 0; c < 3; c++) err += Math.abs(img.data[p * 4 + c] - item.rgb[p * 3 + c]);
      expect(err / (32 * 32 * 3)).toBeLessThan(12);
    });

    it('writes DICOM Part 10 with identifying tags, a private tag and pixel data', () => {
      const { items, subjects } = generateSyntheticDataset({ seed: 5, subjects: 2, itemsPerSubject: 3, imageFormat: 'dicom', imageSize: 16 });
      const photometrics = new Set<string>();
      for (const item of items) {
        const bytes = item.encoded!.bytes;
        expect(item.encoded!.mimeType).toBe('application/dicom');
        expect(bytes.subarray(128, 132).toString('latin1')).toBe('DICM');
        const dict = readDicom(bytes);
        expect(dict.meta['00020010'].Value![0]).toBe('1.2.840.10008.1.2.1');
        const ds = DicomMetaDictionary.naturalizeDataset(dict.dict);
        const subject = subjects.find((s) => s.subjectRef === item.subjectRef)!;
        expect(ds.PatientID).toBe(subject.mrn);
        expect(ds.PatientBirthDate).toBe(subject.birthDate.replace(/-/g, ''));
        for (const k of [
          'PatientName',
          'AccessionNumber',
          'InstitutionName',
          'StudyDate',
          'ReferringPhysicianName',
          'StudyInstanceUID',
          'SeriesInstanceUID',
          'SOPInstanceUID',
        ])
          expect(ds[k]).toBeTruthy();
        expect(dict.dict['00091001'].Value![0]).toMatch(/^PRIV\d{10}$/);
        expect([ds.Rows, ds.Columns]).toEqual([16, 16]);
        photometrics.add(ds.PhotometricInterpretation);
        const pixelBytes = (dict.dict['7FE00010'].Value![0] as ArrayBuffer).byteLength;
        expect(pixelBytes).toBe(ds.PhotometricInterpretation === 'RGB' ? 16 * 16 * 3 : 16 * 16 * 2);
      }
      expect(photometrics).toEqual(new Set(['RGB', 'MONOCHROME2']));
    });

    it('is fast enough to make thousands of items', () => {
      // Not timed: it just has to complete within the default jest timeout on a small machine.
      const { items } = generateSyntheticDataset({ seed: 9, subjects: 200, itemsPerSubject: 5, imageSize: 64 });
      expect(items).toHaveLength(1000);
    });
  });
});

describe(renderFinding.name, () => {
  it('draws the shape in its colour at its position', () => {
    const rgb = renderFinding({ shape: 'square', color: 'red', position: 'upper right', size: 'large', label: 'effusion' }, 64, 1);
    const at = (x: number, y: number) => [rgb[(y * 64 + x) * 3], rgb[(y * 64 + x) * 3 + 1], rgb[(y * 64 + x) * 3 + 2]];
    const [r, g, b] = at(48, 16);
    expect(r).toBeGreaterThan(190);
    expect(g).toBeLessThan(70);
    expect(b).toBeLessThan(70);
    const [r2] = at(16, 48);
    expect(r2).toBeLessThan(100);
  });

  it('adds seeded noise: other seeds give other pixels, the same seed the same', () => {
    const f = { shape: 'circle', color: 'blue', position: 'center', size: 'small', label: 'nodule' } as const;
    expect(Buffer.from(renderFinding(f, 32, 1)).equals(Buffer.from(renderFinding(f, 32, 1)))).toBe(true);
    expect(Buffer.from(renderFinding(f, 32, 1)).equals(Buffer.from(renderFinding(f, 32, 2)))).toBe(false);
  });
});

describe(writeSyntheticFolder.name, () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'trellis-synth-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes images, reports, a manifest and subjects', async () => {
    const { manifestPath, subjectsPath } = await writeSyntheticFolder(dir, { seed: 4, subjects: 2, itemsPerSubject: 2, imageFormat: 'jpeg' });
    const manifest = (await readFile(manifestPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(manifest).toHaveLength(8);
    const reports = manifest.filter((l) => l.kind === 'report');
    for (const r of reports) {
      expect(manifest.find((l) => l.path === r.describes)).toMatchObject({ kind: 'image', mimeType: 'image/jpeg', subjectRef: r.subjectRef });
      expect(await readFile(join(dir, r.path), 'utf8')).toContain('RADIOLOGY REPORT');
    }
    const image = await readFile(join(dir, manifest[0].path));
    expect(image.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const subjects = (await readFile(subjectsPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(subjects.map((s) => s.subjectRef)).toEqual(['S4-0001', 'S4-0002']);
    expect(subjects[0]).toEqual(expect.objectContaining({ name: expect.any(String), mrn: expect.stringMatching(/^MRN/), consents: expect.any(Array) }));
  });

  it('writes raw images as PNG', async () => {
    const { manifestPath } = await writeSyntheticFolder(dir, { seed: 4, subjects: 1, itemsPerSubject: 1 });
    const [image] = (await readFile(manifestPath, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(image.mimeType).toBe('image/png');
    expect(PNG.sync.read(await readFile(join(dir, image.path))).width).toBe(64);
  });
});
