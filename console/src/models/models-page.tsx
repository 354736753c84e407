import { useSession } from '../app/session';
import { href } from '../app/router';
import { Loading, Page, Table, When } from '../ui/components';
import { useLoad } from '../ui/use-load';
import { AliasBadges } from './model-parts';
import type { ModelView } from './models.api';

export function ModelsPage() {
  const session = useSession();
  const state = useLoad(() => session.api.get<ModelView[]>('/registry/models?limit=1000'), [session]);
  return (
    <Page title="Registered models">
      <Loading state={state}>
        {(models) => (
          <Table
            caption="Registered models"
            rows={models}
            rowKey={(m) => m.modelId}
            empty="No registered models yet: a completed training run registers its model."
            columns={[
              { header: 'Name', cell: (m) => <a href={href('models', m.name)}>{m.name}</a> },
              { header: 'Latest version', cell: (m) => m.latestVersion ?? '—' },
              { header: 'Aliases', cell: (m) => <AliasBadges model={m.name} aliases={m.aliases} /> },
              { header: 'Description', cell: (m) => m.description ?? <span className="muted">—</span> },
              { header: 'Created', cell: (m) => <When at={m.createdAt} /> },
            ]}
          />
        )}
      </Loading>
    </Page>
  );
}
