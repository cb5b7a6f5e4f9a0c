import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createApiDescription,
  createFakeIdpKit,
  type ApiDescription,
  type FakeIdpKit,
  type OpenApiDocument,
} from '@dcr-bridge/conformance';
import model from './vendor/cognito-idp-2016-04-18.openapi.json' with { type: 'json' };

/**
 * A proxy in front of cognito-local that makes it behave like Cognito where the emulator does not,
 * following AWS's API reference:
 * - AddUserPoolClientSecret / ListUserPoolClientSecrets / DeleteUserPoolClientSecret (cognito-local
 *   answers 500 CognitoLocal#Unsupported; the AWS SDK's model, @aws-sdk/client-cognito-identity-provider
 *   3.1169.0): "up to 2 active secrets per app client" (a third: LimitExceededException), "you cannot
 *   delete the last remaining secret" (InvalidParameterException), an unknown client or secret id
 *   ResourceNotFoundException; the list is one answer without NextToken ("there are only 2 secrets at any
 *   given time and we return both") and never shows values; Add answers `ClientSecretDescriptor` with the
 *   value only when Cognito generated it (a `ClientSecret` of the caller's, 24–64 of `[\w+]`, is not
 *   echoed); secret ids are `<client-id>--<epoch-create-time>`; their 500 is InternalServerException;
 * - UpdateUserPoolClient resets every attribute the request omits (cognito-local merges them);
 * - AllowedOAuthScopes must exist on a resource server (ScopeDoesNotExistException) unless standard;
 *   client_credentials cannot be combined with code or implicit (InvalidOAuthFlowException);
 *   CallbackURLs must be absolute https URLs (http only for localhost) without fragments;
 * - the user pool domain's /oauth2/token issues client_credentials tokens to a client with that flow
 *   enabled, for any of its active secrets and its allowed scopes;
 * - ListUserPoolClients (cognito-local ignores MaxResults and NextToken and lists whole clients) returns
 *   pages of id, pool id and name only, at most MaxResults (1–60) each, with an opaque NextToken while more
 *   follow; `pageSize` makes pages smaller than MaxResults asks, so that tests cross pages;
 * - a ClientId outside the model's ClientIdType (1–128 of `[\w+]`) is refused before the operation runs, as
 *   AWS validates every request against its model: InvalidParameterException "1 validation error detected: Value
 *   '…' at 'clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+]+"
 *   (hashicorp/terraform-provider-aws#38167 quotes it); cognito-local answers ResourceNotFoundException;
 * - TooManyRequestsException can be injected, and so can a lost answer: the operation is carried out and
 *   the caller gets 500 InternalErrorException;
 * - IAM, as far as the tests need it (cognito-local checks no credentials): an access key id marked
 *   unknown is answered `UnrecognizedClientException` "The security token included in the request is
 *   invalid."; an action denied to a key is answered `AccessDeniedException` "User: <arn> is not authorized
 *   to perform: cognito-idp:<Action> on resource: <pool arn> because no identity-based policy allows the
 *   cognito-idp:<Action> action" (AWS's wording, HTTP 400), before the action looks at anything;
 * - user pool domains (cognito-local has none): CreateUserPoolDomain gives a pool a prefix domain, or a
 *   custom one with `CustomDomainConfig`; DescribeUserPool shows them as `Domain` / `CustomDomain`; the
 *   token endpoint knows the pool from the Host a request came to (`<prefix>.auth.<region>.amazoncognito.com`,
 *   the region taken from the request's SigV4 credential scope, or the custom domain), or from a
 *   `user_pool_id` query parameter where a test calls the proxy by its own address;
 * - the conformance kit's fault layer sits in front of everything (`faults`): resets, hangs, late and lost
 *   answers, as a network between the bridge and AWS produces them. Every AWS call is `POST /` naming its
 *   operation in `X-Amz-Target`; the kit matches faults on method and path only, so it is shown each call
 *   as `POST /<Operation>` (`faultNext('POST', /^\/AddUserPoolClientSecret$/, …)` faults that operation alone).
 * Everything else goes to cognito-local unchanged. Errors are AWS JSON 1.1: 400, `x-amzn-ErrorType`,
 * `{"__type", "message"}`.
 *
 * Every call that reaches the proxy and every answer it gives (its own, and cognito-local's it passes on) is
 * checked against AWS's own model of the API (`api`: test/vendor/cognito-idp-2016-04-18.openapi.json, derived
 * from the Smithy model, keyed `POST /<Operation>`): an operation the model does not have, a member it does not
 * describe, a missing required member, a wrong type, length, pattern or enum value, an error the operation
 * does not list.
 */
