import {
  AddUserPoolClientSecretCommand,
  DeleteUserPoolClientCommand,
  DeleteUserPoolClientSecretCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListUserPoolClientSecretsCommand,
  ListUserPoolClientsCommand,
  UpdateUserPoolClientCommand,
  type CognitoIdentityProviderClient,
  type UserPoolType,
} from '@aws-sdk/client-cognito-identity-provider';
import { BridgeError, type AdapterDiagnostics, type DiagnosticCheck, type IdpVersion, type OperationContext } from '@dcr-bridge/core';
import { fromAwsError } from './errors.js';
import { IDP_NAME } from './identity.js';

export interface CognitoDiagnosticsSource {
  cognito: CognitoIdentityProviderClient;
  userPoolId: string;
  region: string;
  endpoint?: string;
}

/**
 * An app client id that cannot exist (Cognito generates ids of letters and digits only): reads of it show
 * whether IAM allows the action (ResourceNotFoundException: allowed, Cognito looked; AccessDeniedException:
 * not allowed) without touching any client.
 */
export const PROBE_CLIENT_ID = 'dcr_bridge_doctor_probe';

/**
 * What the adapter writes to one app client: aimed at PROBE_CLIENT_ID, which cannot exist, IAM decides first
 * (AccessDeniedException) and Cognito then finds no client (ResourceNotFoundException), so the probe changes
 * nothing and still shows whether the action is allowed. A read-only IAM identity fails them, and so readiness.
 */
const PROBED_WRITES = ['UpdateUserPoolClient', 'DeleteUserPoolClient', 'AddUserPoolClientSecret', 'DeleteUserPoolClientSecret'] as const;
/** Only a create can show CreateUserPoolClient is allowed: `--write-test` proves it. */
const UNPROBED_WRITES = ['CreateUserPoolClient'] as const;

/** The product, as AWS names it, and what the adapter supports (README, "Supported versions"). */
export const IDP_PRODUCT = 'Amazon Cognito';
export const API_VERSION = '2016-04-18';
export const SUPPORTED = `user pools API ${API_VERSION} with the client-secret operations (AddUserPoolClientSecret, ListUserPoolClientSecrets, DeleteUserPoolClientSecret; in AWS's model since 2026-02-27)`;
/** How an endpoint answers an operation it does not have: AWS's protocol error, and cognito-local's. */
const UNKNOWN_OPERATION = new Set(['UnknownOperationException', 'InvalidAction', 'CognitoLocal#Unsupported', 'Unsupported']);

/** AWS's answers to a request IAM refused. */
const DENIED = new Set(['AccessDeniedException', 'NotAuthorizedException']);
/** AWS's answers to credentials it does not accept (or that the SDK could not find). */
const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);

const CREDENTIALS_FIX =
  "Give the bridge AWS credentials of the user pool's account that AWS accepts: the SDK's chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity token, the ECS task or EC2 instance role).";

/** Where a client of this pool gets tokens: the pool's custom domain, else its prefix domain, at /oauth2/token. */
export function tokenEndpointOf(pool: Pick<UserPoolType, 'Id' | 'Domain' | 'CustomDomain'>, region: string): string {
  if (pool.CustomDomain) return `https://${pool.CustomDomain}/oauth2/token`;
  if (pool.Domain) return `https://${pool.Domain}.auth.${region}.amazoncognito.com/oauth2/token`;
  throw new BridgeError(
    'idp_error',
    `User pool ${pool.Id ?? ''} has no domain, so its clients have no token endpoint: add one (Amazon ${IDP_NAME} console → the user pool → Domain, or CreateUserPoolDomain).`,
  );
}

/**
 * The doctor's checks for Cognito. The bridge's IAM policy grants no IAM calls, so what it allows is seen by
 * making the adapter's read calls (the user pool, one page of one client, a client and the secrets of a
 * client that cannot exist) and its writes to that same client that cannot exist (IAM decides before Cognito
 * finds nothing to change); the create is left to `--write-test`, with the statement to grant.
 */
