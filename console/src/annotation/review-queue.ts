// The review queue comes as one row per submitted answer; reviewers look at an item's answers
// side by side, so the page groups them by task (pure, no DOM).

export interface QueuedItem<E> {
  taskId: string;
  itemId: string;
  entries: E[];
}

/** Groups queue rows by task, in the order the queue first names each task. */
export function groupByTask<E extends { taskId: string; itemId: string }>(rows: E[]): QueuedItem<E>[] {
  const items = new Map<string, QueuedItem<E>>();
  for (const r of rows) {
    const item = items.get(r.taskId) ?? { taskId: r.taskId, itemId: r.itemId, entries: [] };
    item.entries.push(r);
    items.set(r.taskId, item);
  }
  return [...items.values()];
}

/** The item to show: the one asked for while it is still queued, else the first. */
export function currentItem<E>(items: QueuedItem<E>[], wanted: string | undefined): QueuedItem<E> | undefined {
  return items.find((i) => i.taskId === wanted) ?? items[0];
}

/** What a review did to the item, said to the reviewer (the API answers the task's status). */
export function verdictMessage(verdict: 'accepted' | 'rejected', status: string): string {
  const done = verdict === 'accepted' ? 'Accepted.' : 'Rejected; the item goes back to the annotators.';
  switch (status) {
    case 'final':
      return `${done} The item now has its final answer.`;
    case 'adjudication':
      return `${done} The accepted answers disagree: the item went to adjudication.`;
    default:
      return verdict === 'accepted' ? `${done} The item waits for its other annotations.` : done;
  }
}
