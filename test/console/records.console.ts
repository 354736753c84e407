import type { ConsoleWorld } from './console-world';
import { accessibilityProblems, uncaughtErrors } from './console-world';
import { withdrawnSubjectOf } from '../journey/journey-checks';

// Issue 18: the records pages — datasets and versions, a subject's consents and impact (and a
// steward's withdrawal), the audit trail and its chain verification — against the demo's platform.

interface Received {
  datasetId: string;
  name: string;
  version: number;
}
interface Dataset {
  datasetId: string;
  name: string;
  memberCount: number;
  versions: { version: number; merkleRoot: string; memberCount: number }[];
}
interface Manifest {
  merkleRoot: string;
  members: { assetId: string; subjectId: string; kind: string }[];
}
interface Consent {
  consentId: string;
  decision: string;
  status: string;
  purposes: string[];
  withdrawnPurposes: string[];
}
interface Subject {
  subjectId: string;
  status: string;
  consents: Consent[];
}
interface Trail {
  auditTrail: { edges: { node: { eventId: string; type: string; streamId: string; actorId: string; data: string } }[]; pageInfo: { hasNextPage: boolean } };
}

const TRAIL = `query ($type: String, $stream: String, $actor: String) {
  auditTrail(type: $type, stream: $stream, actor: $actor, first: 1000) { edges { node { eventId type streamId actorId data } } pageInfo { hasNextPage } }
}`;

