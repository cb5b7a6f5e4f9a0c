import * as oidc from 'openid-client';
import { BridgeError, type Logger } from '@dcr-bridge/core';
import { createClientCredentialsTokenProvider, fetchVia, type Dispatcher, type TokenProvider } from '@dcr-bridge/core/idp';
import { IDP_NAME } from './identity.js';

/**
 * Where the IdP registers clients and how the bridge may: the registration endpoint (given, or found by discovery),
 * the token endpoint and the initial access token. Discovery and the token provider are made on first use.
 */

/** The options of `createRfc7591Adapter` this part reads (see `Rfc7591AdapterOptions`). */
export interface EndpointSettings {
  issuer?: string;
  registrationEndpoint?: string;
  tokenEndpoint?: string;
  initialAccessToken?: string;
  tokenClient?: { clientId: string; clientSecret: string; scope?: string };
  allowInsecureHttp?: boolean;
  dispatcher?: Dispatcher;
  timeoutMs?: number;
}

export interface Endpoints {
  registrationEndpoint: string;
  tokenEndpoint?: string;
  issuer?: string;
  /** From discovery, when the IdP publishes it: lets the bridge name an unknown scope before registering. */
  scopesSupported?: string[];
}

export function createEndpoints(options: EndpointSettings, logger: Logger) {
  let endpoints: Promise<Endpoints> | undefined;
  let tokens: Promise<TokenProvider> | undefined;

  /** Discovery runs on first use and is cached; a failure is not, so the next call tries again. */
  function resolveEndpoints(): Promise<Endpoints> {
    endpoints ??= discover().catch((error: unknown) => {
      endpoints = undefined;
      throw error;
    });
    return endpoints;
  }

  /** The issuer's discovery document (openid-client `discovery`), read afresh. */
  async function discoveryDocument(issuer: string): Promise<oidc.ServerMetadata> {
    try {
      const config = await oidc.discovery(new URL(issuer), 'dcr-bridge', undefined, undefined, {
        execute: options.allowInsecureHttp ? [oidc.allowInsecureRequests] : [],
        ...(options.dispatcher ? { [oidc.customFetch]: fetchVia(options.dispatcher) as oidc.CustomFetch } : {}),
        timeout: Math.ceil((options.timeoutMs ?? 30_000) / 1000),
      });
      return config.serverMetadata();
    } catch (error) {
      throw new BridgeError(
        'idp_unavailable',
        `Discovery of ${issuer} failed. Check the issuer and that the IdP serves /.well-known/openid-configuration.`,
        { cause: error },
      );
    }
  }

  async function discover(): Promise<Endpoints> {
    if (options.registrationEndpoint) {
      return { registrationEndpoint: options.registrationEndpoint, tokenEndpoint: options.tokenEndpoint };
    }
    const issuer = options.issuer as string;
    const metadata = await discoveryDocument(issuer);
    if (typeof metadata.registration_endpoint !== 'string') {
      throw new BridgeError('idp_error', `${issuer} announces no registration_endpoint: dynamic client registration is not enabled there.`);
    }
    return {
      registrationEndpoint: metadata.registration_endpoint,
      tokenEndpoint: options.tokenEndpoint ?? metadata.token_endpoint,
      issuer,
      scopesSupported: Array.isArray(metadata.scopes_supported) ? metadata.scopes_supported : undefined,
    };
  }

  async function initialAccessToken(): Promise<string | undefined> {
    if (options.initialAccessToken) return options.initialAccessToken;
    if (!options.tokenClient) return undefined;
    return (await tokenProvider()).getToken();
  }

  /** Built once the token endpoint is known; concurrent first calls share it (and so one token request). */
  function tokenProvider(): Promise<TokenProvider> {
    tokens ??= resolveEndpoints().then(({ tokenEndpoint, issuer }) => {
      if (!tokenEndpoint) throw new BridgeError('idp_error', "The IdP announces no token_endpoint; set the adapter's tokenEndpoint.");
      const client = options.tokenClient as NonNullable<EndpointSettings['tokenClient']>;
      return createClientCredentialsTokenProvider({
        issuer: issuer ?? new URL(tokenEndpoint).origin,
        tokenEndpoint,
        clientId: client.clientId,
        auth: { method: 'client_secret_basic', clientSecret: client.clientSecret },
        scope: client.scope,
        idpName: IDP_NAME,
        dispatcher: options.dispatcher,
        logger,
      });
    });
    tokens.catch(() => {
      tokens = undefined;
    });
    return tokens;
  }

  return { resolveEndpoints, discoveryDocument, initialAccessToken };
}
