import request from 'supertest';
import { generateSyntheticDataset } from '@trellis/synthetic';
import { eventually, uniqueTitle } from '@trellis/testing';

export type Http = ReturnType<typeof request>;

export interface PublishedSets {
  /** The caption set and the question/answer set over the same images. */
  captionSetId: string;
  vqaSetId: string;
  subjects: { subjectId: string; consentId: string; itemIds: string[] }[];
}

export function ok(res: request.Response, status = 200) {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Synthetic subjects (consenting to training and annotation) with 32-pixel PNG images, ingested,
 * published as a dataset version, annotated by import (a caption project and a question/answer
 * project, one annotation each, the synthetic data set's own texts), and published as two
 * annotation sets: everything a training run needs, through the REST APIs as users drive them.
 */
export async function publishSyntheticSets(
  http: Http,
  steward: string,
  options: {
    seed: number;
    subjects: number;
    itemsPerSubject: number;
    /**
     * Caption the set blind by two annotators (each writes the synthetic caption) and accept every
     * annotation by a reviewer, instead of importing: the set then carries real agreement figures.
     */
    doubleAnnotation?: { annotators: [string, string]; reviewer: string };
  },
): Promise<PublishedSets> {
  const as = { authorization: `Bearer ${steward}` };
  const { doubleAnnotation, ...generate } = options;
  const ds = generateSyntheticDataset({ ...generate, imageSize: 32, imageFormat: 'png', withdrawnFraction: 0 });
  const subjects: PublishedSets['subjects'] = [];
  const byItem = new Map<string, (typeof ds.items)[number]>();
  for (const s of ds.subjects) {
    const { subjectId } = ok(
      await http
        .post('/ingestion/subjects')
        .set(as)
        .send({ externalRef: `${uniqueTitle('trainer')}-${s.subjectRef}` }),
      201,
    );
    const { consentId } = ok(
      await http
        .post(`/ingestion/subjects/${subjectId}/consents`)
        .set(as)
        .send({ decision: 'permit', purposes: ['model-training', 'human-annotation'] }),
      201,
    );
    const itemIds: string[] = [];
    for (const item of ds.items.filter((i) => i.subjectRef === s.subjectRef)) {
      const image = ok(
        await http
          .post('/ingestion/assets')
          .set(as)
          .field('subject', subjectId)
          .field('kind', 'image')
          .attach('file', item.encoded!.bytes, { filename: `${item.itemRef}.png`, contentType: 'image/png' }),
        201,
      );
      itemIds.push(image.assetId);
      byItem.set(image.assetId, item);
    }
    subjects.push({ subjectId, consentId, itemIds });
  }
  const { datasetId } = ok(
    await http
      .post('/ingestion/datasets')
      .set(as)
      .send({ name: uniqueTitle('trainer data') }),
    201,
  );
  ok(
    await http
      .post(`/ingestion/datasets/${datasetId}/assets`)
      .set(as)
      .send({ assetIds: [...byItem.keys()] }),
  );
  const version = ok(await http.post(`/ingestion/datasets/${datasetId}/versions`).set(as).send({}), 201);

  const publish = async (taskType: 'caption' | 'vqa', line: (item: (typeof ds.items)[number]) => object, blind?: typeof doubleAnnotation): Promise<string> => {
    const body = {
      name: uniqueTitle(`trainer ${taskType}`),
      datasetId,
      datasetVersion: version.version,
      taskType,
      guidelines: blind ? 'One sentence.' : 'Imported.',
      annotationsPerItem: blind ? 2 : 1,
      agreementThreshold: blind ? 0.5 : 0,
    };
    const project = await eventually(
      async () => {
        const res = await http.post('/annotation/projects').set(as).send(body);
        if (res.status === 400 && /^UNKNOWN_DATASET/.test(res.body.error)) return undefined;
        return ok(res, 201);
      },
      90_000,
      250,
    );
    await eventually(async () => ok(await http.get(`/annotation/projects/${project.projectId}`).set(as)).tasks.open === byItem.size, 90_000, 250);
    if (blind) await annotateBlind(http, project.projectId, blind, (itemId) => line(byItem.get(itemId)!));
    else {
      const jsonl = [...byItem].map(([id, item]) => JSON.stringify({ id, ...line(item) })).join('\n');
      ok(
        await http
          .post(`/annotation/projects/${project.projectId}/imports?format=jsonl`)
          .set(as)
          .set('content-type', 'application/octet-stream')
          .send(Buffer.from(jsonl)),
        201,
      );
    }
    const set = ok(await http.post(`/annotation/projects/${project.projectId}/sets`).set(as), 201);
    return set.setId;
  };
  const captionSetId = await publish('caption', (item) => ({ caption: item.caption }), doubleAnnotation);
  const vqaSetId = await publish('vqa', (item) => ({ qa: item.qa }));
  return { captionSetId, vqaSetId, subjects };
}

/** Each annotator takes every task blind and answers with `answerOf`; the reviewer accepts every annotation. */
async function annotateBlind(
  http: Http,
  projectId: string,
  who: { annotators: [string, string]; reviewer: string },
  answerOf: (itemId: string) => object,
): Promise<void> {
  for (const annotator of who.annotators) {
    const as = { authorization: `Bearer ${annotator}` };
    for (;;) {
      const { task } = ok(await http.post(`/annotation/projects/${projectId}/tasks/next`).set(as));
      if (!task) break;
      ok(
        await http
          .post(`/annotation/tasks/${task.taskId}/annotation`)
          .set(as)
          .send({ answer: answerOf(task.itemId) }),
      );
    }
  }
  const reviewer = { authorization: `Bearer ${who.reviewer}` };
  const queue = ok(await http.get(`/annotation/projects/${projectId}/review-queue`).set(reviewer));
  for (const q of queue) ok(await http.post(`/annotation/tasks/${q.taskId}/reviews`).set(reviewer).send({ assignmentId: q.assignmentId, verdict: 'accepted' }));
  const tasks = ok(await http.get(`/annotation/projects/${projectId}`).set(reviewer)).tasks;
  if (tasks.open + tasks.adjudication > 0) throw new Error(`blind annotation left items unfinished: ${JSON.stringify(tasks)}`);
}
