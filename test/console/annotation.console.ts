import type { Page } from 'playwright-core';
import { eventually } from '@trellis/testing';
import type { ConsoleWorld } from './console-world';
import { accessibilityProblems, uncaughtErrors } from './console-world';

interface Project {
  projectId: string;
  name: string;
  tasks: Record<'open' | 'adjudication' | 'final' | 'cancelled', number>;
}
interface TaskView {
  taskId: string;
  assignmentId: string;
  status: string;
  answer: { kind: 'caption'; caption: string } | null;
}

const CAPTIONS = ['A small white opacity in the upper left zone.', 'A large opacity in the centre of the field.'];

/** The task the workspace shows now (its id is on the task's element). */
const shownTask = (page: Page) => page.locator('[data-task-id]').getAttribute('data-task-id');

async function nextTaskShown(page: Page, before: string): Promise<string> {
  await eventually(async () => (await shownTask(page).catch(() => null)) !== before && (await shownTask(page).catch(() => null)) !== null, 30_000, 100);
  return (await shownTask(page))!;
}

export function describeAnnotationPages(world: ConsoleWorld): void {
  describe('annotation workspace (projects, annotate, review)', () => {
    let project: Project;
    let datasetVersion: { datasetId: string; version: number };
    /** The tasks the annotator submitted in the browser, in order. */
    const submitted: TaskView[] = [];

    const text = async (person: 'annotator' | 'reviewer', path: string) => {
      const res = await fetch(`${world.url}${path}`, { headers: { authorization: `Bearer ${world.tokens[person]}` } });
      expect(res.status).toBe(200);
      return res.text();
    };
    const taskAsAnnotator = async (taskId: string) => {
      const { status, body } = await world.api<TaskView>('annotator', 'GET', `/annotation/tasks/${taskId}`);
      expect(status).toBe(200);
      return body;
    };

    beforeAll(async () => {
      // A new small project on the demo's dataset version, as the demo makes its own: one
      // annotation per item, so an accepted answer makes the item final.
      const versions = await world.api<{ datasetId: string; name: string; version: number; status: string }[]>(
        'steward',
        'GET',
        '/annotation/dataset-versions',
      );
      const version = versions.body.filter((v) => v.name === 'trellis-demo' && v.status === 'ready').sort((a, b) => b.version - a.version)[0];
      expect(version).toBeDefined();
      datasetVersion = { datasetId: version.datasetId, version: version.version };
      const created = await world.api<Project>('steward', 'POST', '/annotation/projects', {
        name: 'console browser-test captions',
        datasetId: version.datasetId,
        datasetVersion: version.version,
        taskType: 'caption',
        guidelines: 'One sentence: the finding, its size and where it is.',
        annotationsPerItem: 1,
        agreementThreshold: 0.5,
      });
      expect(created.status).toBe(201);
      project = created.body;
      expect(project.tasks.open).toBeGreaterThan(3);
    });

    it('lists the project with its progress, and agreement for those who may see it', async () => {
      const page = await world.open('steward', '#/annotation');
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: project.name }) });
      await row.waitFor();
      expect(await row.getByTestId('progress-label').textContent()).toBe(`0 of ${project.tasks.open} final (0%)`);
      // The demo's own project has agreement to show.
      await page.getByRole('row').filter({ hasText: 'trellis-demo captions' }).getByText("Krippendorff's α").waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      await row.getByRole('link', { name: project.name }).click();
      await page.getByRole('heading', { name: project.name, level: 1 }).waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('lets an annotator pull a task, see its image beside the redacted report, and submit with the keyboard', async () => {
      const page = await world.open('annotator', `#/annotation/${project.projectId}/work`);
      const image = page.getByTestId('task-image');
      await image.waitFor();
      const first = (await shownTask(page))!;
      // The image arrived through the token-carrying fetch and decoded.
      await eventually(async () => (await image.evaluate((img) => (img as { naturalWidth: number }).naturalWidth)) > 0, 10_000, 100);
      // The report shown is the redacted one the API serves for this task.
      const report = await text('annotator', `/annotation/tasks/${first}/report`);
      expect(report).toContain('[NAME]');
      expect((await page.getByTestId('task-report').textContent())?.trim()).toBe(report.trim());
      await world.screenshot(page, 'annotation-workspace');
      expect(await accessibilityProblems(page)).toEqual([]);

      // Zoom and pan: buttons, the keyboard on the focused image, the wheel.
      const zoom = page.getByTestId('zoom-level');
      const fitted = await zoom.textContent();
      await page.getByRole('button', { name: 'Zoom in' }).click();
      expect(await zoom.textContent()).not.toBe(fitted);
      await page.getByRole('group', { name: /^Task image/ }).press('0');
      expect(await zoom.textContent()).toBe(fitted);
      await page.getByRole('group', { name: /^Task image/ }).press('+');
      await page.getByRole('group', { name: /^Task image/ }).press('ArrowLeft');
      await image.hover();
      await page.mouse.wheel(0, -200);
      await eventually(async () => parseInt((await zoom.textContent())!, 10) > parseInt(fitted!, 10) * 1.3, 5_000, 100);

      // The API's refusal (personal data in an answer) is shown as it says it.
      const caption = page.getByRole('textbox', { name: 'Caption', exact: true });
      await caption.fill('Call the patient on 555-123-4567 about it.');
      await caption.press('Control+Enter');
      await page
        .getByRole('alert')
        .getByText(/INVALID_ANSWER.*personal data/)
        .waitFor();
      expect(await shownTask(page)).toBe(first);

      // Ctrl+Enter submits; the next task comes; twice.
      await caption.fill(CAPTIONS[0]);
      await caption.press('Control+Enter');
      const second = await nextTaskShown(page, first);
      await page.getByRole('status').getByText('Submitted. Your next task is here.').waitFor();
      await page.getByRole('textbox', { name: 'Caption', exact: true }).fill(CAPTIONS[1]);
      await page.getByRole('textbox', { name: 'Caption', exact: true }).press('Control+Enter');
      const third = await nextTaskShown(page, second);
      for (const [taskId, written] of [
        [first, CAPTIONS[0]],
        [second, CAPTIONS[1]],
      ]) {
        const view = await taskAsAnnotator(taskId);
        expect(view.status).toBe('submitted');
        expect(view.answer).toEqual({ kind: 'caption', caption: written });
        submitted.push(view);
      }

      // Giving the third back: released, as the API says.
      await page.getByRole('button', { name: 'Release this task' }).click();
      await page
        .getByRole('status')
        .getByText(/^Released/)
        .waitFor();
      expect((await taskAsAnnotator(third)).status).toBe('released');
      await page.getByRole('button', { name: 'Pull the next task' }).waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('lets a reviewer see the blind answers beside the image, accept one and reject one with a reason', async () => {
      expect(submitted).toHaveLength(2);
      const [accept, reject] = submitted;
      const page = await world.open('reviewer', `#/annotation/${project.projectId}/review`);
      await page.getByRole('navigation', { name: 'Queued items' }).waitFor();
      const cardOf = async (s: TaskView) => {
        // Pick the item in the queue whose answer it is.
        const card = page.locator(`[data-assignment-id="${s.assignmentId}"]`);
        for (const item of await page.getByRole('navigation', { name: 'Queued items' }).getByRole('button').all()) {
          if (await card.count()) break;
          await item.click();
        }
        await card.waitFor();
        return card;
      };

      const a = await cardOf(accept);
      expect(await a.textContent()).toContain(CAPTIONS[0]);
      await page.getByTestId('task-image').waitFor();
      await page.getByTestId('task-report').waitFor();
      await world.screenshot(page, 'annotation-review');
      expect(await accessibilityProblems(page)).toEqual([]);
      await a.getByRole('button', { name: 'Accept answer 1' }).click();
      await page.getByRole('status').getByText('Accepted. The item now has its final answer.').waitFor();

      const r = await cardOf(reject);
      expect(await r.textContent()).toContain(CAPTIONS[1]);
      // Without a reason the form says what is missing; with one, the rejection is sent.
      await r.getByRole('button', { name: /^Reject answer/ }).click();
      await r.getByRole('alert').getByText('a rejection needs a reason').waitFor();
      await r.getByLabel(/^Reason for rejecting/).fill('The report puts the finding in the lower left zone.');
      await r.getByLabel(/^Reason for rejecting/).press('Control+Enter');
      await page.getByRole('status').getByText('Rejected; the item goes back to the annotators.').waitFor();

      // Recorded: the annotator's own view of each task says what the reviewer decided.
      expect((await taskAsAnnotator(accept.taskId)).status).toBe('accepted');
      expect((await taskAsAnnotator(reject.taskId)).status).toBe('rejected');
      const queue = await world.api<{ assignmentId: string }[]>('reviewer', 'GET', `/annotation/projects/${project.projectId}/review-queue`);
      expect(queue.body.map((q) => q.assignmentId)).not.toEqual(expect.arrayContaining([accept.assignmentId]));
      await page.getByText('Nothing waits for your review in this project.').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('lets a reviewer adjudicate an item whose accepted answers disagree, choosing one of them', async () => {
      // Arranged through the API: two annotators caption the same item differently, and a
      // reviewer accepts both; below the project's threshold, the item goes to adjudication.
      const created = await world.api<Project>('steward', 'POST', '/annotation/projects', {
        name: 'console browser-test adjudication',
        datasetId: datasetVersion.datasetId,
        datasetVersion: datasetVersion.version,
        taskType: 'caption',
        guidelines: 'One sentence.',
        annotationsPerItem: 2,
        agreementThreshold: 0.99,
      });
      expect(created.status).toBe(201);
      const id = created.body.projectId;
      const pulled: TaskView[] = [];
      for (const [person, caption] of [
        ['annotator', CAPTIONS[0]],
        ['annotatorOnly', CAPTIONS[1]],
      ] as const) {
        const next = await world.api<{ task: TaskView }>(person, 'POST', `/annotation/projects/${id}/tasks/next`);
        expect(next.status).toBe(200);
        pulled.push(next.body.task);
        const sent = await world.api(person, 'POST', `/annotation/tasks/${next.body.task.taskId}/annotation`, { answer: { kind: 'caption', caption } });
        if (sent.status !== 200) throw new Error(`submit as ${person}: ${sent.status} ${JSON.stringify(sent.body)}`);
      }
      // The first item in order is the one both took.
      expect(pulled[1].taskId).toBe(pulled[0].taskId);
      const taskId = pulled[0].taskId;
      expect((await world.api('reviewer', 'GET', `/annotation/projects/${id}/review-queue`)).status).toBe(200);
      for (const p of pulled) {
        const reviewed = await world.api('reviewer', 'POST', `/annotation/tasks/${taskId}/reviews`, { assignmentId: p.assignmentId, verdict: 'accepted' });
        expect(reviewed.status).toBe(200);
      }
      expect((await world.api<Project>('steward', 'GET', `/annotation/projects/${id}`)).body.tasks.adjudication).toBe(1);

      const page = await world.open('reviewer', `#/annotation/${id}/adjudicate`);
      const second = page.getByRole('region', { name: /^Answer \d$/ }).filter({ hasText: CAPTIONS[1] });
      await second.waitFor();
      expect(
        await page
          .getByRole('region', { name: /^Answer \d$/ })
          .filter({ hasText: CAPTIONS[0] })
          .count(),
      ).toBe(1);
      await world.screenshot(page, 'annotation-adjudication');
      expect(await accessibilityProblems(page)).toEqual([]);
      await second.getByRole('button', { name: /^Choose answer \d$/ }).click();
      await page.getByTestId('adjudication-status').getByText('Decided: the item has its final answer.').waitFor();
      const after = (await world.api<Project>('steward', 'GET', `/annotation/projects/${id}`)).body.tasks;
      expect([after.adjudication, after.final]).toEqual([0, 1]);
      // The final answer is the one chosen (the reviewer sees the item's queue empty now).
      await page.getByText('No item waits for adjudication in this project.').waitFor();
      expect(uncaughtErrors(page)).toEqual([]);
    });

    it('lets a reviewer send an item to adjudication before reviewing it, and another decide it from its unreviewed answer', async () => {
      const created = await world.api<Project>('steward', 'POST', '/annotation/projects', {
        name: 'console browser-test sent to adjudication',
        datasetId: datasetVersion.datasetId,
        datasetVersion: datasetVersion.version,
        taskType: 'caption',
        guidelines: 'One sentence.',
        annotationsPerItem: 1,
        agreementThreshold: 0.5,
      });
      expect(created.status).toBe(201);
      const id = created.body.projectId;
      const next = await world.api<{ task: TaskView }>('annotatorOnly', 'POST', `/annotation/projects/${id}/tasks/next`);
      const sent = await world.api('annotatorOnly', 'POST', `/annotation/tasks/${next.body.task.taskId}/annotation`, {
        answer: { kind: 'caption', caption: CAPTIONS[0] },
      });
      expect(sent.status).toBe(200);

      const reviewer = await world.open('reviewer', `#/annotation/${id}/review`);
      await reviewer.getByText(CAPTIONS[0]).waitFor();
      expect(await accessibilityProblems(reviewer)).toEqual([]);
      await reviewer.getByRole('button', { name: 'Send to adjudication' }).click();
      await reviewer.getByTestId('review-status').getByText('Sent to adjudication').waitFor();
      const tasks = (await world.api<Project>('steward', 'GET', `/annotation/projects/${id}`)).body.tasks;
      expect([tasks.open, tasks.adjudication]).toEqual([created.body.tasks.open - 1, 1]);
      // The annotator may not send their own item: the API refuses it (they are not a reviewer either).
      expect((await world.api('annotatorOnly', 'POST', `/annotation/tasks/${next.body.task.taskId}/send-to-adjudication`, {})).status).toBe(403);

      const adjudicator = await world.open('checker', `#/annotation/${id}/adjudicate`);
      const answer = adjudicator.getByRole('region', { name: 'Answer 1' });
      await answer.getByText('(not reviewed)').waitFor();
      await adjudicator.getByText('a reviewer sent this item to adjudication').waitFor();
      await answer.getByRole('button', { name: 'Choose answer 1' }).click();
      await adjudicator.getByTestId('adjudication-status').getByText('Decided: the item has its final answer.').waitFor();
      expect((await world.api<Project>('steward', 'GET', `/annotation/projects/${id}`)).body.tasks.final).toBe(1);
      for (const page of [reviewer, adjudicator]) expect(uncaughtErrors(page)).toEqual([]);
    });

    it('shows the project’s progress, agreement and what consent left out', async () => {
      const { body: now } = await world.api<Project>('steward', 'GET', `/annotation/projects/${project.projectId}`);
      expect(now.tasks.final).toBe(1);
      const active = now.tasks.open + now.tasks.adjudication + now.tasks.final;
      const page = await world.open('steward', `#/annotation/${project.projectId}`);
      await page
        .getByTestId('progress-label')
        .getByText(`1 of ${active} final (${Math.floor(100 / active)}%)`)
        .waitFor();
      expect(await page.getByTestId('task-counts').textContent()).toBe(
        `${now.tasks.open} open · 0 in adjudication · 1 final · ${now.tasks.cancelled} cancelled`,
      );
      // The accepted answer is the one decided item of the agreement report.
      const agreement = page.getByRole('region', { name: 'Agreement now' });
      await agreement.getByText('items decided').waitFor();
      await agreement.getByRole('table', { name: 'Agreement per annotator' }).waitFor();
      expect(await agreement.getByRole('row').count()).toBe(2);
      // Items left out for consent: the version's items that got no task, and cancelled tasks.
      const versions = await world.api<{ datasetId: string; version: number; items: number }[]>('steward', 'GET', '/annotation/dataset-versions');
      const { body: record } = await world.api<{ datasetId: string; datasetVersion: number }>('steward', 'GET', `/annotation/projects/${project.projectId}`);
      const items = versions.body.find((v) => v.datasetId === record.datasetId && v.version === record.datasetVersion)!.items;
      const total = now.tasks.open + now.tasks.adjudication + now.tasks.final + now.tasks.cancelled;
      const consent = page.getByRole('region', { name: 'Items left out for consent' });
      expect(await consent.textContent()).toContain(`in all${items - total + now.tasks.cancelled}`);
      await world.screenshot(page, 'annotation-project');
      expect(await accessibilityProblems(page)).toEqual([]);
      // Each role is offered the work it may do.
      await page.getByRole('link', { name: 'All projects' }).waitFor();
      expect(await page.getByRole('link', { name: 'Annotate' }).count()).toBe(0);
      const annotator = await world.open('annotator', `#/annotation/${project.projectId}`);
      await annotator.getByRole('link', { name: 'Annotate' }).waitFor();
      await annotator.getByText('Agreement is shown to stewards, reviewers and auditors.').waitFor();
      expect(await annotator.getByRole('link', { name: 'Review queue' }).count()).toBe(0);
      expect(uncaughtErrors(page)).toEqual([]);
      expect(uncaughtErrors(annotator)).toEqual([]);
    });

    it('tells a role without access that the page is not theirs, instead of breaking', async () => {
      const annotator = await world.open('annotatorOnly', `#/annotation/${project.projectId}/review`);
      await annotator.getByRole('alert').getByText('Not available to your roles').waitFor();
      expect(await annotator.getByRole('alert').textContent()).toContain('This page needs one of: reviewer');
      // An approver may not list projects (the API refuses it): no nav entry, and a clear message.
      const approver = await world.open('approver', '#/annotation');
      await approver.getByRole('alert').getByText('Not available to your roles').waitFor();
      expect(await approver.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Annotation' }).count()).toBe(0);
      const engineer = await world.open('engineer', `#/annotation/${project.projectId}/work`);
      await engineer.getByRole('alert').getByText('Not available to your roles').waitFor();
      for (const page of [annotator, approver, engineer]) expect(uncaughtErrors(page)).toEqual([]);
    });
  });
}
