import {
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListUserPoolClientSecretsCommand,
  ListUserPoolClientsCommand,
  type CognitoIdentityProviderClient,
  type UserPoolType,
} from '@aws-sdk/client-cognito-identity-provider';
import { BridgeError, type AdapterDiagnostics, type DiagnosticCheck, type OperationContext } from '@dcr-bridge/core';
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

/** What the adapter writes: IAM shows whether these are allowed only to IAM calls, so `--write-test` proves them. */
const WRITE_ACTIONS = [
  'CreateUserPoolClient',
  'UpdateUserPoolClient',
  'DeleteUserPoolClient',
  'AddUserPoolClientSecret',
  'DeleteUserPoolClientSecret',
] as const;

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
 * client that cannot exist); the writes are left to `--write-test`, with the statement to grant.
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

  /** A read the adapter makes, as a check: `probe` reads look for PROBE_CLIENT_ID, so "not found" means allowed. */
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
        ...WRITE_ACTIONS.map((action): DiagnosticCheck => ({
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

    async tokenEndpoint(context) {
      try {
        return tokenEndpointOf(await describePool(context), region);
      } catch (error) {
        throw fromAwsError(error, 'describing the user pool');
      }
    },
  };
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