export function createCognitoDiagnostics(source: CognitoDiagnosticsSource): AdapterDiagnostics {
  const { cognito, userPoolId, region } = source;
  const pool = { UserPoolId: userPoolId };
  const arnTemplate = `arn:aws:cognito-idp:${region}:<account-id>:userpool/${userPoolId}`;
  const allowFix = (action: string, arn: string) =>
    `Allow "cognito-idp:${action}" on "${arn}" in the IAM policy of the bridge's AWS identity (the adapter README's IdP setup has the whole policy).`;

  async function describePool(context: OperationContext): Promise<UserPoolType> {
    const answer = await cognito.send(new DescribeUserPoolCommand(pool), { abortSignal: context.signal });
    if (!answer.UserPool) throw new BridgeError('idp_error', `${IDP_NAME} described user pool ${userPoolId} without the pool.`);
    return answer.UserPool;
  }

  /** A call the adapter makes, as a check: `probe` calls aim at PROBE_CLIENT_ID, so "not found" means allowed (and nothing changed). */
  async function readCheck(action: string, arn: string, run: () => Promise<unknown>, probe: boolean): Promise<DiagnosticCheck> {
    const name = `permission: cognito-idp:${action}`;
    try {
      await run();
      return { name, result: 'pass', detail: 'allowed' };
    } catch (error) {
      const { name: errorName = 'Error', message = '' } = error as { name?: string; message?: string };
      if (probe && errorName === 'ResourceNotFoundException')
        return { name, result: 'pass', detail: `allowed (${IDP_NAME} looked for app client ${PROBE_CLIENT_ID}, which does not exist)` };
      if (DENIED.has(errorName)) return { name, result: 'fail', detail: `${errorName}: ${message}`, fix: allowFix(action, arn) };
      if (BAD_CREDENTIALS.has(errorName)) return { name, result: 'fail', detail: `${errorName}: ${message}`, fix: CREDENTIALS_FIX };
      return { name, result: 'fail', detail: fromAwsError(error, action).message };
    }
  }

  /** One probe after another, so that the IdP sees them in a fixed order. */
  async function probedWrites(arn: string, context: OperationContext): Promise<DiagnosticCheck[]> {
    const checks: DiagnosticCheck[] = [];
    for (const action of PROBED_WRITES)
      checks.push(await readCheck(action, arn, () => probeWrite(cognito, action, userPoolId, context.signal), true));
    return checks;
  }

  return {
    adminUrl: source.endpoint ?? `https://cognito-idp.${region}.amazonaws.com`,

    async checkPermissions(context) {
      let described: UserPoolType | undefined;
      const poolCheck = await readCheck('DescribeUserPool', arnTemplate, async () => (described = await describePool(context)), false);
      // The pool's own ARN names the account, so each fix is the exact statement to add.
      const arn = described?.Arn ?? arnTemplate;
      const checks = [
        poolCheck,
        await readCheck(
          'ListUserPoolClients',
          arn,
          () => cognito.send(new ListUserPoolClientsCommand({ ...pool, MaxResults: 1 }), { abortSignal: context.signal }),
          false,
        ),
        await readCheck(
          'DescribeUserPoolClient',
          arn,
          () => cognito.send(new DescribeUserPoolClientCommand({ ...pool, ClientId: PROBE_CLIENT_ID }), { abortSignal: context.signal }),
          true,
        ),
        await readCheck(
          'ListUserPoolClientSecrets',
          arn,
          () => cognito.send(new ListUserPoolClientSecretsCommand({ ...pool, ClientId: PROBE_CLIENT_ID }), { abortSignal: context.signal }),
          true,
        ),
        ...(await probedWrites(arn, context)),
        ...UNPROBED_WRITES.map((action): DiagnosticCheck => ({
          name: `permission: cognito-idp:${action}`,
          result: 'skip',
          detail:
            "IAM shows what a policy allows only to IAM calls (iam:SimulatePrincipalPolicy) that the bridge's policy does not grant: `dcr-bridge doctor --write-test` proves it.",
          fix: allowFix(action, arn),
        })),
      ];
      if (described) checks.push(domainCheck(described, region));
      return checks;
    },

    /**
     * Cognito is a hosted service: it tells no server version, and its API is versioned 2016-04-18 for good. What
     * differs is whether an endpoint has the client-secret operations new-secret needs: one ListUserPoolClientSecrets
     * of the probe client tells (ResourceNotFoundException: it looked, the operation exists).
     */
    async idpVersion(context): Promise<IdpVersion> {
      const found = { product: IDP_PRODUCT, supported: SUPPORTED };
      const endpoint = source.endpoint ?? `https://cognito-idp.${region}.amazonaws.com`;
      try {
        await cognito.send(new ListUserPoolClientSecretsCommand({ ...pool, ClientId: PROBE_CLIENT_ID }), { abortSignal: context.signal });
      } catch (error) {
        const { name = 'Error' } = error as { name?: string };
        if (name === 'ResourceNotFoundException')
          return {
            ...found,
            withinSupported: true,
            detail: `a hosted service (no server version); API ${API_VERSION} at ${endpoint}, whose ListUserPoolClientSecrets answered (the client-secret operations exist)`,
          };
        if (UNKNOWN_OPERATION.has(name))
          return {
            ...found,
            withinSupported: false,
            detail: `API ${API_VERSION} at ${endpoint} without ListUserPoolClientSecrets (${name}): an emulator or an endpoint older than the client-secret operations, where new-secret cannot work`,
          };
        return { ...found, detail: `API ${API_VERSION}; whether ${endpoint} has the client-secret operations could not be seen (${name})` };
      }
      return { ...found, withinSupported: true, detail: `a hosted service (no server version); API ${API_VERSION} at ${endpoint}` };
    },

    async tokenEndpoint(context) {
      try {
        return tokenEndpointOf(await describePool(context), region);
      } catch (error) {
        throw fromAwsError(error, 'describing the user pool');
      }
    },
  };
}

/** A write of PROBE_CLIENT_ID: IAM allows it or not, and Cognito finds no client to change. */
function probeWrite(
  cognito: CognitoIdentityProviderClient,
  action: (typeof PROBED_WRITES)[number],
  userPoolId: string,
  abortSignal: AbortSignal,
): Promise<unknown> {
  const target = { UserPoolId: userPoolId, ClientId: PROBE_CLIENT_ID };
  switch (action) {
    case 'UpdateUserPoolClient':
      return cognito.send(new UpdateUserPoolClientCommand(target), { abortSignal });
    case 'DeleteUserPoolClient':
      return cognito.send(new DeleteUserPoolClientCommand(target), { abortSignal });
    case 'AddUserPoolClientSecret':
      return cognito.send(new AddUserPoolClientSecretCommand(target), { abortSignal });
    case 'DeleteUserPoolClientSecret':
      return cognito.send(new DeleteUserPoolClientSecretCommand({ ...target, ClientSecretId: `${PROBE_CLIENT_ID}--0` }), { abortSignal });
  }
}

function domainCheck(described: UserPoolType, region: string): DiagnosticCheck {
  try {
    return { name: 'user pool domain', result: 'pass', detail: `clients get their tokens at ${tokenEndpointOf(described, region)}` };
  } catch (error) {
    return {
      name: 'user pool domain',
      result: 'fail',
      detail: (error as Error).message,
      fix: `Add a domain to the user pool (a ${IDP_NAME} prefix domain or your own): applications get their tokens at https://<domain>/oauth2/token.`,
    };
  }
}
