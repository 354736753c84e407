import { createHash } from 'node:crypto';
import { z } from 'zod';
import { Answer, AnswerV1 } from './annotation.contracts';
import { canonicalJson } from './canonical-json';
import { PRINCIPAL_ID_PATTERN } from './principal-id';

/**
 * What the other contexts (trainer, registry) read of a published annotation set's artifact
 * (`trellis.annotation-set.v1`, written by the annotation service, which writes more): one
 * reading, so that both see the same items with the same image and text hashes.
 */
const AnnotationSetArtifactV1 = z.object({
  schema: z.literal('trellis.annotation-set.v1'),
  items: z.array(
    z.object({
      itemId: z.string().uuid(),
      subjectId: z.string().uuid(),
      image: z.string().min(1).max(1024),
      answer: AnswerV1,
      source: z.enum(['agreement', 'adjudication', 'import']),
      agreement: z.number().min(0).max(1).nullable(),
      /** Pseudonymous principal ids of who annotated and who reviewed or adjudicated the item. */
      annotators: z.array(z.string().regex(PRINCIPAL_ID_PATTERN)).default([]),
      reviewers: z.array(z.string().regex(PRINCIPAL_ID_PATTERN)).default([]),
    }),
  ),
});

export interface AnnotationSetArtifactItem {
  itemId: string;
  /** Pseudonymous, lower case. */
  subjectId: string;
  /** The image's storage key; its content address (SHA-256) ends it. */
  image: string;
  imageSha256: string;
  /** SHA-256 of the answer's canonical JSON: the item's text, content addressed. */
  textSha256: string;
  answer: Answer;
  source: 'agreement' | 'adjudication' | 'import';
  agreement: number | null;
  annotators: string[];
  reviewers: string[];
}

/** The content address at the end of a storage key: the image's SHA-256. */
const CONTENT_ADDRESS = /([0-9a-f]{64})$/;

export function answerSha256(answer: Answer): string {
  return createHash('sha256').update(canonicalJson(answer)).digest('hex');
}

/**
 * The artifact's items, or why it cannot be read (a hash other than the published one, not a
 * set document, an image key without a content address); the caller raises its own error.
 */
export function readAnnotationSetArtifact(bytes: Buffer, publishedSha256: string): { items: AnnotationSetArtifactItem[] } | { problem: string } {
  if (createHash('sha256').update(bytes).digest('hex') !== publishedSha256) return { problem: 'the stored artifact does not match its published SHA-256' };
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { problem: 'the artifact is not JSON' };
  }
  const parsed = AnnotationSetArtifactV1.safeParse(json);
  if (!parsed.success) return { problem: 'the artifact is not a trellis.annotation-set.v1 document' };
  const items: AnnotationSetArtifactItem[] = [];
  for (const i of parsed.data.items) {
    const image = CONTENT_ADDRESS.exec(i.image);
    if (!image) return { problem: `item ${i.itemId} has an image key without a content address` };
    items.push({ ...i, subjectId: i.subjectId.toLowerCase(), imageSha256: image[1], textSha256: answerSha256(i.answer) });
  }
  return { items };
}

/** What a set's items say of its annotation (model cards, the lineage graph): mean item agreement, and how many items were final without and after adjudication. */
export interface SetAgreementSummary {
  meanItemAgreement: number | null;
  acceptedWithoutAdjudication: number;
  adjudicated: number;
}

export function agreementSummary(items: { source: string; agreement: number | null }[]): SetAgreementSummary {
  const rated = items.map((i) => i.agreement).filter((a): a is number => a !== null);
  return {
    meanItemAgreement: rated.length > 0 ? rated.reduce((s, a) => s + a, 0) / rated.length : null,
    acceptedWithoutAdjudication: items.filter((i) => i.source === 'agreement').length,
    adjudicated: items.filter((i) => i.source === 'adjudication').length,
  };
}
