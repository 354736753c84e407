import type { ConsoleWorld } from './console-world';
import { accessibilityProblems, uncaughtErrors } from './console-world';
import { eventually } from '@trellis/testing';

interface Model {
  modelId: string;
  name: string;
  aliases: Record<string, number>;
}
interface Version {
  modelVersionId: string;
  modelName: string;
  version: number;
  aliases: string[];
  source: { runId?: string };
  flag: { subjects: number } | null;
}
interface Run {
  runId: string;
  status: string;
  step: number;
  backend: string | null;
  lastProgress: { step: number; loss: number } | null;
  outcome: { finalTrainLoss?: number } | null;
}
interface Evaluation {
  modelVersionId: string;
  status: string;
  annotationSet: { setId: string };
  metrics: Record<string, number | null> | null;
}
interface RequestedRun {
  status: string;
  request: { modelName: string | null; baseModel: { baseModelId: string }; annotationSets: { setId: string }[]; hyperparameters: { steps: number | null } };
}
interface Trail {
  auditTrail: { edges: { node: { data: string } }[] };
}
interface AliasMoves {
  aliasHistory: { moves: { alias: string; kind: string; version: number | null; reason: string }[] };
}

const loss = (x: number) => x.toFixed(4);

export function describeModelPages(world: ConsoleWorld): void {
  describe('training runs and models', () => {
    /** The champion the demo promoted, as the registry's REST API gives it. */
    const champion = async () => {
      const { body: models } = await world.api<Model[]>('checker', 'GET', '/registry/models?limit=1000');
      for (const m of models) {
        const { body: versions } = await world.api<Version[]>('checker', 'GET', `/registry/models/${m.name}/versions`);
        const v = versions.find((x) => x.modelVersionId === world.modelVersionId);
        if (v) return { model: m, version: v, versions };
      }
      throw new Error(`no version ${world.modelVersionId} in the registry`);
    };

    it('requests a run from the form, follows it live, and cancels it', async () => {
      const { version } = await champion();
      const { body: demo } = await world.api<RequestedRun>('checker', 'GET', `/training/runs/${version.source.runId!}`);
      const page = await world.open('engineer', '#/runs/new');
      await page.getByLabel('Base model').selectOption(demo.request.baseModel.baseModelId);
      await page.getByLabel(/^Annotation sets/).fill(demo.request.annotationSets.map((s) => s.setId).join(','));
      // Long enough to be running when the cancel arrives.
      await page.getByLabel('Steps').fill('5000');
      await page.getByLabel('Model name (optional)').fill('console-requested');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.getByRole('button', { name: 'Request run' }).click();
      await page.getByRole('heading', { name: /^Training run / }).waitFor();
      const runId = /#\/runs\/([0-9a-f-]{36})/.exec(page.url())![1];
      const { body: requested } = await world.api<RequestedRun>('engineer', 'GET', `/training/runs/${runId}`);
      expect(requested.request).toMatchObject({
        modelName: 'console-requested',
        baseModel: { baseModelId: demo.request.baseModel.baseModelId },
        annotationSets: demo.request.annotationSets.map((s) => expect.objectContaining({ setId: s.setId })),
        hyperparameters: expect.objectContaining({ steps: 5000 }),
      });
      // The page follows the run as it starts.
      await page.getByTestId('run-status').getByText('running').waitFor({ timeout: 120_000 });
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Cancel run' }).click();
      await page.getByTestId('run-status').getByText('cancelled').waitFor({ timeout: 120_000 });
      expect((await world.api<RequestedRun>('engineer', 'GET', `/training/runs/${runId}`)).body.status).toBe('cancelled');
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it("draws the demo run's loss curve with its numbers, backend, snapshot and artifacts", async () => {
      const { version } = await champion();
      const runId = version.source.runId!;
      const { body: run } = await world.api<Run>('checker', 'GET', `/training/runs/${runId}`);
      expect(run.status).toBe('completed');
      // As the engineer: the whole curve is theirs to see too (GET /training/runs/:id/progress).
      const page = await world.open('engineer', `#/runs/${runId}`);
      const chart = page.getByTestId('loss-chart');
      await chart.locator('svg path.recharts-curve').first().waitFor();
      expect(await chart.locator('svg path.recharts-curve').first().getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+/);
      // The summary against the API: the last point is the run's last progress and final loss.
      await page
        .getByTestId('loss-last')
        .getByText(`${loss(run.lastProgress!.loss)} (step ${run.lastProgress!.step})`)
        .waitFor();
      expect(await page.getByTestId('final-train-loss').textContent()).toBe(loss(run.outcome!.finalTrainLoss!));
      // First and lowest against every progress report in the audit trail (read as the auditor).
      const { auditTrail } = await world.graphql<Trail>(
        'auditor',
        `query ($s: String!) { auditTrail(stream: $s, type: "TrainingProgressed", first: 1000) { edges { node { data } } } }`,
        { s: `training-run-${runId}` },
      );
      const points = auditTrail.edges.map((e) => JSON.parse(e.node.data) as { step: number; loss: number }).sort((a, b) => a.step - b.step);
      const min = points.reduce((a, b) => (b.loss < a.loss ? b : a));
      expect(await page.getByTestId('loss-first').textContent()).toBe(`${loss(points[0].loss)} (step ${points[0].step})`);
      expect(await page.getByTestId('loss-min').textContent()).toBe(`${loss(min.loss)} (step ${min.step})`);
      expect(await page.getByTestId('loss-points').textContent()).toBe(String(points.length));
      // The chart's text alternative says the same.
      expect(await chart.getByRole('img', { name: /^Loss curve/ }).getAttribute('aria-label')).toContain(
        `to ${loss(run.lastProgress!.loss)} at step ${run.lastProgress!.step}`,
      );
      expect(await page.getByTestId('run-status').textContent()).toContain('completed');
      await page.getByText(run.backend!, { exact: true }).first().waitFor();
      await page.getByRole('heading', { name: 'Snapshot' }).waitFor();
      await page.getByRole('cell', { name: 'adapter_model.safetensors' }).waitFor();
      await world.screenshot(page, 'run-loss-curve');
      expect(await accessibilityProblems(page)).toEqual([]);
      // The runs list links to it.
      await page.goto(`${world.url}/console/#/runs`);
      await page.getByRole('link', { name: `Run ${runId}` }).waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it("renders the champion's model card with its name, version, aliases and metrics", async () => {
      const { model, version } = await champion();
      const { body: evaluations } = await world.api<Evaluation[]>('checker', 'GET', `/registry/evaluations?model=${model.name}&version=${version.version}`);
      const evaluated = evaluations.find((e) => e.status === 'completed')!;
      const page = await world.open('auditor', `#/models/${model.name}/versions/${version.version}`);
      const card = page.getByTestId('model-card');
      await card.getByRole('heading', { name: `Model card: ${model.name} version ${version.version}` }).waitFor();
      expect(await page.getByTestId('version-number').textContent()).toBe(String(version.version));
      expect(await page.getByTestId('version-aliases').textContent()).toBe(version.aliases.join(', '));
      expect(version.aliases).toContain('champion');
      // The card's own metrics table and the evaluations table show the API's numbers.
      await card
        .getByRole('cell', { name: loss(evaluated.metrics!.bleu!) })
        .first()
        .waitFor();
      await page
        .getByRole('table', { name: 'Evaluations of this version, newest first' })
        .getByRole('cell', { name: loss(evaluated.metrics!.perplexity!) })
        .waitFor();
      // Rendered as elements: nothing of the card became markup.
      expect(await card.locator('script, iframe, img').count()).toBe(0);
      await world.screenshot(page, 'model-card');
      expect(await accessibilityProblems(page)).toEqual([]);
      // The model page: versions, aliases, metrics side by side, promotions and alias history.
      await page.goto(`${world.url}/console/#/models/${model.name}`);
      await page
        .getByTestId('model-aliases')
        .getByRole('link', { name: `alias champion: version ${model.aliases.champion}` })
        .waitFor();
      const metrics = page.getByTestId('metrics-table').first();
      await metrics.locator(`tr[data-metric="bleu"] td[data-version="${version.version}"]`).getByText(loss(evaluated.metrics!.bleu!)).waitFor();
      await page.getByRole('table', { name: 'Every move of the aliases, oldest first' }).getByText('champion').first().waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('asks for a promotion in the form, refuses self-approval, and moves the alias when an approver approves', async () => {
      const { model, version } = await champion();
      // A version the gates can pass: the demo's consent withdrawal flagged the champion, so the
      // engineer retrains it without the withdrawn subject, fills its card and evaluates it.
      let candidate = version;
      if (version.flag) {
        const retrain = await world.api('engineer', 'POST', `/registry/models/${model.name}/versions/${version.version}/retrain`);
        expect(retrain.status).toBe(200);
        candidate = await eventually(
          async () => {
            const { body } = await world.api<Version[]>('checker', 'GET', `/registry/models/${model.name}/versions`);
            const v = body.find((x) => x.version > version.version && !x.flag);
            if (!v) throw new Error('no retrained version yet');
            return v;
          },
          240_000,
          1000,
        );
        const card = await world.api('engineer', 'PUT', `/registry/models/${model.name}/versions/${candidate.version}/card`, {
          intendedUse: 'Draft captions of synthetic findings, for trying Trellis',
          caveats: 'A tiny model trained on generated data; not for any clinical use',
          license: 'apache-2.0',
        });
        expect(card.status).toBe(200);
        const { body: evals } = await world.api<Evaluation[]>('checker', 'GET', `/registry/evaluations?model=${model.name}&version=${version.version}`);
        const started = await world.api('engineer', 'POST', '/registry/evaluations', {
          model: model.name,
          version: candidate.version,
          annotationSet: { setId: evals[0].annotationSet.setId },
        });
        expect(started.status).toBe(201);
        await eventually(
          async () => {
            const { body } = await world.api<Evaluation[]>('checker', 'GET', `/registry/evaluations?model=${model.name}&version=${candidate.version}`);
            return body.some((e) => e.status === 'completed');
          },
          240_000,
          1000,
        );
      }

      // The engineer asks in the form; a flagged version is refused by the gates, clearly.
      const engineer = await world.open('engineer', `#/models/${model.name}`);
      const form = engineer.getByRole('form', { name: 'Request promotion' });
      if (version.flag) {
        await form.getByLabel('Version').selectOption(String(version.version));
        await form.getByLabel('Alias').fill('staging');
        await form.getByLabel('Reason').fill('try the flagged one');
        await form.getByRole('button', { name: 'Request promotion' }).click();
        await engineer.getByTestId('promotion-result').getByText('Refused by the gates: consent (flagged:').waitFor();
      }
      await form.getByLabel('Version').selectOption(String(candidate.version));
      await form.getByLabel('Alias').fill('staging');
      await form.getByLabel('Reason').fill('retrained without the withdrawn subject; evaluated on the same set');
      expect(await accessibilityProblems(engineer)).toEqual([]);
      await form.getByRole('button', { name: 'Request promotion' }).click();
      await engineer.getByTestId('promotion-result').getByText(`promotion of version ${candidate.version} to staging waits for an approver`).waitFor();
      const pending = (p: typeof engineer, alias: string) => p.locator(`li[aria-label="Promotion of version ${candidate.version} to ${alias}, pending"]`);
      await pending(engineer, 'staging').getByText('Waiting for a person with the approver role.').waitFor();
      expect(uncaughtErrors(engineer)).toEqual([]);

      // Someone who is both engineer and approver may not approve their own request: the API says so, and the page shows it.
      const both = await world.open('checker', `#/models/${model.name}`);
      const bothForm = both.getByRole('form', { name: 'Request promotion' });
      await bothForm.getByLabel('Version').selectOption(String(candidate.version));
      await bothForm.getByLabel('Alias').fill('candidate');
      await bothForm.getByLabel('Reason').fill('a second alias to try');
      await bothForm.getByRole('button', { name: 'Request promotion' }).click();
      const own = pending(both, 'candidate');
      await own.getByLabel('Comment').fill('looks good to me');
      await own.getByRole('button', { name: 'Approve' }).click();
      await own.getByRole('alert').getByText('the requester of a promotion cannot approve it; a second person must').waitFor();
      expect(await own.getByRole('alert').textContent()).toContain('Refused (approver not independent)');
      expect(uncaughtErrors(both)).toEqual([]);

      // The approver approves the engineer's request with a comment, and rejects the other.
      const approver = await world.open('approver', `#/models/${model.name}`);
      const comment = 'gates passed; predictions read in the console';
      const staging = pending(approver, 'staging');
      await staging.getByLabel('Comment').fill(comment);
      await staging.getByRole('button', { name: 'Approve' }).click();
      await approver.locator(`li[aria-label="Promotion of version ${candidate.version} to staging, approved"]`).getByText(comment, { exact: false }).waitFor();
      const other = pending(approver, 'candidate');
      await other.getByLabel('Comment').fill('one alias is enough for now');
      await other.getByRole('button', { name: 'Reject' }).click();
      await approver.locator(`li[aria-label="Promotion of version ${candidate.version} to candidate, rejected"]`).waitFor();
      await approver
        .getByTestId('model-aliases')
        .getByRole('link', { name: `alias staging: version ${candidate.version}` })
        .waitFor();
      expect(uncaughtErrors(approver)).toEqual([]);

      // The alias moved, as REST and GraphQL tell it.
      const { body: after } = await world.api<Model>('checker', 'GET', `/registry/models/${model.name}`);
      expect(after.aliases.staging).toBe(candidate.version);
      expect(after.aliases.candidate).toBeUndefined();
      // The alias history is the lineage graph's, which follows the registry's log a moment later.
      const moves = await eventually(
        async () => {
          const { aliasHistory } = await world.graphql<AliasMoves>(
            'auditor',
            `query ($m: String!) { aliasHistory(model: $m, alias: "staging") { moves { alias kind version reason } } }`,
            { m: model.name },
          );
          return aliasHistory.moves.length ? aliasHistory.moves : undefined;
        },
        30_000,
        250,
      );
      expect(moves.at(-1)).toEqual({ alias: 'staging', kind: 'promotion', version: candidate.version, reason: comment });
    }, 420_000);

    it('tells a role without access that runs and models are not theirs', async () => {
      const page = await world.open('annotatorOnly', '#/models');
      await page.getByRole('alert').getByText('Not available to your roles').waitFor();
      await page.goto(`${world.url}/console/#/runs`);
      await page.getByRole('alert').getByText('Not available to your roles').waitFor();
      expect(await page.getByRole('link', { name: 'Models' }).count()).toBe(0);
      expect(uncaughtErrors(page)).toEqual([]);
    });
  });
}
