import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatLoss, summarize, type LossPoint } from './loss-series';

/**
 * The loss curve, and for those who do not see it, its summary (first, last and lowest loss)
 * and, on demand, every point as a table.
 */
export function LossChart({ series, complete }: { series: LossPoint[]; complete: boolean }) {
  const summary = summarize(series);
  if (!summary) return <p className="muted">No progress reported yet.</p>;
  const heldOut = series.some((p) => p.heldOutLoss !== null);
  const described = `Loss curve over ${summary.points} reported steps: from ${formatLoss(summary.first.loss)} at step ${summary.first.step} to ${formatLoss(
    summary.last.loss,
  )} at step ${summary.last.step}, lowest ${formatLoss(summary.min.loss)} at step ${summary.min.step}.`;
  return (
    <figure className="loss-chart" data-testid="loss-chart">
      <div role="img" aria-label={described} style={{ width: '100%', height: 280 }}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={series} margin={{ top: 8, right: 24, bottom: 16, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} label={{ value: 'step', position: 'insideBottom', offset: -8 }} />
            <YAxis domain={['auto', 'auto']} tickFormatter={(v: number) => v.toFixed(2)} />
            <Tooltip formatter={(v) => (typeof v === 'number' ? formatLoss(v) : String(v))} />
            <Legend verticalAlign="top" />
            <Line type="monotone" dataKey="loss" name="training loss" stroke="#2563eb" dot={false} isAnimationActive={false} />
            {heldOut ? <Line type="monotone" dataKey="heldOutLoss" name="held-out loss" stroke="#d97706" dot connectNulls isAnimationActive={false} /> : null}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <figcaption>
        <dl className="kv" data-testid="loss-summary">
          <div className="kv-row">
            <dt>First loss</dt>
            <dd data-testid="loss-first">
              {formatLoss(summary.first.loss)} (step {summary.first.step})
            </dd>
          </div>
          <div className="kv-row">
            <dt>{complete ? 'Last loss' : 'Latest loss'}</dt>
            <dd data-testid="loss-last">
              {formatLoss(summary.last.loss)} (step {summary.last.step})
            </dd>
          </div>
          <div className="kv-row">
            <dt>Lowest loss</dt>
            <dd data-testid="loss-min">
              {formatLoss(summary.min.loss)} (step {summary.min.step})
            </dd>
          </div>
          {summary.minHeldOut ? (
            <div className="kv-row">
              <dt>Lowest held-out loss</dt>
              <dd>
                {formatLoss(summary.minHeldOut.heldOutLoss)} (step {summary.minHeldOut.step})
              </dd>
            </div>
          ) : null}
          <div className="kv-row">
            <dt>Points</dt>
            <dd data-testid="loss-points">{summary.points}</dd>
          </div>
        </dl>
        <details>
          <summary>Every point as a table</summary>
          <table className="table">
            <caption>Loss by step</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Training loss</th>
                <th scope="col">Held-out loss</th>
              </tr>
            </thead>
            <tbody>
              {series.map((p) => (
                <tr key={p.step}>
                  <td>{p.step}</td>
                  <td>{formatLoss(p.loss)}</td>
                  <td>{formatLoss(p.heldOutLoss)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}
