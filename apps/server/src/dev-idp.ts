import { randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import type * as OidcProviderModule from 'oidc-provider';

/**
 * The embedded dev-mode IdP: a real OpenID Provider (oidc-provider) mounted under /dev-idp, with
 * dynamic registration behind an initial access token, RFC 7592 management, client_credentials, and a
 * registration policy that issues a new secret when an update omits client_secret (how the rfc7591
 * adapter rotates). In memory only: everything is gone at restart. Not for production.
 */
export interface DevIdp {
  issuer: string;
  initialAccessToken: string;
  /** Mount under the issuer's path (Express strips the mount path). */
  handler: RequestListener;
}

export const DEV_IDP_PATH = '/dev-idp';

export async function createDevIdp(issuer: string): Promise<DevIdp> {
  // Loaded only in dev mode: production start-up never pays for it.
  const [{ default: Provider }, { exportJWK, generateKeyPair }] = await Promise.all([importOidcProvider(), import('jose')]);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'dev', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'read', 'write'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      registration: {
        enabled: true,
        initialAccessToken: true,
        policies: {
          'rotate-secret-on-update': (ctx, properties) => {
            if (ctx.oidc.client && !('client_secret' in (ctx.oidc.body as Record<string, unknown>))) {
              properties.client_secret = randomBytes(32).toString('base64url');
            }
          },
        },
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
    },
  });
  const initialAccessToken = await new provider.InitialAccessToken({ policies: ['rotate-secret-on-update'] }).save();
  return { issuer, initialAccessToken, handler: provider.callback() };
}

/**
 * oidc-provider warns at import on any Node line before 22 ("Unsupported runtime"), though dev mode runs on
 * every line the bridge supports (Node ≥ 20.19, tested): that one line is kept off the console, nothing else.
 */
async function importOidcProvider(): Promise<typeof OidcProviderModule> {
  const { warn } = console;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime')) return;
    warn(...args);
  };
  try {
    return await import('oidc-provider');
  } finally {
    console.warn = warn;
  }
}
