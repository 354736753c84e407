import { dirname, join } from 'node:path';

/**
 * What the GraphiQL page loads, each file from an installed npm package, so that the page works
 * offline and loads nothing from a CDN. graphiql 3.x is the last line with a browser build that
 * needs no bundler or import map (`graphiql.min.js`, a UMD bundle that expects the React and
 * ReactDOM globals, and `graphiql.min.css` with its fonts inlined); React 18 is the last React
 * with UMD builds. Versions are pinned in package.json.
 */
export interface GraphiqlAsset {
  package: string;
  /** Path inside the package. */
  file: string;
  contentType: string;
}

export const GRAPHIQL_ASSETS: Record<string, GraphiqlAsset> = {
  'react.production.min.js': { package: 'react', file: 'umd/react.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  'react-dom.production.min.js': { package: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: 'text/javascript; charset=utf-8' },
  'graphiql.min.js': { package: 'graphiql', file: 'graphiql.min.js', contentType: 'text/javascript; charset=utf-8' },
  'graphiql.min.css': { package: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
};

/** Where an asset is on disk: resolved through the package's own package.json, as Node finds it. */
export function graphiqlAssetPath(asset: GraphiqlAsset): string {
  return join(dirname(require.resolve(`${asset.package}/package.json`)), asset.file);
}

/**
 * Starts GraphiQL on /graphql. A file of its own rather than inline, since the platform's CSP
 * allows scripts from this origin only. Headers typed into the editor are not stored in the
 * browser (shouldPersistHeaders: false): they hold the caller's API token.
 */
export const GRAPHIQL_BOOT_SCRIPT = `(function () {
  'use strict';
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: 'headers',
      defaultHeaders: '{\\n  "Authorization": "Bearer trl_..."\\n}',
      shouldPersistHeaders: false,
    }),
  );
})();
`;

export function graphiqlPage(base: string): string {
  const asset = (name: string) => `${base}/assets/${name}`;
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Trellis GraphQL</title>
    <link rel="stylesheet" href="${asset('graphiql.min.css')}" />
    <style>
      body { margin: 0; height: 100vh; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL...</div>
    <script src="${asset('react.production.min.js')}"></script>
    <script src="${asset('react-dom.production.min.js')}"></script>
    <script src="${asset('graphiql.min.js')}"></script>
    <script src="${asset('graphiql-boot.js')}"></script>
  </body>
</html>
`;
}
