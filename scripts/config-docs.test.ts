import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defineAdapterSettings, setting } from '../packages/core/src/index.js';
import { configReferences, END, generatedSection, settingsTable, START } from './config-docs.js';

/** The configuration reference in the READMEs is what `pnpm docs:config` writes from the declared settings. */
describe('the configuration reference', () => {
  it("in the server's and every adapter's README is the table generated from the declared settings", async () => {
    const references = await configReferences();
    expect(references.length).toBeGreaterThan(9);
    for (const { readme, table } of references) {
      const section = generatedSection(readFileSync(readme, 'utf8'));
      expect(section, `${readme}: no ${START} … ${END} section`).toBeDefined();
      expect(section, `${readme} differs from its declared settings: run pnpm docs:config`).toBe(table);
    }
  });

  it('shows each setting with its factory option, type, required or default, and its text', () => {
    const table = settingsTable(
      defineAdapterSettings({
        prefix: 'ACME',
        settings: {
          baseUrl: setting.url('URL', { required: true, doc: "Acme's base URL" }),
          apiToken: setting.secret('API_TOKEN', { optionText: '`auth.token`', doc: 'the admin token' }),
        },
      }),
      { options: true },
    );
    expect(table.split('\n')).toEqual([
      '| setting | factory option | type | default | meaning |',
      '| --- | --- | --- | --- | --- |',
      "| `ACME_URL` | `baseUrl` | URL | required | Acme's base URL |",
      '| `ACME_API_TOKEN` | `auth.token` | secret | — | the admin token |',
      expect.stringMatching(/^\| `ACME_TIMEOUT_MS` \| `timeoutMs` \| whole number \| `30000` \(100–120000\) \| ceiling of one request/),
      expect.stringMatching(/^\| `ACME_ALLOW_INSECURE_HTTP` \| — \| boolean \| `false` \| `true` lets/),
    ]);
  });
});
