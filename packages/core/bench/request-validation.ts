import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compileRequestValidators, OPENAPI_PATH, REQUEST_SCHEMAS } from '../scripts/request-validators.js';

/**
 * What request validation costs a starting server: loading the validators compiled at build time (what the bridge
 * does) against an empty module and compiling the OpenAPI document with ajv at start (what it does not). Each is measured in a fresh
 * Node process (--expose-gc), the median of RUNS: the time to have both validators ready and the RSS and heap it adds.
 * `pnpm --filter @dcr-bridge/core bench:validation`
 */
const RUNS = 7;
const packageDir = fileURLToPath(new URL('..', import.meta.url));

function measure(body: string): { ms: number; rssMb: number; heapMb: number } {
  const samples = Array.from({ length: RUNS }, () => {
    const script = `const gc = globalThis.gc; gc(); const before = process.memoryUsage(); const started = performance.now();
${body}
const ms = performance.now() - started; gc(); const after = process.memoryUsage();
console.log(JSON.stringify({ ms, rssMb: (after.rss - before.rss) / 2 ** 20, heapMb: (after.heapUsed - before.heapUsed) / 2 ** 20 }));`;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: packageDir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    return JSON.parse(run.stdout) as { ms: number; rssMb: number; heapMb: number };
  });
  const median = (pick: (sample: (typeof samples)[number]) => number) => samples.map(pick).sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
  return { ms: median((s) => s.ms), rssMb: median((s) => s.rssMb), heapMb: median((s) => s.heapMb) };
}

const directory = mkdtempSync(join(tmpdir(), 'dcr-bridge-validation-'));
try {
  const generated = join(directory, 'request-validators.mjs');
  writeFileSync(generated, await compileRequestValidators(readFileSync(OPENAPI_PATH, 'utf8')));
  const empty = join(directory, 'empty.mjs');
  writeFileSync(empty, 'export const nothing = 0;\n');
  const names = Object.keys(REQUEST_SCHEMAS);
  const results = {
    'an empty module (the cost of any first import)': measure(`await import(${JSON.stringify(pathToFileURL(empty).href)});`),
    'generated at build time (loaded)': measure(
      `const validators = await import(${JSON.stringify(pathToFileURL(generated).href)}); ${names.map((name) => `validators.${name}({});`).join(' ')}`,
    ),
    'compiled by ajv at start': measure(`const { Ajv } = await import('ajv'); const { readFileSync } = await import('node:fs');
const document = JSON.parse(readFileSync(${JSON.stringify(OPENAPI_PATH)}, 'utf8'));
const ajv = new Ajv({ discriminator: true, formats: { uri: true } }); ajv.addKeyword('components');
ajv.addSchema({ components: document.components }, 'openapi.json');
${Object.values(REQUEST_SCHEMAS)
  .map((schema) => `ajv.getSchema('openapi.json#/components/schemas/${schema}')({});`)
  .join('\n')}`),
  };
  for (const [name, result] of Object.entries(results))
    console.log(`${name}: ${result.ms.toFixed(1)} ms, RSS +${result.rssMb.toFixed(2)} MB, heap +${result.heapMb.toFixed(2)} MB`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
