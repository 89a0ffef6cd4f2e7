import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Router } from 'express';
import { openApiDocument } from '@cbot-relay/api';

/**
 * swagger-ui-dist's directory. Its documented `getAbsoluteFSPath()` sits in the package's main module,
 * which also loads the 1.7 MB browser bundle into Node (measured: 1.7 s, 13 MB of heap, 42 MB RSS);
 * resolving that same main module without running it gives the same directory for free.
 */
function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist'));
}

/** The only files of the package the page uses; nothing else under it is served. */
const ASSETS = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png']);

const PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>cbot-relay API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <noscript>This page needs JavaScript; the description itself is <a href="/openapi.json">/openapi.json</a>.</noscript>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

// A file, not an inline script, so the page's policy allows scripts from 'self' only. No validatorUrl:
// the page calls no outside service and sends the description nowhere.
const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    validatorUrl: null,
  });
});
`;

/** Everything from this origin, nothing inline, no framing; the JSON API keeps its own `default-src 'none'`. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /openapi.json` (the OpenAPI 3.1 description, built once from the zod schemas at startup) and
 * `GET /docs` (Swagger UI from the swagger-ui-dist package: no CDN). Both unauthenticated: documentation.
 */
export function docsRoutes(): Router {
  const r = Router();
  const spec = JSON.stringify(openApiDocument());
  const dir = swaggerUiDir();

  r.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(spec);
  });
  r.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.type('html').send(PAGE);
  });
  r.get('/docs/assets/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT);
  });
  r.get('/docs/assets/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (!ASSETS.has(file)) {
      next();
      return;
    }
    // The package is pinned, so an hour of caching is safe; sendFile streams (nothing held in memory).
    res.sendFile(file, { root: dir, maxAge: 3_600_000, dotfiles: 'deny' }, (err) => {
      if (err) next(err);
    });
  });
  return r;
}
