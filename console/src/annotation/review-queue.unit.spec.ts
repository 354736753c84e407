import { currentItem, groupByTask, verdictMessage } from './review-queue';

describe('review queue', () => {
  const rows = [
    { taskId: 't1', itemId: 'i1', assignmentId: 'a' },
    { taskId: 't2', itemId: 'i2', assignmentId: 'b' },
    { taskId: 't1', itemId: 'i1', assignmentId: 'c' },
  ];

  it('groups the answers of one item together, items in queue order', () => {
    const items = groupByTask(rows);
    expect(items.map((i) => [i.taskId, i.entries.map((e) => e.assignmentId)])).toEqual([
      ['t1', ['a', 'c']],
      ['t2', ['b']],
    ]);
    expect(groupByTask([])).toEqual([]);
  });

  it('shows the wanted item while it is queued, else the first', () => {
    const items = groupByTask(rows);
    expect(currentItem(items, 't2')?.taskId).toBe('t2');
    expect(currentItem(items, 'gone')?.taskId).toBe('t1');
    expect(currentItem([], 't1')).toBeUndefined();
  });

  it('says what a verdict did to the item', () => {
    expect(verdictMessage('accepted', 'final')).toBe('Accepted. The item now has its final answer.');
    expect(verdictMessage('accepted', 'adjudication')).toContain('went to adjudication');
    expect(verdictMessage('accepted', 'open')).toBe('Accepted. The item waits for its other annotations.');
    expect(verdictMessage('rejected', 'open')).toBe('Rejected; the item goes back to the annotators.');
  });
});
