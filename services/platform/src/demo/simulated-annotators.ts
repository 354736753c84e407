import { createHash } from 'node:crypto';
import { captionOf, COLORS, POSITIONS, SHAPES, SIZES, SyntheticFinding } from '@trellis/synthetic';

/**
 * The demo's people at work. Annotators and the reviewer read the task's redacted report, as a
 * person would, and write what it says, each in their own way: the disagreement the agreement
 * figures and the review queue then show is of the kind real annotation has (style, omissions,
 * a slip of left and right), and which item gets which comes from a hash, so a run is repeatable.
 */

/** How an annotator writes: `careful` as the guidelines ask, `terse` leaves the colour out half the time, `hasty` mixes up left and right one time in four. */
export type AnnotatorStyle = 'careful' | 'terse' | 'hasty';

/** What a report's findings line says, or null when it says none (nothing to caption). */
export function findingOfReport(report: string): Omit<SyntheticFinding, 'label'> | null {
  const m = new RegExp(
    `FINDINGS: A (${SIZES.join('|')}) (${COLORS.join('|')}) \\w+ \\((${SHAPES.join('|')})\\) opacity is seen in the (${POSITIONS.join('|')})`,
  ).exec(report);
  if (!m) return null;
  return {
    size: m[1] as SyntheticFinding['size'],
    color: m[2] as SyntheticFinding['color'],
    shape: m[3] as SyntheticFinding['shape'],
    position: m[4] as SyntheticFinding['position'],
  };
}

/** A number in [0, 1) fixed by the words given: the same task and person always draw the same. */
function draw(...words: string[]): number {
  return createHash('sha256').update(words.join('\u0000')).digest().readUInt32BE(0) / 2 ** 32;
}

const MIRROR: Record<string, SyntheticFinding['position']> = {
  'upper left': 'upper right',
  'upper right': 'upper left',
  'lower left': 'lower right',
  'lower right': 'lower left',
  center: 'center',
};

/** The caption an annotator of that style writes for a task whose report says `finding`. */
export function annotatorCaption(style: AnnotatorStyle, finding: Omit<SyntheticFinding, 'label'>, taskId: string): string {
  const full = { ...finding, label: 'normal' as const };
  if (style === 'terse' && draw(taskId, style) < 0.5) return `A ${finding.size} ${finding.shape} in the ${finding.position}.`;
  if (style === 'hasty' && draw(taskId, style) < 0.25) return captionOf({ ...full, position: MIRROR[finding.position] });
  return captionOf(full);
}

/** A caption that names another position or shape than the report is wrong; style is not. */
export function reviewVerdict(caption: string, finding: Omit<SyntheticFinding, 'label'>): { verdict: 'accepted' } | { verdict: 'rejected'; reason: string } {
  const text = caption.toLowerCase();
  if (!text.includes(finding.position)) return { verdict: 'rejected', reason: 'the position does not match the report' };
  if (!text.includes(finding.shape)) return { verdict: 'rejected', reason: 'the shape does not match the report' };
  return { verdict: 'accepted' };
}

/** In adjudication the reviewer keeps the answer that says most of what the report says (the first of equals). */
export function adjudicate(candidates: { assignmentId: string; caption: string }[], finding: Omit<SyntheticFinding, 'label'>): string {
  const words = [finding.size, finding.color, finding.shape, finding.position];
  const score = (caption: string) => words.filter((w) => caption.toLowerCase().includes(w)).length;
  return candidates.reduce((best, c) => (score(c.caption) > score(best.caption) ? c : best)).assignmentId;
}
