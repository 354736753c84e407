import type { QueuedItem } from './review-queue';

/** The queued items as buttons; the current one pressed. `what` is singular ("answer"). */
export function QueueNav<E>({ items, current, onPick, what }: { items: QueuedItem<E>[]; current: string; onPick(taskId: string): void; what: string }) {
  return (
    <nav aria-label="Queued items" className="ann-queue">
      <span className="muted">{items.length} item(s) waiting:</span>
      {items.map((item, i) => (
        <button key={item.taskId} type="button" aria-pressed={item.taskId === current} onClick={() => onPick(item.taskId)}>
          Item {i + 1} ({item.entries.length} {item.entries.length === 1 ? what : `${what}s`})
        </button>
      ))}
    </nav>
  );
}
