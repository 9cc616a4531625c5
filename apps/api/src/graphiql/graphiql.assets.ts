import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

export interface GraphiqlAsset {
  contentType: string;
  /** A file of an installed npm package, or the text itself. */
  file?: string;
  text?: string;
}

/** Where the page lives; its assets are under `${GRAPHIQL_PATH}/assets/`. */
export const GRAPHIQL_PATH = '/graphiql';

/**
 * The page's own script: GraphiQL on /graphql of this origin, with the bearer token from the field at the top
 * (kept in this tab's sessionStorage) unless the headers tab sets an authorization header itself. A new token
 * makes a new fetcher, so GraphiQL introspects again with it. Queries and mutations over HTTP; subscriptions
 * need a graphql-ws client (see docs/api-guide.md).
 */
const PAGE_SCRIPT = `(() => {
  'use strict';
  const field = document.getElementById('token');
  const key = 'snapdeck.graphiql.token';
  field.value = sessionStorage.getItem(key) || '';
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  const fetcherFor = (token) => async (params, options) => {
    const headers = { 'content-type': 'application/json', accept: 'application/json', ...(options && options.headers) };
    const named = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
    if (token && !named) headers.authorization = 'Bearer ' + token;
    const response = await fetch('${'/graphql'}', { method: 'POST', headers, body: JSON.stringify(params) });
    return response.json();
  };
  const render = () => {
    const token = field.value.trim();
    root.render(React.createElement(GraphiQL, { fetcher: fetcherFor(token), key: token, shouldPersistHeaders: false }));
  };
  field.addEventListener('change', () => {
    sessionStorage.setItem(key, field.value.trim());
    render();
  });
  render();
})();
`;

/** Every file the page loads, all from this server: nothing comes from a CDN. */
export const GRAPHIQL_ASSETS: ReadonlyMap<string, GraphiqlAsset> = new Map([
  [
    'react.production.min.js',
    { contentType: 'text/javascript', file: join(packageDir('react'), 'umd/react.production.min.js') },
  ],
  [
    'react-dom.production.min.js',
    { contentType: 'text/javascript', file: join(packageDir('react-dom'), 'umd/react-dom.production.min.js') },
  ],
  ['graphiql.min.js', { contentType: 'text/javascript', file: join(packageDir('graphiql'), 'graphiql.min.js') }],
  ['graphiql.min.css', { contentType: 'text/css', file: join(packageDir('graphiql'), 'graphiql.min.css') }],
  ['snapdeck-graphiql.js', { contentType: 'text/javascript', text: PAGE_SCRIPT }],
]);

const asset = (name: string) => `${GRAPHIQL_PATH}/assets/${name}`;

/** The page: a token field above GraphiQL; scripts and styles from GRAPHIQL_ASSETS only. */
export const GRAPHIQL_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Snapdeck GraphiQL</title>
    <link rel="stylesheet" href="${asset('graphiql.min.css')}" />
    <style>
      body { margin: 0; height: 100vh; display: flex; flex-direction: column; font-family: system-ui, sans-serif; }
      #bar { display: flex; gap: 0.5rem; align-items: center; padding: 0.4rem 0.8rem; border-bottom: 1px solid #ddd; }
      #bar input { flex: 1; max-width: 40rem; font-family: monospace; }
      #graphiql { flex: 1; min-height: 0; }
    </style>
  </head>
  <body>
    <div id="bar">
      <label for="token">Bearer token</label>
      <input id="token" type="password" autocomplete="off" placeholder="sdk_… (npm start prints one; kept in this tab only)" />
      <span>Every query needs one, and so does the schema explorer (introspection) in production.</span>
    </div>
    <div id="graphiql">Loading…</div>
    <script src="${asset('react.production.min.js')}"></script>
    <script src="${asset('react-dom.production.min.js')}"></script>
    <script src="${asset('graphiql.min.js')}"></script>
    <script src="${asset('snapdeck-graphiql.js')}"></script>
  </body>
</html>
`;

/**
 * The browser may load and connect to this origin only: a page that tried a CDN would fail visibly. GraphiQL
 * sets inline styles, hence 'unsafe-inline' for styles (never for scripts); its fonts and icons are data: URLs.
 */
export const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
