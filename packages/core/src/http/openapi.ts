import { readFileSync } from 'node:fs';

let document: string | undefined;

/**
 * The bridge's OpenAPI document (`openapi.json` beside this module: the source in src/http, copied into
 * dist/http by the build), as served at `GET /openapi.json`. Read on first use, then kept.
 */
export function openApiDocument(): string {
  document ??= readFileSync(new URL('./openapi.json', import.meta.url), 'utf8');
  return document;
}
