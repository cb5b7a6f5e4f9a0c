#!/usr/bin/env node
// Creates packages/adapter-<id> from templates/adapter: `pnpm new-adapter zitadel "Zitadel"`.
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

export function createAdapterPackage({ id, display, root }) {
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(id)) throw new Error(`The id "${id}" must be lowercase letters, digits and dashes (e.g. zitadel).`);
  const target = join(root, 'packages', `adapter-${id}`);
  if (existsSync(target)) throw new Error(`${target} exists already.`);
  const pascal = id
    .split('-')
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
  const env = id.toUpperCase().replace(/-/g, '_');
  const substitute = (text) =>
    text.replaceAll('__PASCAL__', pascal).replaceAll('__ENV__', env).replaceAll('__DISPLAY__', display).replaceAll('__ID__', id);
  cpSync(join(root, 'templates', 'adapter'), target, { recursive: true });
  // Placeholders are filled in file contents and names (test/fake-__ID__.ts → test/fake-zitadel.ts).
  const fill = (dir) => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, substitute(name));
      if (file !== join(dir, name)) renameSync(join(dir, name), file);
      if (statSync(file).isDirectory()) fill(file);
      else writeFileSync(file, substitute(readFileSync(file, 'utf8')));
    }
  };
  fill(target);
  writeFileSync(
    join(root, '.changeset', `adapter-${id}.md`),
    `---\n"@dcr-bridge/adapter-${id}": minor\n---\n\nFirst release of the ${display} adapter.\n`,
  );
  return target;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const [id, display] = process.argv.slice(2);
  if (!id) {
    process.stderr.write('usage: pnpm new-adapter <id> ["Display name"]\n');
    process.exit(2);
  }
  try {
    const target = createAdapterPackage({ id, display: display ?? id, root: resolve(new URL('..', import.meta.url).pathname) });
    process.stdout.write(`Created ${target}. Next: pnpm install, then follow CONTRIBUTING.md ("Adding an IdP").\n`);
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