interface Secret {
  id: string;
  value: string;
  created: number;
}

const STANDARD_SCOPES = new Set(['openid', 'email', 'phone', 'profile', 'aws.cognito.signin.user.admin']);
const RESETTABLE = [
  'CallbackURLs',
  'LogoutURLs',
  'AllowedOAuthFlows',
  'AllowedOAuthScopes',
  'SupportedIdentityProviders',
  'ExplicitAuthFlows',
  'ReadAttributes',
  'WriteAttributes',
  'DefaultRedirectURI',
];

export interface CognitoProxy {
  url: string;
  /** Scopes defined on resource servers (e.g. `orders/read`). */
  customScopes: Set<string>;
  secrets: Map<string, Secret[]>;
  targets: string[];
  /** The most clients one ListUserPoolClients page holds, whatever MaxResults says (default 60). */
  pageSize: number;
  /** TCP connections accepted so far. */
  connections: number;
  throttleNext(target: string): void;
  /** The next call of `target` is carried out, and answered 500 InternalErrorException. */
  loseAnswerOfNext(target: string): void;
  /** The kit's fault injection (see @dcr-bridge/conformance, "Fault injection"). */
  faults: Pick<FakeIdpKit, 'faultNext' | 'injectFaults' | 'settle' | 'faults'>;
  /** Access key ids AWS does not know. */
  unknownKeys: Set<string>;
  /** Per access key id, the Cognito actions (e.g. `ListUserPoolClients`) its IAM policy does not allow. */
  deniedActions: Map<string, Set<string>>;
  /** AWS's model of the operations, checking every call the proxy receives and every answer it gives. */
  api: ApiDescription;
  close(): Promise<void>;
}

/** The access key id and region of a SigV4 Authorization header (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
function signer(authorization: string | undefined): { accessKeyId: string; region: string } {
  const [accessKeyId = '', , region = ''] = /Credential=([^,\s]+)/.exec(authorization ?? '')?.[1]?.split('/') ?? [];
  return { accessKeyId, region };
}

/** The pinned model as `createApiDescription` reads it: AWS JSON 1.1 calls are all `POST /`, shown as `POST /<Operation>`. */
export function cognitoApiDescription(): ApiDescription {
  return createApiDescription({
    name: `Amazon Cognito user pools API ${model.info.version} (aws/api-models-aws ${model.info['x-source'].commit.slice(0, 7)})`,
    document: model as unknown as OpenApiDocument,
    basePath: '',
  });
}

/** A user pool's ARN as AWS gives it: the region the caller signed for, a 12-digit account id. */
const poolArn = (region: string, poolId: unknown) => `arn:aws:cognito-idp:${region}:123456789012:userpool/${String(poolId)}`;

