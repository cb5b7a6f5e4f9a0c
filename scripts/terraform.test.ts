import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { describe, expect, it } from 'vitest';

/**
 * deploy/terraform: Konnect's side of the bridge with Kong's Terraform provider. Nothing here can run Terraform
 * against Konnect, so the files are parsed (HCL2) and their shape is checked: the two objects `dcr-bridge konnect
 * setup` makes, wired together, with the secrets as sensitive variables.
 */
const dir = join(import.meta.dirname, '..', 'deploy', 'terraform');

interface Parsed {
  terraform?: Array<{ required_providers: Array<Record<string, { source: string }>> }>;
  resource?: Record<string, Record<string, Array<Record<string, unknown>>>>;
  variable?: Record<string, Array<{ sensitive?: boolean }>>;
}

async function parsed(): Promise<Parsed> {
  const files = readdirSync(dir).filter((name) => name.endsWith('.tf'));
  const parts = await Promise.all(files.map((name) => parse(name, readFileSync(join(dir, name), 'utf8')) as Promise<Parsed>));
  return Object.assign({}, ...parts.map((part) => part), { variable: Object.assign({}, ...parts.map((part) => part.variable ?? {})) });
}

describe('the Terraform example', () => {
  it('parses, and declares the HTTP DCR provider and the OpenID Connect strategy that uses it', async () => {
    const tf = await parsed();
    expect(tf.terraform?.[0]?.required_providers[0]?.konnect?.source).toBe('kong/konnect');
    const provider = tf.resource?.konnect_dcr_provider?.dcr_bridge?.[0]?.http as { dcr_config: Record<string, string> };
    expect(Object.keys(provider.dcr_config).sort()).toEqual(['api_key', 'dcr_base_url']);
    const strategy = tf.resource?.konnect_application_auth_strategy?.dcr_bridge?.[0]?.openid_connect as Record<string, unknown>;
    expect(strategy.strategy_type).toBe('openid_connect');
    expect(strategy.dcr_provider_id).toBe('${konnect_dcr_provider.dcr_bridge.id}');
    expect(Object.keys((strategy.configs as { openid_connect: object }).openid_connect).sort()).toEqual([
      'auth_methods',
      'credential_claim',
      'issuer',
      'scopes',
    ]);
  });

  it('takes the Konnect token and the bridge API key as sensitive variables, never as values in the files', async () => {
    const tf = await parsed();
    expect(tf.variable?.konnect_token?.[0]?.sensitive).toBe(true);
    expect(tf.variable?.bridge_api_key?.[0]?.sensitive).toBe(true);
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.tf')))
      expect(readFileSync(join(dir, name), 'utf8'), name).not.toMatch(/(kpat|spat)_[A-Za-z0-9]{10,}/);
  });
});
