import { Badge } from '../ui/components';
import type { RunView } from './runs.api';

const TONE = { requested: 'info', frozen: 'info', running: 'warn', completed: 'ok', failed: 'bad', cancelled: 'bad' } as const;

export function RunStatusBadge({ run }: { run: Pick<RunView, 'status' | 'cancelRequested'> }) {
  return (
    <Badge tone={TONE[run.status]}>
      {run.status}
      {run.cancelRequested && run.status === 'running' ? ' (cancelling)' : ''}
    </Badge>
  );
}
