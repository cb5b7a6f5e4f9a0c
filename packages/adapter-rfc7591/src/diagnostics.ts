import type { ServerMetadata } from 'openid-client';
import { settingName, type AdapterDiagnostics, type DiagnosticCheck, type IdpVersion, type SettingNames } from '@dcr-bridge/core';

/** What `dcr-bridge doctor` needs of the adapter: its settings and the calls it already makes. */
export interface Rfc7591DiagnosticsSource {
  issuer?: string;
  registrationEndpoint?: string;
  /** How the registration request is authorized: a static token, one obtained by client_credentials, or none. */
  initialAccessToken: 'static' | 'client_credentials' | 'none';
  /** The issuer's discovery document, read afresh; throws what discovery throws. */
  discoveryDocument(issuer: string): Promise<ServerMetadata>;
  /** The initial access token the next registration would carry (a token request with client_credentials). */
  tokenForRegistration(): Promise<string | undefined>;
  tokenEndpoint(): Promise<string>;
  /** How an operator sets each option (`settingNamesOf`), for the fixes; without, the fixes name the options. */
  settingNames?: SettingNames;
}

/** What the adapter supports (README, "Supported versions"): the RFCs, not a product. */
export const IDP_PRODUCT = 'OAuth 2.0 Dynamic Client Registration (RFC 7591) with management (RFC 7592)';
export const SUPPORTED =
  'any server with RFC 7591 registration and RFC 7592 management (tested: oidc-provider 9.13.3); rotation where an update without client_secret issues a new one';

/** The setting (or option) an operator changes for `option`. */
const settingOf = (source: Rfc7591DiagnosticsSource, option: string) => settingName(source.settingNames, option);

const WRITE_TEST = 'only a registration shows it: `dcr-bridge doctor --write-test` proves it';

/**
 * The doctor's read-only checks for an RFC 7591 / 7592 IdP. A generic IdP publishes no grants to read: what
 * can be seen is its discovery document (RFC 8414 / OpenID Connect Discovery) and whether a token client
 * gets a token; whether a registration and its RFC 7592 management are allowed shows only by registering.
 */
export function createRfc7591Diagnostics(source: Rfc7591DiagnosticsSource): AdapterDiagnostics {
  return {
    adminUrl: source.issuer ?? source.registrationEndpoint ?? '',
    async checkPermissions() {
      return [...(await discoveryChecks(source)), await initialAccessTokenCheck(source), managementCheck()];
    },
    tokenEndpoint: () => source.tokenEndpoint(),
    idpVersion: () => idpVersion(source),
  };
}

/**
 * A discovery document (RFC 8414, OpenID Connect Discovery) names no product and no version: what it tells is
 * the issuer and what its registration endpoint supports. Within the range where it announces a
 * registration_endpoint; outside it where it announces none (registration is off); not told without discovery.
 */
async function idpVersion(source: Rfc7591DiagnosticsSource): Promise<IdpVersion> {
  const found = { product: IDP_PRODUCT, supported: SUPPORTED };
  if (!source.issuer)
    return {
      ...found,
      detail: `${settingOf(source, 'registrationEndpoint')} ${source.registrationEndpoint ?? ''} (no discovery document: nothing tells what the server supports)`,
    };
  const metadata = await source.discoveryDocument(source.issuer);
  const list = (value: unknown) => (Array.isArray(value) ? value.join(' ') : 'not announced');
  const supports = [
    `token_endpoint_auth_methods_supported: ${list(metadata.token_endpoint_auth_methods_supported)}`,
    `grant_types_supported: ${list(metadata.grant_types_supported)}`,
    `scopes_supported: ${list(metadata.scopes_supported)}`,
  ].join('; ');
  if (typeof metadata.registration_endpoint !== 'string')
    return {
      ...found,
      withinSupported: false,
      detail: `issuer ${source.issuer} (its discovery document names no product or version) announces no registration_endpoint: dynamic client registration is off; ${supports}`,
    };
  return {
    ...found,
    withinSupported: true,
    detail: `issuer ${source.issuer} (its discovery document names no product or version); registration_endpoint ${metadata.registration_endpoint}; ${supports}; RFC 7592 management shows only with a registration`,
  };
}

