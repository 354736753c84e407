import { useState, type FormEvent } from 'react';
import { useSession } from '../app/session';
import { href, navigate } from '../app/router';
import { ErrorNote, Loading, Page } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { EMPTY_FORM, toRunRequest, type RunRequestForm } from './run-request-form';
import { TRAINING_METHODS, type BaseModelView, type RunView } from './runs.api';

export function RunRequestPage() {
  const session = useSession();
  const bases = useLoad(() => session.api.get<BaseModelView[]>('/training/base-models'), [session]);
  // The sets earlier runs trained on, offered as suggestions.
  const runs = useLoad(() => session.api.get<RunView[]>('/training/runs?limit=50'), [session]);
  const [form, setForm] = useState<RunRequestForm>(EMPTY_FORM);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const knownSets = [...new Set((runs.data ?? []).flatMap((r) => r.request.annotationSets.map((s) => s.setId)))];
  const set = (name: keyof RunRequestForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [name]: e.target.value }));
  const describedBy = (name: string) => (problems[name] ? `${name}-problem` : undefined);
  const problem = (name: string) =>
    problems[name] ? (
      <span id={`${name}-problem`} className="field-problem" role="alert">
        {problems[name]}
      </span>
    ) : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { body, problems: found } = toRunRequest(form);
    setProblems(found);
    if (!body) return;
    setBusy(true);
    try {
      const run = await session.api.post<RunView>('/training/runs', body);
      navigate(href('runs', run.runId));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title="Request a training run">
      <Loading state={bases}>
        {(models) => (
          <form onSubmit={submit} aria-label="Request a training run" className="form">
            <label htmlFor="run-base">Base model</label>
            <select id="run-base" value={form.baseModelId} onChange={set('baseModelId')} aria-describedby={describedBy('baseModelId')} required>
              <option value="">choose…</option>
              {models.map((m) => (
                <option key={m.baseModelId} value={m.baseModelId}>
                  {m.preset ?? 'custom'} · {m.baseModelId}
                </option>
              ))}
            </select>
            {problem('baseModelId')}
            <label htmlFor="run-method">Method</label>
            <select id="run-method" value={form.method} onChange={set('method')}>
              {TRAINING_METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
            {form.method === 'distill' ? (
              <>
                <label htmlFor="run-teacher">Teacher model</label>
                <select id="run-teacher" value={form.teacherModelId} onChange={set('teacherModelId')} aria-describedby={describedBy('teacherModelId')}>
                  <option value="">choose…</option>
                  {models.map((m) => (
                    <option key={m.baseModelId} value={m.baseModelId}>
                      {m.preset ?? 'custom'} · {m.baseModelId}
                    </option>
                  ))}
                </select>
                {problem('teacherModelId')}
              </>
            ) : null}
            <label htmlFor="run-sets">Annotation sets (set ids, or project id@version; separated by commas)</label>
            <input
              id="run-sets"
              list="run-known-sets"
              value={form.annotationSets}
              onChange={set('annotationSets')}
              aria-describedby={describedBy('annotationSets')}
            />
            <datalist id="run-known-sets">
              {knownSets.map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
            {problem('annotationSets')}
            <label htmlFor="run-heldout">Held-out fraction</label>
            <input
              id="run-heldout"
              inputMode="decimal"
              value={form.heldOutFraction}
              onChange={set('heldOutFraction')}
              aria-describedby={describedBy('heldOutFraction')}
            />
            {problem('heldOutFraction')}
            <label htmlFor="run-model-name">Model name (optional)</label>
            <input id="run-model-name" value={form.modelName} onChange={set('modelName')} placeholder="<base preset>-<method>" />
            <label htmlFor="run-steps">Steps</label>
            <input id="run-steps" inputMode="numeric" value={form.steps} onChange={set('steps')} aria-describedby={describedBy('steps')} />
            {problem('steps')}
            <label htmlFor="run-lr">Learning rate (optional)</label>
            <input id="run-lr" inputMode="decimal" value={form.learningRate} onChange={set('learningRate')} aria-describedby={describedBy('learningRate')} />
            {problem('learningRate')}
            <label htmlFor="run-seed">Seed</label>
            <input id="run-seed" inputMode="numeric" value={form.seed} onChange={set('seed')} aria-describedby={describedBy('seed')} />
            {problem('seed')}
            <button type="submit" disabled={busy}>
              Request run
            </button>
          </form>
        )}
      </Loading>
      {error ? <ErrorNote error={error} /> : null}
    </Page>
  );
}