export async function startCognitoProxy(upstream: string, customScopes: string[]): Promise<CognitoProxy> {
  const description = cognitoApiDescription();
  const secrets = new Map<string, Secret[]>();
  const targets: string[] = [];
  const throttled: string[] = [];
  const lost: string[] = [];
  const scopes = new Set(customScopes);
  const unknownKeys = new Set<string>();
  const deniedActions = new Map<string, Set<string>>();
  /** Host name → user pool id, for every domain CreateUserPoolDomain gave; per pool, its prefix and custom domain. */
  const domainHosts = new Map<string, string>();
  const poolDomains = new Map<string, { Domain?: string; CustomDomain?: string }>();
  /** When each client's newest secret (deleted or not) was created, so that no two secrets of a client share an id. */
  const lastCreated = new Map<string, number>();
  /** A secret of `clientId` created now (a millisecond after its previous one at the earliest). */
  const newSecret = (clientId: string, value: string): Secret => {
    const created = Math.max(Date.now(), (lastCreated.get(clientId) ?? 0) + 1);
    lastCreated.set(clientId, created);
    return { id: `${clientId}--${created}`, value, created };
  };

  const forward = async (target: string, body: Record<string, unknown>) => {
    const res = await fetch(upstream, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/local/cognito-idp/aws4_request',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };
  const describe = async (pool: unknown, clientId: unknown) => {
    const res = await forward('DescribeUserPoolClient', { UserPoolId: pool, ClientId: clientId });
    return res.status === 200 ? (res.body.UserPoolClient as Record<string, unknown>) : undefined;
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
  };
  const awsError = (res: ServerResponse, type: string, message: string) => {
    res
      .writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type })
      .end(JSON.stringify({ __type: type, message }));
  };
  const invalid = (body: Record<string, unknown>): [string, string] | undefined => {
    const flows = (body.AllowedOAuthFlows as string[] | undefined) ?? [];
    if (flows.includes('client_credentials') && flows.some((flow) => flow !== 'client_credentials'))
      return [
        'InvalidOAuthFlowException',
        'client_credentials flow can not be selected if authorization code or implicit flow is selected.',
      ];
    for (const scope of (body.AllowedOAuthScopes as string[] | undefined) ?? []) {
      if (!STANDARD_SCOPES.has(scope) && !scopes.has(scope)) return ['ScopeDoesNotExistException', `Invalid scope requested: ${scope}`];
      if (flows.includes('client_credentials') && STANDARD_SCOPES.has(scope))
        return ['InvalidOAuthFlowException', 'client_credentials flow can only be used with custom scopes.'];
    }
    for (const uri of (body.CallbackURLs as string[] | undefined) ?? []) {
      let url: URL | undefined;
      try {
        url = new URL(uri);
      } catch {
        url = undefined;
      }
      if (!url || url.hash || (url.protocol !== 'https:' && !(url.protocol === 'http:' && url.hostname === 'localhost')))
        return [
          'InvalidParameterException',
          `1 validation error detected: Value '${uri}' at 'callbackURLs' failed to satisfy constraint: Member must be an https URL without a fragment`,
        ];
    }
    return undefined;
  };

  async function api(target: string, body: Record<string, unknown>, res: ServerResponse, caller: { accessKeyId: string; region: string }) {
    targets.push(target);
    if (unknownKeys.has(caller.accessKeyId))
      return awsError(res, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (deniedActions.get(caller.accessKeyId)?.has(target)) {
      const resource = `arn:aws:cognito-idp:${caller.region}:123456789012:userpool/${String(body.UserPoolId ?? '')}`;
      return awsError(
        res,
        'AccessDeniedException',
        `User: arn:aws:iam::123456789012:user/dcr-bridge is not authorized to perform: cognito-idp:${target} on resource: ${resource} because no identity-based policy allows the cognito-idp:${target} action`,
      );
    }
    const throttle = throttled.indexOf(target);
    if (throttle !== -1) {
      throttled.splice(throttle, 1);
      return awsError(res, 'TooManyRequestsException', 'Too many requests');
    }
    const clientId = String(body.ClientId ?? '');
    // AWS checks members against the model's constraints before the operation runs (ClientIdType: 1–128 of [\w+]).
    if (body.ClientId !== undefined && !/^[\w+]{1,128}$/.test(clientId))
      return awsError(
        res,
        'InvalidParameterException',
        `1 validation error detected: Value '${clientId}' at 'clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+]+`,
      );
    switch (target) {
      case 'CreateUserPoolClient': {
        const problem = invalid(body);
        if (problem) return awsError(res, ...problem);
        const created = await forward(target, body);
        const client = created.body.UserPoolClient as Record<string, unknown> | undefined;
        if (client?.ClientSecret) secrets.set(String(client.ClientId), [newSecret(String(client.ClientId), String(client.ClientSecret))]);
        return send(res, created.status, created.body);
      }
      case 'UpdateUserPoolClient': {
        const problem = invalid(body);
        if (problem) return awsError(res, ...problem);
        const reset: Record<string, unknown> = { ...body, AllowedOAuthFlowsUserPoolClient: body.AllowedOAuthFlowsUserPoolClient ?? false };
        for (const field of RESETTABLE) if (!(field in body)) reset[field] = field === 'DefaultRedirectURI' ? null : [];
        const updated = await forward(target, reset);
        return send(res, updated.status, updated.body);
      }
      case 'DeleteUserPoolClient': {
        const deleted = await forward(target, body);
        if (deleted.status === 200) secrets.delete(clientId);
        return send(res, deleted.status, deleted.body);
      }
      case 'AddUserPoolClientSecret': {
        if (!(await describe(body.UserPoolId, clientId)))
          return awsError(res, 'ResourceNotFoundException', `Client ${clientId} does not exist.`);
        const custom = body.ClientSecret;
        if (custom !== undefined && (typeof custom !== 'string' || !/^[\w+]{24,64}$/.test(custom)))
          return awsError(
            res,
            'InvalidParameterException',
            "1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: Member must have length between 24 and 64 and match pattern [\\w+]+",
          );
        const list = secrets.get(clientId) ?? [];
        if (list.length >= 2) return awsError(res, 'LimitExceededException', 'A client can have at most 2 client secrets.');
        const secret = newSecret(clientId, (custom as string | undefined) ?? randomBytes(26).toString('hex'));
        secrets.set(clientId, [...list, secret]);
        return send(res, 200, {
          ClientSecretDescriptor: {
            ClientSecretId: secret.id,
            ...(custom === undefined ? { ClientSecretValue: secret.value } : {}),
            ClientSecretCreateDate: secret.created / 1000,
          },
        });
      }
      case 'ListUserPoolClientSecrets': {
        if (!(await describe(body.UserPoolId, clientId)))
          return awsError(res, 'ResourceNotFoundException', `Client ${clientId} does not exist.`);
        return send(res, 200, {
          ClientSecrets: (secrets.get(clientId) ?? []).map((secret) => ({
            ClientSecretId: secret.id,
            ClientSecretCreateDate: secret.created / 1000,
          })),
        });
      }
      case 'DeleteUserPoolClientSecret': {
        const list = secrets.get(clientId) ?? [];
        if (!list.some((secret) => secret.id === body.ClientSecretId))
          return awsError(res, 'ResourceNotFoundException', 'The client secret does not exist.');
        if (list.length === 1) return awsError(res, 'InvalidParameterException', 'The last client secret of a client cannot be deleted.');
        secrets.set(
          clientId,
          list.filter((secret) => secret.id !== body.ClientSecretId),
        );
        return send(res, 200, {});
      }
      case 'ListUserPoolClients': {
        const max = body.MaxResults ?? 60;
        if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 60)
          return awsError(
            res,
            'InvalidParameterException',
            `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60`,
          );
        const start = body.NextToken === undefined ? 0 : Number(Buffer.from(String(body.NextToken), 'base64url').toString() || 'x');
        if (!Number.isInteger(start) || start < 0) return awsError(res, 'InvalidParameterException', 'The pagination token is not valid.');
        const listed = await forward(target, { UserPoolId: body.UserPoolId });
        if (listed.status !== 200) return send(res, listed.status, listed.body);
        const all = ((listed.body.UserPoolClients as Array<Record<string, unknown>> | undefined) ?? []).map((client) => ({
          ClientId: client.ClientId,
          UserPoolId: client.UserPoolId,
          ClientName: client.ClientName,
        }));
        const end = start + Math.min(max, proxy.pageSize);
        return send(res, 200, {
          UserPoolClients: all.slice(start, end),
          ...(end < all.length ? { NextToken: Buffer.from(String(end)).toString('base64url') } : {}),
        });
      }
      case 'CreateUserPool': {
        // cognito-local's ARN has no account id (AWS's are 12 digits): the answer carries the one DescribeUserPool shows.
        const created = await forward(target, body);
        const userPool = created.body.UserPool as Record<string, unknown> | undefined;
        if (created.status !== 200 || !userPool) return send(res, created.status, created.body);
        return send(res, 200, { UserPool: { ...userPool, Arn: poolArn(caller.region, userPool.Id) } });
      }
      case 'CreateUserPoolDomain': {
        const domain = String(body.Domain ?? '');
        const custom = body.CustomDomainConfig !== undefined;
        const host = custom ? domain : `${domain}.auth.${caller.region}.amazoncognito.com`;
        if (domainHosts.has(host)) return awsError(res, 'InvalidParameterException', 'Domain already associated with another user pool.');
        domainHosts.set(host, String(body.UserPoolId));
        poolDomains.set(String(body.UserPoolId), {
          ...poolDomains.get(String(body.UserPoolId)),
          ...(custom ? { CustomDomain: domain } : { Domain: domain }),
        });
        return send(res, 200, custom ? { CloudFrontDomain: 'd111111abcdef8.cloudfront.net' } : {});
      }
      case 'DescribeUserPool': {
        const described = await forward(target, body);
        const userPool = described.body.UserPool as Record<string, unknown> | undefined;
        if (described.status !== 200 || !userPool) return send(res, described.status, described.body);
        // cognito-local names every pool's region "local"; the ARN carries the region the caller signed for.
        return send(res, 200, {
          UserPool: { ...userPool, Arn: poolArn(caller.region, userPool.Id), ...poolDomains.get(String(userPool.Id)) },
        });
      }
      default: {
        const passed = await forward(target, body);
        return send(res, passed.status, passed.body);
      }
    }
  }

  async function token(req: IncomingMessage, form: URLSearchParams, res: ServerResponse) {
    let clientId = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? '';
    const basic = req.headers.authorization?.match(/^Basic (.+)$/)?.[1];
    if (basic) [clientId, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent) as [string, string];
    const reply = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (form.get('grant_type') !== 'client_credentials') return reply(400, { error: 'unsupported_grant_type' });
    const pool = form.get('user_pool_id') ?? domainHosts.get(String(req.headers.host ?? '').replace(/:\d+$/, ''));
    const client = await describe(pool, clientId);
    if (!client || !(secrets.get(clientId) ?? []).some((candidate) => candidate.value === secret))
      return reply(400, { error: 'invalid_client' });
    if (!client.AllowedOAuthFlowsUserPoolClient || !(client.AllowedOAuthFlows as string[] | undefined)?.includes('client_credentials'))
      return reply(400, { error: 'unauthorized_client' });
    const allowed = (client.AllowedOAuthScopes as string[] | undefined) ?? [];
    const requested = form.get('scope')?.split(' ').filter(Boolean) ?? allowed;
    if (requested.some((scope) => !allowed.includes(scope))) return reply(400, { error: 'invalid_scope' });
    reply(200, { access_token: randomBytes(32).toString('base64url'), expires_in: 3600, token_type: 'Bearer' });
  }

  /** Checks the answer `res` will carry against the operation's output or error shapes. */
  const checkAnswer = (res: ServerResponse, target: string) => {
    const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
    res.end = ((chunk?: unknown) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : '';
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      description.checkResponse('POST', `/${target}`, res.statusCode, parsed);
      return end(chunk);
    }) as ServerResponse['end'];
  };

  const kit = createFakeIdpKit();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    if (req.url?.startsWith('/oauth2/token')) return token(req, new URLSearchParams(`${text}&${req.url.split('?')[1] ?? ''}`), res);
    const target =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    description.checkRequest('POST', `/${target}`, text ? body : undefined);
    checkAnswer(res, target);
    const caller = signer(req.headers.authorization);
    const lose = lost.indexOf(target);
    if (lose === -1) return api(target, body, res, caller);
    lost.splice(lose, 1);
    const nowhere = { writeHead: () => nowhere, end: () => nowhere } as unknown as ServerResponse;
    await api(target, body, nowhere, caller);
    // The client-secret operations name their 500 InternalServerException, the older ones InternalErrorException.
    const type = target.includes('ClientSecret') ? 'InternalServerException' : 'InternalErrorException';
    res
      .writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type })
      .end(JSON.stringify({ __type: type, message: 'An internal error occurred.' }));
  };
  const server: Server = createServer((req, res) => {
    // The kit sees an AWS call as `POST /<Operation>`, so that a fault can target one operation.
    const url = req.url ?? '/';
    const operation =
      req.method === 'POST' && url === '/'
        ? String(req.headers['x-amz-target'] ?? '')
            .split('.')
            .pop()
        : undefined;
    if (operation) req.url = `/${operation}`;
    kit.middleware(req, res, () => {
      req.url = url;
      handle(req, res).catch(() => {
        if (!res.headersSent)
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InternalErrorException' });
        res.end(JSON.stringify({ __type: 'InternalErrorException', message: 'An internal error occurred.' }));
      });
    });
  });
  server.on('connection', () => void proxy.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxy: CognitoProxy = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    customScopes: scopes,
    secrets,
    targets,
    pageSize: 60,
    connections: 0,
    throttleNext: (target) => void throttled.push(target),
    loseAnswerOfNext: (target) => void lost.push(target),
    faults: kit,
    unknownKeys,
    deniedActions,
    api: description,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
