/**
 * The configuration reference, generated from the settings each package declares (`pnpm docs:config`): the
 * server's (apps/server/src/settings.ts) and each adapter's (`dcrBridgeAdapter.settings` in its src/module.ts),
 * written into the package's README between the two markers. scripts/config-docs.test.ts fails when a README's
 * section differs from what this writes.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AdapterModule, SettingsSchema } from '../packages/core/src/index.js';

export const START = '<!-- settings:start (generated from the declared settings by `pnpm docs:config`: edit those, not this table) -->';
export const END = '<!-- settings:end -->';

const root = join(import.meta.dirname, '..');

/** A Markdown table of a group's settings: name, the factory option (adapters), type, default and meaning. */
export function settingsTable(schema: SettingsSchema, { options }: { options: boolean }): string {
  const head = options ? ['setting', 'factory option', 'type', 'default', 'meaning'] : ['setting', 'type', 'default', 'meaning'];
  const rows = schema.entries.map(({ option, fullName, setting }) => {
    const shown = setting.required ? 'required' : (setting.defaultText ?? '—');
    const cells = [`\`${fullName}\``, setting.type, shown, setting.doc];
    if (options) cells.splice(1, 0, setting.optionText ?? `\`${option}\``);
    return cells;
  });
  return [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Each README with a generated reference, and the table it should hold. */
export async function configReferences(): Promise<{ readme: string; table: string }[]> {
  const { serverSettings } = await import('../apps/server/src/settings.js');
  const references = [{ readme: join(root, 'apps', 'server', 'README.md'), table: settingsTable(serverSettings, { options: false }) }];
  for (const name of readdirSync(join(root, 'packages'))
    .filter((folder) => folder.startsWith('adapter-'))
    .sort()) {
    const module = (await import(pathToFileURL(join(root, 'packages', name, 'src', 'module.ts')).href)) as {
      dcrBridgeAdapter: AdapterModule;
    };
    references.push({
      readme: join(root, 'packages', name, 'README.md'),
      table: settingsTable(module.dcrBridgeAdapter.settings, { options: true }),
    });
  }
  return references;
}

/** The section between the markers of `text`; undefined when the markers are missing. */
export function generatedSection(text: string): string | undefined {
  const start = text.indexOf(START);
  const end = text.indexOf(END, start);
  if (start < 0 || end < 0) return undefined;
  return text.slice(start + START.length, end).trim();
}

function replaceSection(text: string, table: string, readme: string): string {
  if (generatedSection(text) === undefined) throw new Error(`${readme} has no ${START} … ${END} section for the settings table.`);
  const start = text.indexOf(START) + START.length;
  return `${text.slice(0, start)}\n\n${table}\n\n${text.slice(text.indexOf(END, start))}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const { readme, table } of await configReferences()) {
    const text = readFileSync(readme, 'utf8');
    const written = replaceSection(text, table, readme);
    if (written !== text) {
      writeFileSync(readme, written);
      process.stdout.write(`wrote ${readme.slice(root.length + 1)}\n`);
    }
  }
}
