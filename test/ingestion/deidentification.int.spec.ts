import { data as dcmjsData } from 'dcmjs';
import { PNG } from 'pngjs';
import { createSyntheticDicom, generateSyntheticDataset, Prng, syntheticDicomIdentity } from '@trellis/synthetic';
import { IngestAssetUseCase } from '../../services/ingestion/src/assets/ingest-asset.usecase';
import { IngestionHarness, startIngestionHarness, steward } from './ingestion-harness';

describe(IngestAssetUseCase.name, () => {
  let h: IngestionHarness;
  beforeAll(async () => {
    h = await startIngestionHarness();
  });
  afterAll(() => h.close());

  describe('ingest (de-identification)', () => {
    it('comes out of a DICOM file with no identifying tag, UIDs re-mapped, private tags gone, pixels rendered to PNG', async () => {
      const data = generateSyntheticDataset({ seed: 21, subjects: 1, itemsPerSubject: 1, imageSize: 64 });
      const patient = data.subjects[0];
      const identity = syntheticDicomIdentity(new Prng(99), patient);
      const dicom = createSyntheticDicom({ width: 64, height: 64, rgb: data.items[0].rgb }, identity);
      const subjectId = await h.consentingSubject({ name: patient.name, mrn: patient.mrn, birthDate: patient.birthDate });

      const asset = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'application/dicom', bytes: dicom }, steward);
      expect(asset).toMatchObject({ kind: 'image', mimeType: 'application/dicom', width: 64, height: 64 });
      const [row] = await h.ds.query('SELECT * FROM ingestion_assets WHERE asset_id = $1', [asset.assetId]);
      expect(row.deidentification.method).toBe('dicom-ps3.15-e1-basic');
      expect(row.deidentification.options.length).toBeGreaterThan(0);

      const out = await h.storage.getBuffer('curated', row.deidentified_key);
      const text = out.toString('latin1');
      // Every identifying value the file carried (sex and age are single letters/short codes, checked by tag below).
      const identifying = Object.entries(identity).filter(([k]) => !['patientSex', 'patientAge'].includes(k));
      for (const [field, value] of identifying) {
        for (const part of String(value)
          .split('^')
          .filter((p) => p.length >= 4)) {
          expect({ field, found: text.includes(part) }).toEqual({ field, found: false });
        }
      }
      const parsed = dcmjsData.DicomMessage.readFile(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer);
      const tags = Object.keys(parsed.dict);
      // No private (odd group) element survives.
      expect(tags.filter((t) => parseInt(t.slice(0, 4), 16) % 2 === 1)).toEqual([]);
      const ds = dcmjsData.DicomMetaDictionary.naturalizeDataset(parsed.dict);
      const original = dcmjsData.DicomMetaDictionary.naturalizeDataset(
        dcmjsData.DicomMessage.readFile(dicom.buffer.slice(dicom.byteOffset, dicom.byteOffset + dicom.byteLength) as ArrayBuffer).dict,
      );
      for (const tag of [
        'PatientName',
        'PatientID',
        'PatientBirthDate',
        'AccessionNumber',
        'InstitutionName',
        'ReferringPhysicianName',
        'StudyDate',
        'OtherPatientIDs',
        'PatientAddress',
        'DeviceSerialNumber',
      ]) {
        expect({ tag, value: ds[tag] === undefined ? undefined : JSON.stringify(ds[tag]) }).not.toEqual({ tag, value: JSON.stringify(original[tag]) });
      }
      expect(ds.PatientIdentityRemoved).toBe('YES');
      for (const uid of ['StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID']) {
        expect(ds[uid]).toMatch(/^[0-9.]+$/);
        expect(ds[uid]).not.toBe(original[uid]);
      }

      const png = PNG.sync.read(await h.storage.getBuffer('curated', row.curated_key));
      expect([png.width, png.height]).toEqual([64, 64]);
      const derivative = PNG.sync.read(await h.storage.getBuffer('curated', row.derivative_key));
      expect([derivative.width, derivative.height]).toEqual([224, 224]);

      // UIDs are re-mapped consistently: the same study from the same source maps to the same UID.
      const again = createSyntheticDicom({ width: 64, height: 64, rgb: data.items[0].rgb.map((v) => 255 - v) }, identity);
      const second = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'application/dicom', bytes: again }, steward);
      const [row2] = await h.ds.query('SELECT deidentified_key FROM ingestion_assets WHERE asset_id = $1', [second.assetId]);
      const out2 = await h.storage.getBuffer('curated', row2.deidentified_key);
      const ds2 = dcmjsData.DicomMetaDictionary.naturalizeDataset(
        dcmjsData.DicomMessage.readFile(out2.buffer.slice(out2.byteOffset, out2.byteOffset + out2.byteLength) as ArrayBuffer).dict,
      );
      expect(ds2.StudyInstanceUID).toBe(ds.StudyInstanceUID);
    });

    it('redacts every HIPAA identifier category of a report and records counts, never the text', async () => {
      const data = generateSyntheticDataset({ seed: 22, subjects: 1, itemsPerSubject: 1, imageSize: 32 });
      const patient = data.subjects[0];
      const report = data.items[0].report;
      const subjectId = await h.consentingSubject({ name: patient.name, mrn: patient.mrn, birthDate: patient.birthDate });
      const asset = await h.ingest.ingest({ subject: subjectId, declaredMimeType: 'text/plain', bytes: Buffer.from(report, 'utf8') }, steward);
      const [row] = await h.ds.query('SELECT * FROM ingestion_assets WHERE asset_id = $1', [asset.assetId]);
      const redacted = (await h.storage.getBuffer('curated', row.curated_key)).toString('utf8');

      const grab = (re: RegExp) => {
        const m = re.exec(report);
        if (!m) throw new Error(`the synthetic report has no match for ${re}`);
        return m[1];
      };
      const identifiers: Record<string, string> = {
        name: patient.name.split(' ')[1],
        givenName: patient.name.split(' ')[0],
        mrn: patient.mrn,
        dob: grab(/DOB: (\S+)/),
        ssn: grab(/SSN: (\S+)/),
        account: grab(/Account No: (\S+)/),
        healthPlan: grab(/Health Plan ID: (\S+)/),
        street: grab(/Address: (\d+ [A-Za-z]+)/),
        zip: grab(/Address: .* (\d{5})\s*$/m),
        phone: grab(/Phone: (\(\d{3}\) \d{3}-\d{4})/),
        fax: grab(/Fax: (\S+)/),
        email: grab(/E-mail: (\S+)/),
        url: grab(/Portal: (\S+)/),
        ip: grab(/Workstation: (\S+)/),
        serial: grab(/Device serial number: (\S+)/),
        examDate: grab(/Exam date: (.+)$/m),
      };
      for (const [category, value] of Object.entries(identifiers)) {
        expect({ category, leaked: redacted.includes(value) }).toEqual({ category, leaked: false });
      }
      // The clinical content stays.
      expect(redacted).toMatch(/FINDINGS:/);
      expect(redacted).toMatch(/\d+ mm/);
      expect(redacted).toContain('L4-L5');
      // A ZIP keeps at most its first three digits.
      expect(redacted).not.toMatch(new RegExp(identifiers.zip));

      expect(row.deidentification.method).toBe('hipaa-safe-harbor');
      const summary = row.deidentification.summary as Record<string, number>;
      expect(Object.values(summary).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(Object.keys(identifiers).length - 2);
      const [event] = await h.ds.query(`SELECT data FROM trellis_events WHERE type = 'AssetIngested' AND data->>'assetId' = $1`, [asset.assetId]);
      for (const value of Object.values(identifiers)) expect(JSON.stringify(event.data)).not.toContain(value);
    });
  });
});