async function discoveryChecks(source: Rfc7591DiagnosticsSource): Promise<DiagnosticCheck[]> {
  if (!source.issuer) {
    return [
      {
        name: 'discovery document',
        result: 'skip',
        detail: `${settingOf(source, 'registrationEndpoint')} is set: the bridge reads no discovery document.`,
      },
      { name: 'registration_endpoint', result: 'pass', detail: `configured: ${source.registrationEndpoint ?? ''}` },
      {
        name: 'grant type client_credentials',
        result: 'skip',
        detail: `without a discovery document there is no grant_types_supported to read; ${WRITE_TEST}.`,
      },
    ];
  }
  let metadata: ServerMetadata;
  try {
    metadata = await source.discoveryDocument(source.issuer);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const fix = `Check ${settingOf(source, 'issuer')} (${source.issuer}): the IdP must serve its discovery document at /.well-known/openid-configuration (or /.well-known/oauth-authorization-server) under it.`;
    return [
      { name: 'discovery document', result: 'fail', detail, fix },
      { name: 'registration_endpoint', result: 'skip', detail: 'the discovery document could not be read.' },
      { name: 'grant type client_credentials', result: 'skip', detail: 'the discovery document could not be read.' },
    ];
  }
  return [
    { name: 'discovery document', result: 'pass', detail: `read from ${source.issuer}` },
    registrationEndpointCheck(source, metadata),
    clientCredentialsCheck(metadata),
  ];
}

function registrationEndpointCheck(source: Rfc7591DiagnosticsSource, metadata: ServerMetadata): DiagnosticCheck {
  const name = 'registration_endpoint';
  if (typeof metadata.registration_endpoint === 'string') return { name, result: 'pass', detail: metadata.registration_endpoint };
  return {
    name,
    result: 'fail',
    detail: 'the discovery document announces no registration_endpoint: dynamic client registration is off at the IdP.',
    fix: `Enable dynamic client registration (RFC 7591) with client management (RFC 7592) at the IdP, or set ${settingOf(source, 'registrationEndpoint')} instead of ${settingOf(source, 'issuer')}.`,
  };
}

function clientCredentialsCheck(metadata: ServerMetadata): DiagnosticCheck {
  const name = 'grant type client_credentials';
  const advertised = metadata.grant_types_supported;
  if (!Array.isArray(advertised)) {
    return {
      name,
      result: 'skip',
      detail: `the discovery document has no grant_types_supported (its default, authorization_code and implicit, is seldom all a server offers); ${WRITE_TEST}.`,
    };
  }
  if (advertised.includes('client_credentials')) return { name, result: 'pass', detail: `grant_types_supported: ${advertised.join(', ')}` };
  return {
    name,
    result: 'fail',
    detail: `grant_types_supported: ${advertised.join(', ')}`,
    fix: 'Enable the client_credentials grant at the IdP: Konnect applications get their tokens with it.',
  };
}

async function initialAccessTokenCheck(source: Rfc7591DiagnosticsSource): Promise<DiagnosticCheck> {
  const name = 'initial access token';
  if (source.initialAccessToken === 'static') {
    return {
      name,
      result: 'skip',
      detail: `${settingOf(source, 'initialAccessToken')} is set; whether the IdP still accepts it: ${WRITE_TEST}.`,
    };
  }
  if (source.initialAccessToken === 'none') {
    return { name, result: 'skip', detail: `none configured, so the IdP must allow open registration; ${WRITE_TEST}.` };
  }
  try {
    await source.tokenForRegistration();
    return { name, result: 'pass', detail: `the token client got a token; whether the IdP accepts it for registration: ${WRITE_TEST}.` };
  } catch (error) {
    return {
      name,
      result: 'fail',
      detail: error instanceof Error ? error.message : String(error),
      fix: `Check ${settingOf(source, 'clientId')}, ${settingOf(source, 'clientSecret')} and ${settingOf(source, 'scope')}: the IdP must issue that client a token (client_credentials) that its registration endpoint accepts as an initial access token.`,
    };
  }
}

function managementCheck(): DiagnosticCheck {
  return {
    name: 'RFC 7592 client management',
    result: 'skip',
    detail: `registration_client_uri and registration_access_token come with a registration; ${WRITE_TEST}.`,
  };
}
