// Derives cognito-idp-2016-04-18.openapi.json (the operations the adapter and its test proxy use) from AWS's
// Smithy model of the Cognito user pools API. Run by hand when the pinned model is updated:
//   node test/vendor/derive.mjs <path to cognito-identity-provider-2016-04-18.json> [commit]
// (aws/api-models-aws, models/cognito-identity-provider/service/2016-04-18/; see README.md here).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const [source, commit = 'e5bfd481f0f448ae58cfe2d5fef327f9629d0dbe'] = process.argv.slice(2);
if (!source) throw new Error('usage: node test/vendor/derive.mjs <cognito-identity-provider-2016-04-18.json> [commit]');
const model = JSON.parse(readFileSync(source, 'utf8'));
const NS = 'com.amazonaws.cognitoidentityprovider#';
const shapes = model.shapes;

/** What the adapter calls (src/) and what the test environment calls through the proxy (test/environment.ts). */
const OPERATIONS = [
  'CreateUserPoolClient',
  'DescribeUserPoolClient',
  'ListUserPoolClients',
  'UpdateUserPoolClient',
  'DeleteUserPoolClient',
  'AddUserPoolClientSecret',
  'ListUserPoolClientSecrets',
  'DeleteUserPoolClientSecret',
  'DescribeUserPool',
  'CreateUserPool',
  'CreateUserPoolDomain',
];

/**
 * Errors every AWS JSON service may answer that a service model does not list (AWS's "Common Errors"): the
 * signature and credential checks and IAM's refusal happen before the operation runs.
 */
const COMMON_CLIENT_ERRORS = [
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignature',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
  'ThrottlingException',
  'ValidationError',
];
const COMMON_SERVER_ERRORS = ['InternalFailure', 'ServiceUnavailable'];

const schemas = {};
const short = (id) => id.slice(id.indexOf('#') + 1);

/**
 * A JSON Schema for a Smithy shape (awsJson1_1 serialisation: timestamps as epoch seconds). Structures are left
 * open here: @dcr-bridge/conformance's createApiDescription reports every member a structure does not describe.
 */
function schemaOf(id) {
  if (id === 'smithy.api#String') return { type: 'string' };
  if (id === 'smithy.api#Boolean' || id === 'smithy.api#PrimitiveBoolean') return { type: 'boolean' };
  if (id === 'smithy.api#Integer' || id === 'smithy.api#Long') return { type: 'integer' };
  if (id === 'smithy.api#Timestamp') return { type: 'number' };
  if (id === 'smithy.api#Unit') return { type: 'object', maxProperties: 0 };
  const shape = shapes[id];
  if (!shape) throw new Error(`unknown shape ${id}`);
  const name = short(id);
  if (shape.type === 'structure') {
    if (!(name in schemas)) {
      schemas[name] = null; // recursion guard
      const properties = {};
      const required = [];
      for (const [member, definition] of Object.entries(shape.members ?? {})) {
        properties[member] = schemaOf(definition.target);
        if (definition.traits?.['smithy.api#required'] !== undefined) required.push(member);
      }
      schemas[name] = {
        type: 'object',
        properties,
        ...(required.length > 0 ? { required } : {}),
      };
    }
    return { $ref: `#/components/schemas/${name}` };
  }
  const traits = shape.traits ?? {};
  const length = traits['smithy.api#length'];
  const range = traits['smithy.api#range'];
  switch (shape.type) {
    case 'string':
    case 'blob': {
      const result = { type: 'string' };
      if (length?.min !== undefined) result.minLength = length.min;
      if (length?.max !== undefined) result.maxLength = length.max;
      if (traits['smithy.api#pattern'] && compiles(traits['smithy.api#pattern'])) result.pattern = traits['smithy.api#pattern'];
      return result;
    }
    case 'enum':
      return { type: 'string', enum: Object.entries(shape.members).map(([member, d]) => d.traits?.['smithy.api#enumValue'] ?? member) };
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
    case 'long': {
      const result = { type: 'integer' };
      if (range?.min !== undefined) result.minimum = Number(range.min);
      if (range?.max !== undefined) result.maximum = Number(range.max);
      return result;
    }
    case 'double':
    case 'float':
      return { type: 'number' };
    case 'timestamp':
      return { type: 'number' };
    case 'list': {
      const result = { type: 'array', items: schemaOf(shape.member.target) };
      if (length?.min !== undefined) result.minItems = length.min;
      if (length?.max !== undefined) result.maxItems = length.max;
      return result;
    }
    case 'map':
      return { type: 'object', additionalProperties: schemaOf(shape.value.target) };
    default:
      throw new Error(`shape type ${shape.type} of ${id} not handled`);
  }
}