export function describeRecordPages(world: ConsoleWorld): void {
  describe('records: datasets, subjects and the audit trail', () => {
    it('shows the demo dataset and its version with the counts and Merkle root REST gives', async () => {
      const { body: received } = await world.api<Received[]>('steward', 'GET', '/annotation/dataset-versions');
      const demo = received.find((r) => r.name === 'trellis-demo');
      expect(demo).toBeDefined();
      const { body: dataset } = await world.api<Dataset>('auditor', 'GET', `/ingestion/datasets/${demo!.name}`);
      const v = dataset.versions[dataset.versions.length - 1];
      const { body: manifest } = await world.api<Manifest>('auditor', 'GET', `/ingestion/datasets/${demo!.name}/versions/${v.version}`);

      const page = await world.open('auditor', '#/datasets');
      const list = page.getByRole('table', { name: 'Published datasets' });
      await list.getByRole('link', { name: demo!.name, exact: true }).click();
      const summary = page.getByTestId('dataset-summary');
      await summary.waitFor();
      expect(await summary.textContent()).toContain(`members now${dataset.memberCount}`);
      const versions = page.getByRole('table', { name: 'Published versions' });
      expect(await versions.textContent()).toContain(v.merkleRoot);

      await versions.getByRole('link', { name: `v${v.version}` }).click();
      const version = page.getByTestId('version-summary');
      await version.waitFor();
      const text = (await version.textContent())!;
      expect(text).toContain(`Merkle root${v.merkleRoot}`);
      expect(manifest.merkleRoot).toBe(v.merkleRoot);
      expect(text).toContain(`members${v.memberCount}`);
      expect(manifest.members).toHaveLength(v.memberCount);
      expect(text).toContain(`subjects${new Set(manifest.members.map((m) => m.subjectId)).size}`);
      // Every member went through de-identification: the counts per method add up to the members.
      const deid = page.getByRole('table', { name: 'De-identification per method' });
      await deid.waitFor();
      const assets = await deid.locator('tbody tr td:nth-child(3)').allTextContents();
      expect(assets.reduce((n, a) => n + Number(a), 0)).toBe(v.memberCount);
      expect(
        await page
          .getByRole('table', { name: `Members (${v.memberCount})` })
          .locator('tbody tr')
          .count(),
      ).toBe(v.memberCount);
      await world.screenshot(page, 'dataset-version');
      expect(await accessibilityProblems(page)).toEqual([]);

      // The uploads the demo's ingestion refused, with their reasons, as the audit trail holds them.
      const rejected = await world.graphql<Trail>('auditor', TRAIL, { type: 'AssetRejected' });
      await page.goto(`${world.url}/console/#/datasets`);
      const table = page.getByRole('table', { name: 'Uploads ingestion refused, newest first' });
      if (rejected.auditTrail.edges.length) {
        await table.waitFor();
        expect(await table.locator('tbody tr').count()).toBe(rejected.auditTrail.edges.length);
        const reason = (JSON.parse(rejected.auditTrail.edges[0].node.data) as { reasonCode: string }).reasonCode;
        expect(await page.getByTestId('rejection-reasons').textContent()).toContain(reason);
      } else await page.getByText('No upload has been refused.').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it("shows the demo's withdrawn subject: its consent history and an impact reaching the flagged champion", async () => {
      const subjectId = withdrawnSubjectOf(world.output);
      const { body: subject } = await world.api<Subject>('auditor', 'GET', `/ingestion/subjects/${subjectId}`);
      const page = await world.open('auditor', '#/subjects');
      await page.getByLabel('Subject id or external reference').fill(subjectId);
      await page.getByLabel('Subject id or external reference').press('Enter');
      const summary = page.getByTestId('subject-summary');
      await summary.waitFor();
      expect(await summary.textContent()).toContain(subjectId);
      const history = page.getByRole('table', { name: 'Consent history' });
      expect(await history.locator('tbody tr').count()).toBe(subject.consents.length);
      const withdrawn = subject.consents.find((c) => c.withdrawnPurposes.includes('model-training'));
      expect(withdrawn).toBeDefined();
      expect(await history.textContent()).toContain(withdrawn!.withdrawnPurposes.join(', '));
      // An auditor looks; only a steward withdraws.
      expect(await page.getByRole('button', { name: /^Withdraw consent/ }).count()).toBe(0);

      const champion = page.getByTestId('consent-impact').locator(`[data-node-id="model-version:${world.modelVersionId}"]`);
      await champion.waitFor();
      const line = (await champion.textContent())!;
      expect(line).toContain('alias champion');
      expect(line).toContain('⚑ consent-withdrawn');
      await world.screenshot(page, 'subject-impact');
      expect(await accessibilityProblems(page)).toEqual([]);
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it("lets a steward withdraw another subject's consent, after confirming; the platform recorded it", async () => {
      const withdrawnBefore = withdrawnSubjectOf(world.output);
      const { body: manifest } = await world.api<Manifest>('steward', 'GET', '/ingestion/datasets/trellis-demo/versions/1');
      let target: { subject: Subject; consent: Consent } | undefined;
      for (const subjectId of [...new Set(manifest.members.map((m) => m.subjectId))].filter((s) => s !== withdrawnBefore)) {
        const { body: subject } = await world.api<Subject>('steward', 'GET', `/ingestion/subjects/${subjectId}`);
        const consent = subject.consents.find(
          (c) => c.decision === 'permit' && c.status === 'active' && c.purposes.some((p) => !c.withdrawnPurposes.includes(p)),
        );
        if (subject.status === 'active' && consent) {
          target = { subject, consent };
          break;
        }
      }
      expect(target).toBeDefined();
      const { subject, consent } = target!;
      const left = consent.purposes.filter((p) => !consent.withdrawnPurposes.includes(p));

      const page = await world.open('steward', `#/subjects/${subject.subjectId}`);
      await page.getByRole('button', { name: `Withdraw consent ${consent.consentId}` }).click();
      const dialog = page.getByRole('dialog', { name: `Withdraw consent ${consent.consentId}` });
      await dialog.waitFor();
      // Every purpose still permitted is offered, checked; erasure is not.
      for (const p of left) expect(await dialog.getByLabel(p).isChecked()).toBe(true);
      expect(await dialog.getByLabel(/also asks for erasure/).isChecked()).toBe(false);
      expect(await accessibilityProblems(page)).toEqual([]);
      // Cancel leaves everything as it was.
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(await dialog.count()).toBe(0);
      const unchanged = await world.api<Subject>('steward', 'GET', `/ingestion/subjects/${subject.subjectId}`);
      expect(unchanged.body.consents.find((c) => c.consentId === consent.consentId)!.withdrawnPurposes).toEqual(consent.withdrawnPurposes);

      await page.getByRole('button', { name: `Withdraw consent ${consent.consentId}` }).click();
      await dialog.getByRole('button', { name: 'Confirm withdrawal' }).click();
      const done = page.getByRole('status').getByText(/^Consent withdrawn for /);
      await done.waitFor();
      for (const p of left) expect(await done.textContent()).toContain(p);

      const after = await world.api<Subject>('steward', 'GET', `/ingestion/subjects/${subject.subjectId}`);
      const recorded = after.body.consents.find((c) => c.consentId === consent.consentId)!;
      expect([...recorded.withdrawnPurposes].sort()).toEqual([...new Set([...consent.withdrawnPurposes, ...left])].sort());
      expect(after.body.status).toBe('active');
      // One ConsentWithdrawn event on the subject's stream, by the steward who clicked.
      const { body: who } = await world.api<{ principalId: string }>('steward', 'GET', '/auth/whoami');
      const trail = await world.graphql<Trail>('auditor', TRAIL, { type: 'ConsentWithdrawn', stream: `subject-${subject.subjectId}` });
      const mine = trail.auditTrail.edges.filter((e) => e.node.actorId === who.principalId);
      expect(mine).toHaveLength(1);
      expect(JSON.parse(mine[0].node.data)).toMatchObject({ consentId: consent.consentId });
      // The page shows the new standing without a reload.
      await page.getByRole('table', { name: 'Consent history' }).getByText('withdrawn', { exact: true }).first().waitFor();
      expect(await page.getByRole('button', { name: `Withdraw consent ${consent.consentId}` }).count()).toBe(0);
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('shows the audit trail, filters it, and verifies every log chain as GraphQL does', async () => {
      const { eventLogs } = await world.graphql<{ eventLogs: { log: string }[] }>('auditor', '{ eventLogs { log position } }');
      expect(eventLogs.length).toBeGreaterThan(0);
      const page = await world.open('auditor', '#/audit');
      for (const { log } of eventLogs) {
        const { verifyAuditChain: v } = await world.graphql<{ verifyAuditChain: { ok: boolean } }>(
          'auditor',
          `query ($log: String!) { verifyAuditChain(log: $log) { ok } }`,
          {
            log,
          },
        );
        expect(v.ok).toBe(true);
        const cell = page.getByTestId(`chain-${log}`);
        await cell.waitFor();
        expect(await cell.getAttribute('data-ok')).toBe('true');
        expect(await cell.textContent()).toMatch(/^ok ok: \d+ events checked/);
      }
      await page.getByRole('table', { name: 'Audit trail' }).locator('tbody tr').first().waitFor();
      await world.screenshot(page, 'audit-trail');
      expect(await accessibilityProblems(page)).toEqual([]);

      // Filtered by type through the form: the rows are the events GraphQL gives for that type.
      const withdrawals = await world.graphql<Trail>('auditor', TRAIL, { type: 'ConsentWithdrawn' });
      expect(withdrawals.auditTrail.edges.length).toBeGreaterThan(0);
      await page.getByLabel('Event type').fill('ConsentWithdrawn');
      await page.getByLabel('Event type').press('Enter');
      await page.waitForURL(/#\/audit\?type=ConsentWithdrawn$/);
      const rows = page.getByRole('table', { name: 'Audit trail' }).locator('tbody tr');
      await page
        .getByRole('status')
        .getByText(new RegExp(`^${withdrawals.auditTrail.edges.length} events? shown`))
        .waitFor();
      expect(await rows.count()).toBe(withdrawals.auditTrail.edges.length);
      const streams = await rows.locator('td:nth-child(4) a').allTextContents();
      expect(streams).toEqual(withdrawals.auditTrail.edges.map((e) => e.node.streamId));

      // A time that is not one is refused at the field, before asking.
      await page.getByLabel('From (UTC, inclusive)').fill('yesterday');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.getByRole('alert').getByText('is not a date or time').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('tells a role without access that the audit trail and subjects are not theirs', async () => {
      const page = await world.open('annotatorOnly', '#/audit');
      await page.getByRole('alert').getByText('Not available to your roles').waitFor();
      expect(await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Audit' }).count()).toBe(0);
      await page.goto(`${world.url}/console/#/subjects`);
      await page.getByRole('alert').getByText('Not available to your roles').waitFor();
      // An engineer reads datasets but not the trail: the dataset page says where rejections are.
      const engineer = await world.open('engineer', '#/datasets/trellis-demo');
      await engineer.getByTestId('dataset-summary').waitFor();
      await engineer.goto(`${world.url}/console/#/audit`);
      await engineer.getByRole('alert').getByText('Not available to your roles').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
      expect(uncaughtErrors(engineer)).toEqual([]);
    });
  });
}
