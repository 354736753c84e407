import type { ConsoleWorld } from './console-world';
import { accessibilityProblems, uncaughtErrors } from './console-world';

interface Provenance {
  modelProvenance: { assets: number; modelVersion: { id: string; label: string; states: string; validFrom: string } };
}
const PROVENANCE = `query ($id: ID!) { modelProvenance(modelVersionId: $id) { assets modelVersion { id label states validFrom } } }`;

export function describeLineagePages(world: ConsoleWorld): void {
  describe('sign-in and the champion provenance (home, lineage view)', () => {
    it('opens on the champion provenance graph from the link the demo printed', async () => {
      const link = /^Or look: (\S+\/console\/#token=trl_\S+)/m.exec(world.output)?.[1];
      expect(link).toBeDefined();
      expect(link!.startsWith(`${world.url}/console/#token=`)).toBe(true);
      // Opened in a new tab, as a user would from the terminal.
      const page = await world.open(null, link!.slice(link!.indexOf('#')));
      await page.getByRole('heading', { name: 'Champion provenance' }).waitFor();
      // The token left the address bar for the tab's storage.
      expect(page.url()).not.toContain('trl_');
      const { modelProvenance: p } = await world.graphql<Provenance>('auditor', PROVENANCE, { id: world.modelVersionId });
      const root = page.locator(`[data-node-id="${p.modelVersion.id}"]`);
      await root.waitFor();
      // The withdrawal at the demo's end flagged the champion: drawn flagged, and said above the graph.
      expect(p.modelVersion.states).toContain('flag:consent-withdrawn');
      expect(await root.getAttribute('data-flagged')).toBe('true');
      expect(await root.getAttribute('aria-label')).toContain('alias champion');
      await page.getByText('⚑ Flagged: consent-withdrawn').waitFor();
      const summary = page.getByTestId('provenance-summary');
      expect(await summary.textContent()).toContain(`assets${p.assets}`);
      // The snapshot's curated assets are one group with their count, not one box each.
      const group = page.locator('[data-group-id^="group:up:curated-asset:"]');
      expect(await group.getAttribute('aria-label')).toMatch(new RegExp(`^${p.assets} curated-asset nodes`));
      expect(await page.locator('[data-node-id^="curated-asset:"]').count()).toBe(0);
      await world.screenshot(page, 'lineage-view');
      expect(await accessibilityProblems(page)).toEqual([]);
      // Show all: every member is drawn.
      await group.click();
      await page
        .locator('[data-node-id^="curated-asset:"]')
        .nth(p.assets - 1)
        .waitFor();
      expect(await page.locator('[data-node-id^="curated-asset:"]').count()).toBe(p.assets);
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('refuses a bad token with a clear message, and signs in with a good one from the form', async () => {
      const page = await world.open(null, '#/');
      await page.getByLabel('API token').fill('trl_not-a-real-token-at-all-xxxxxxxxxxxxxxxxxxxxxx');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText('That token is not valid').waitFor();
      await page.getByLabel('API token').fill(world.tokens.auditor);
      await page.getByLabel('API token').press('Enter');
      await page.getByRole('heading', { name: 'Champion provenance' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API token').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('grows the graph hop by hop with the keyboard, and goes back in time with "as of"', async () => {
      const { modelProvenance: p } = await world.graphql<Provenance>('auditor', PROVENANCE, { id: world.modelVersionId });
      const root = encodeURIComponent(p.modelVersion.id);
      const page = await world.open('auditor', `#/lineage/${root}?direction=UPSTREAM&depth=1`);
      const snapshot = page.locator('[data-node-id^="snapshot:"]');
      await snapshot.waitFor();
      expect(await page.locator('[data-node-id^="subject:"], [data-group-id*=":curated-asset:"]').count()).toBe(0);
      // Enter selects (the details name it); Space expands one hop both ways.
      await snapshot.focus();
      await snapshot.press('Enter');
      await page
        .getByRole('complementary', { name: 'Selected node' })
        .getByRole('heading', { name: /^snapshot of run/ })
        .waitFor();
      await snapshot.press(' ');
      await page.locator('[data-group-id^="group:up:curated-asset:"]').waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      // As of a second before the model version existed, it did not exist.
      const before = new Date(Date.parse(p.modelVersion.validFrom) - 1000).toISOString();
      await page.goto(`${world.url}/console/#/lineage/${root}?asOf=${encodeURIComponent(before)}`);
      await page.getByRole('alert').getByText('no such node in the lineage graph at that moment').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('tells a role without access that the lineage is not theirs, instead of breaking', async () => {
      const page = await world.open('annotatorOnly', '#/lineage');
      await page.getByRole('alert').getByText('Not available to your roles').waitFor();
      // The start page points an annotator to their work.
      await page.goto(`${world.url}/console/#/`);
      await page.getByRole('link', { name: 'Annotation projects' }).waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });
  });
}