/** Smithy patterns are ECMA 262 regexes; ajv compiles them with the unicode flag. */
function compiles(pattern) {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    process.stderr.write(`pattern left out (not a unicode regex): ${pattern}\n`);
    return false;
  }
}

/** An AWS JSON 1.1 error body: `__type` names the error, `message` says why. */
const errorBody = (types) => ({
  type: 'object',
  required: ['__type'],
  properties: { __type: { type: 'string', enum: types }, message: { type: 'string' } },
});
const json = (schema) => ({ content: { 'application/x-amz-json-1.1': { schema } } });

const paths = {};
for (const operation of OPERATIONS) {
  const shape = shapes[NS + operation];
  if (!shape) throw new Error(`the model has no operation ${operation}`);
  const errors = (shape.errors ?? []).map(({ target }) => ({ name: short(target), kind: shapes[target].traits['smithy.api#error'] }));
  paths[`/${operation}`] = {
    post: {
      operationId: operation,
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      requestBody: { required: true, ...json(schemaOf(shape.input.target)) },
      responses: {
        200: { description: short(shape.output.target), ...json(schemaOf(shape.output.target)) },
        400: {
          description: 'the client errors the model lists for the operation, and AWS common errors',
          ...json(errorBody([...errors.filter((e) => e.kind === 'client').map((e) => e.name), ...COMMON_CLIENT_ERRORS])),
        },
        500: {
          description: 'the server errors the model lists for the operation, and AWS common errors',
          ...json(errorBody([...errors.filter((e) => e.kind === 'server').map((e) => e.name), ...COMMON_SERVER_ERRORS])),
        },
      },
    },
  };
}

/**
 * Where the model contradicts its own documentation (and Cognito's answers), the derived schema follows the
 * documentation; each place says so in `x-dcr-bridge-exception` (README.md here lists them).
 */
const EXCEPTIONS = [
  {
    where:
      'DomainType, in CreateUserPoolDomainRequest.Domain, CreateUserPoolDomainResponse.CloudFrontDomain, UserPoolType.Domain and .CustomDomain',
    apply() {
      const fqdn = {
        type: 'string',
        minLength: 1,
        maxLength: 253,
        pattern: '^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?)*$',
        'x-dcr-bridge-exception':
          "The model's DomainType admits one DNS label (^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$, 63 characters), yet the documentation of these members says a custom domain is the fully-qualified name (auth.example.com) and CloudFrontDomain the CloudFront distribution's FQDN: dot-separated labels, 253 characters.",
      };
      schemas.CreateUserPoolDomainRequest.properties.Domain = fqdn;
      schemas.CreateUserPoolDomainResponse.properties.CloudFrontDomain = fqdn;
      schemas.UserPoolType.properties.Domain = fqdn;
      schemas.UserPoolType.properties.CustomDomain = fqdn;
    },
  },
  {
    where: 'SchemaAttributeType.Name (CustomAttributeNameType)',
    apply() {
      const name = schemas.SchemaAttributeType.properties.Name;
      name.maxLength = 27;
      name['x-dcr-bridge-exception'] =
        "The model's CustomAttributeNameType allows 20 characters, yet its documentation says a user pool is described with standard attributes by name (phone_number_verified: 21) and custom ones as custom:<name> (7 more): 27.";
    },
  },
];
for (const exception of EXCEPTIONS) exception.apply();

const service = shapes[`${NS}AWSCognitoIdentityProviderService`];
const document = {
  openapi: '3.1.0',
  info: {
    title: 'Amazon Cognito user pools API (cognito-idp), the operations dcr-bridge uses',
    version: service.version,
    'x-source': {
      repository: 'https://github.com/aws/api-models-aws',
      path: 'models/cognito-identity-provider/service/2016-04-18/cognito-identity-provider-2016-04-18.json',
      commit,
      license: 'Apache-2.0',
      derivedBy: 'test/vendor/derive.mjs',
    },
  },
  paths,
  components: { schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) },
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'cognito-idp-2016-04-18.openapi.json');
writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`wrote ${out}: ${OPERATIONS.length} operations, ${Object.keys(schemas).length} structures\n`);
