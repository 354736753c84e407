import { generateSyntheticDataset } from '@trellis/synthetic';
import { adjudicate, annotatorCaption, findingOfReport, reviewVerdict } from './simulated-annotators';

describe("the demo's simulated annotators", () => {
  const { items } = generateSyntheticDataset({ seed: 7, subjects: 10, itemsPerSubject: 3 });

  it('read the finding of every synthetic report back as it was generated', () => {
    for (const item of items) {
      const { label: _label, ...finding } = item.finding;
      expect(findingOfReport(item.report)).toEqual(finding);
    }
  });

  it('read nothing from a report without a findings line', () => {
    expect(findingOfReport('RADIOLOGY REPORT\nIMPRESSION: normal.')).toBeNull();
  });

  it('write the caption the guidelines ask for when careful, and disagree in their own ways otherwise', () => {
    const finding = { size: 'small', color: 'red', shape: 'circle', position: 'upper left' } as const;
    const tasks = Array.from({ length: 200 }, (_, i) => `task-${i}`);
    expect(new Set(tasks.map((t) => annotatorCaption('careful', finding, t)))).toEqual(new Set(['A small red circle in the upper left.']));
    const terse = tasks.map((t) => annotatorCaption('terse', finding, t));
    const withoutColour = terse.filter((c) => c === 'A small circle in the upper left.').length;
    expect(withoutColour).toBeGreaterThan(60);
    expect(withoutColour).toBeLessThan(140);
    const hasty = tasks.map((t) => annotatorCaption('hasty', finding, t));
    const mirrored = hasty.filter((c) => c === 'A small red circle in the upper right.').length;
    expect(mirrored).toBeGreaterThan(25);
    expect(mirrored).toBeLessThan(75);
    // The same task and style always give the same caption: a demo run is repeatable.
    expect(tasks.map((t) => annotatorCaption('hasty', finding, t))).toEqual(hasty);
  });

  it('have the reviewer reject a wrong position or shape and accept a caption that only leaves something out', () => {
    const finding = { size: 'large', color: 'blue', shape: 'triangle', position: 'lower right' } as const;
    expect(reviewVerdict('A large blue triangle in the lower right.', finding)).toEqual({ verdict: 'accepted' });
    expect(reviewVerdict('A large triangle in the lower right.', finding)).toEqual({ verdict: 'accepted' });
    expect(reviewVerdict('A large blue triangle in the lower left.', finding)).toEqual({
      verdict: 'rejected',
      reason: 'the position does not match the report',
    });
    expect(reviewVerdict('A large blue square in the lower right.', finding)).toEqual({ verdict: 'rejected', reason: 'the shape does not match the report' });
  });

  it('have the reviewer adjudicate for the caption that says most of the report, the first of equals', () => {
    const finding = { size: 'small', color: 'green', shape: 'square', position: 'center' } as const;
    expect(
      adjudicate(
        [
          { assignmentId: 'a', caption: 'A small square in the center.' },
          { assignmentId: 'b', caption: 'A small green square in the center.' },
        ],
        finding,
      ),
    ).toBe('b');
    expect(
      adjudicate(
        [
          { assignmentId: 'a', caption: 'A small square in the center.' },
          { assignmentId: 'b', caption: 'A small square in the center.' },
        ],
        finding,
      ),
    ).toBe('a');
  });
});
