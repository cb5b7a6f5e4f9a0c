// Writes zitadel-v4.openapi.json: the part of ZITADEL's API description the adapter and its fake use, as OpenAPI 3.1.
//
// ZITADEL describes its APIs in protobuf (proto/zitadel/** of zitadel/zitadel) and generates its OpenAPI documents
// from them when it builds its docs; none is committed. This file transcribes, message by message, the protos listed
// in README.md (their commits there) into protobuf JSON (proto3 JSON mapping: lowerCamelCase names, 64-bit integers
// as strings (numbers accepted on input), enums by name, Timestamp and Duration as strings, bytes as base64). Only the
// methods the adapter calls are kept; messages it never sends or reads in depth (human users, SAML and API
// configurations, login versions) stay free-form objects. Run: node test/vendor/cut.mjs
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' };
const bool = { type: 'boolean' };
const uint32 = { type: 'integer', minimum: 0 };
const strings = { type: 'array', items: str };
const object = (properties, required) => ({ type: 'object', properties, ...(required ? { required } : {}) });
const oneOf = (properties) => ({ type: 'object', properties, maxProperties: 1 });
const enumOf = (...values) => ({ type: 'string', enum: values });
const list = (schema) => ({ type: 'array', items: schema });
const freeForm = { type: 'object' };

const schemas = {
  Uint64: { type: ['string', 'integer'], pattern: '^[0-9]+$', minimum: 0 },
  Timestamp: str,
  Duration: { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?s$' },
  Bytes: { type: 'string', pattern: '^[A-Za-z0-9+/_-]*={0,2}$' },
  ConnectError: object({ code: str, message: str, details: list(freeForm) }),

  // zitadel/filter/v2/filter.proto
  PaginationRequest: object({ offset: ref('Uint64'), limit: uint32, asc: bool }),
  PaginationResponse: object({ totalResult: ref('Uint64'), appliedLimit: ref('Uint64') }),
  TextFilterMethod: enumOf(
    'TEXT_FILTER_METHOD_EQUALS',
    'TEXT_FILTER_METHOD_EQUALS_IGNORE_CASE',
    'TEXT_FILTER_METHOD_STARTS_WITH',
    'TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE',
    'TEXT_FILTER_METHOD_CONTAINS',
    'TEXT_FILTER_METHOD_CONTAINS_IGNORE_CASE',
    'TEXT_FILTER_METHOD_ENDS_WITH',
    'TEXT_FILTER_METHOD_ENDS_WITH_IGNORE_CASE',
  ),
  // zitadel/object/v2/object.proto
  Details: object({ sequence: ref('Uint64'), changeDate: ref('Timestamp'), resourceOwner: str, creationDate: ref('Timestamp') }),
  ListQuery: object({ offset: ref('Uint64'), limit: uint32, asc: bool }),
  ListDetails: object({ totalResult: ref('Uint64'), processedSequence: ref('Uint64'), timestamp: ref('Timestamp') }),
  TextQueryMethod: enumOf(
    'TEXT_QUERY_METHOD_EQUALS',
    'TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE',
    'TEXT_QUERY_METHOD_STARTS_WITH',
    'TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE',
    'TEXT_QUERY_METHOD_CONTAINS',
    'TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE',
    'TEXT_QUERY_METHOD_ENDS_WITH',
    'TEXT_QUERY_METHOD_ENDS_WITH_IGNORE_CASE',
  ),

  // zitadel/application/v2/oidc.proto
  OIDCLocalizedMessage: object({ key: str, localizedMessage: str }),
  OIDCResponseType: enumOf(
    'OIDC_RESPONSE_TYPE_UNSPECIFIED',
    'OIDC_RESPONSE_TYPE_CODE',
    'OIDC_RESPONSE_TYPE_ID_TOKEN',
    'OIDC_RESPONSE_TYPE_ID_TOKEN_TOKEN',
  ),
  OIDCGrantType: enumOf(
    'OIDC_GRANT_TYPE_AUTHORIZATION_CODE',
    'OIDC_GRANT_TYPE_IMPLICIT',
    'OIDC_GRANT_TYPE_REFRESH_TOKEN',
    'OIDC_GRANT_TYPE_DEVICE_CODE',
    'OIDC_GRANT_TYPE_TOKEN_EXCHANGE',
  ),
  OIDCApplicationType: enumOf('OIDC_APP_TYPE_WEB', 'OIDC_APP_TYPE_USER_AGENT', 'OIDC_APP_TYPE_NATIVE'),
  OIDCAuthMethodType: enumOf(
    'OIDC_AUTH_METHOD_TYPE_BASIC',
    'OIDC_AUTH_METHOD_TYPE_POST',
    'OIDC_AUTH_METHOD_TYPE_NONE',
    'OIDC_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT',
  ),
  OIDCVersion: enumOf('OIDC_VERSION_1_0'),
  OIDCTokenType: enumOf('OIDC_TOKEN_TYPE_BEARER', 'OIDC_TOKEN_TYPE_JWT'),
  LoginVersion: freeForm,
  OIDCConfiguration: object({
    redirectUris: strings,
    responseTypes: list(ref('OIDCResponseType')),
    grantTypes: list(ref('OIDCGrantType')),
    applicationType: ref('OIDCApplicationType'),
    clientId: str,
    authMethodType: ref('OIDCAuthMethodType'),
    postLogoutRedirectUris: strings,
    version: ref('OIDCVersion'),
    noneCompliant: bool,
    complianceProblems: list(ref('OIDCLocalizedMessage')),
    developmentMode: bool,
    accessTokenType: ref('OIDCTokenType'),
    accessTokenRoleAssertion: bool,
    idTokenRoleAssertion: bool,
    idTokenUserinfoAssertion: bool,
    clockSkew: ref('Duration'),
    additionalOrigins: strings,
    allowedOrigins: strings,
    skipNativeAppSuccessPage: bool,
    backChannelLogoutUri: str,
    loginVersion: ref('LoginVersion'),
  }),
  // zitadel/application/v2/application.proto
  ApplicationState: enumOf(
    'APPLICATION_STATE_UNSPECIFIED',
    'APPLICATION_STATE_ACTIVE',
    'APPLICATION_STATE_INACTIVE',
    'APPLICATION_STATE_REMOVED',
  ),
  ApplicationSorting: enumOf(
    'APPLICATION_SORT_BY_ID',
    'APPLICATION_SORT_BY_NAME',
    'APPLICATION_SORT_BY_STATE',
    'APPLICATION_SORT_BY_CREATION_DATE',
    'APPLICATION_SORT_BY_CHANGE_DATE',
  ),
  ApplicationType: enumOf('APPLICATION_TYPE_UNSPECIFIED', 'APPLICATION_TYPE_OIDC', 'APPLICATION_TYPE_API', 'APPLICATION_TYPE_SAML'),
  Application: object({
    applicationId: str,
    creationDate: ref('Timestamp'),
    changeDate: ref('Timestamp'),
    state: ref('ApplicationState'),
    name: str,
    oidcConfiguration: ref('OIDCConfiguration'),
    apiConfiguration: freeForm,
    samlConfiguration: freeForm,
    projectId: str,
  }),
  ApplicationSearchFilter: oneOf({
    projectIdFilter: object({ projectId: str }, ['projectId']),
    nameFilter: object({ name: str, method: ref('TextFilterMethod') }),
    stateFilter: ref('ApplicationState'),
    typeFilter: ref('ApplicationType'),
    clientIdFilter: object({ clientId: str }, ['clientId']),
    entityIdFilter: object({ entityId: str }, ['entityId']),
  }),
  // zitadel/application/v2/application_service.proto
  CreateOIDCApplicationRequest: object({
    redirectUris: strings,
    responseTypes: list(ref('OIDCResponseType')),
    grantTypes: list(ref('OIDCGrantType')),
    applicationType: ref('OIDCApplicationType'),
    authMethodType: ref('OIDCAuthMethodType'),
    postLogoutRedirectUris: strings,
    version: ref('OIDCVersion'),
    developmentMode: bool,
    accessTokenType: ref('OIDCTokenType'),
    accessTokenRoleAssertion: bool,
    idTokenRoleAssertion: bool,
    idTokenUserinfoAssertion: bool,
    clockSkew: ref('Duration'),
    additionalOrigins: strings,
    skipNativeAppSuccessPage: bool,
    backChannelLogoutUri: str,
    loginVersion: ref('LoginVersion'),
  }),
  CreateApplicationRequest: object(
    {
      projectId: str,
      applicationId: str,
      name: str,
      oidcConfiguration: ref('CreateOIDCApplicationRequest'),
      samlConfiguration: freeForm,
      apiConfiguration: freeForm,
    },
    ['projectId', 'name'],
  ),
  CreateApplicationResponse: object({
    applicationId: str,
    creationDate: ref('Timestamp'),
    oidcConfiguration: object({
      clientId: str,
      clientSecret: str,
      nonCompliant: bool,
      complianceProblems: list(ref('OIDCLocalizedMessage')),
    }),
    samlConfiguration: freeForm,
    apiConfiguration: object({ clientId: str, clientSecret: str }),
  }),
  UpdateOIDCApplicationConfigurationRequest: { $ref: '#/components/schemas/CreateOIDCApplicationRequest' },
  UpdateApplicationRequest: object(
    {
      applicationId: str,
      projectId: str,
      name: str,
      samlConfiguration: freeForm,
      oidcConfiguration: ref('UpdateOIDCApplicationConfigurationRequest'),
      apiConfiguration: freeForm,
    },
    ['applicationId', 'projectId'],
  ),
  UpdateApplicationResponse: object({ changeDate: ref('Timestamp') }),
  GetApplicationRequest: object({ applicationId: str }, ['applicationId']),
  GetApplicationResponse: object({ application: ref('Application') }),
  ApplicationIds: object({ applicationId: str, projectId: str }, ['applicationId', 'projectId']),
  DeleteApplicationResponse: object({ deletionDate: ref('Timestamp') }),
  GenerateClientSecretResponse: object({ clientSecret: str, creationDate: ref('Timestamp') }),
  ListApplicationsRequest: object({
    pagination: ref('PaginationRequest'),
    sortingColumn: ref('ApplicationSorting'),
    filters: list(ref('ApplicationSearchFilter')),
  }),
  ListApplicationsResponse: object({ applications: list(ref('Application')), pagination: ref('PaginationResponse') }),

  // zitadel/user/v2/user.proto, query.proto, user_service.proto
  UserState: enumOf(
    'USER_STATE_UNSPECIFIED',
    'USER_STATE_ACTIVE',
    'USER_STATE_INACTIVE',
    'USER_STATE_DELETED',
    'USER_STATE_LOCKED',
    'USER_STATE_INITIAL',
  ),
  AccessTokenType: enumOf('ACCESS_TOKEN_TYPE_BEARER', 'ACCESS_TOKEN_TYPE_JWT'),
  MachineUser: object({ name: str, description: str, hasSecret: bool, accessTokenType: ref('AccessTokenType') }),
  User: object({
    userId: str,
    details: ref('Details'),
    state: ref('UserState'),
    username: str,
    loginNames: strings,
    preferredLoginName: str,
    human: freeForm,
    machine: ref('MachineUser'),
  }),
  UserFieldName: enumOf(
    'USER_FIELD_NAME_UNSPECIFIED',
    'USER_FIELD_NAME_USER_NAME',
    'USER_FIELD_NAME_FIRST_NAME',
    'USER_FIELD_NAME_LAST_NAME',
    'USER_FIELD_NAME_NICK_NAME',
    'USER_FIELD_NAME_DISPLAY_NAME',
    'USER_FIELD_NAME_EMAIL',
    'USER_FIELD_NAME_STATE',
    'USER_FIELD_NAME_TYPE',
    'USER_FIELD_NAME_CREATION_DATE',
  ),
  SearchQuery: oneOf({
    userNameQuery: object({ userName: str, method: ref('TextQueryMethod') }),
    firstNameQuery: freeForm,
    lastNameQuery: freeForm,
    nickNameQuery: freeForm,
    displayNameQuery: freeForm,
    emailQuery: freeForm,
    stateQuery: freeForm,
    typeQuery: object({ type: enumOf('TYPE_UNSPECIFIED', 'TYPE_HUMAN', 'TYPE_MACHINE') }),
    loginNameQuery: freeForm,
    inUserIdsQuery: freeForm,
    orQuery: freeForm,
    andQuery: freeForm,
    notQuery: freeForm,
    inUserEmailsQuery: freeForm,
    organizationIdQuery: object({ organizationId: str }),
    phoneQuery: freeForm,
  }),
  CreateUserRequest: object({
    organizationId: str,
    userId: str,
    username: str,
    human: freeForm,
    machine: object({ name: str, description: str }),
  }),
  CreateUserResponse: object({ id: str, creationDate: ref('Timestamp'), emailCode: str, phoneCode: str }),
  UserIdRequest: object({ userId: str }),
  GetUserByIDResponse: object({ details: ref('Details'), user: ref('User') }),
  ListUsersRequest: object({ query: ref('ListQuery'), sortingColumn: ref('UserFieldName'), queries: list(ref('SearchQuery')) }),
  ListUsersResponse: object({ details: ref('ListDetails'), sortingColumn: ref('UserFieldName'), result: list(ref('User')) }),
  AddSecretResponse: object({ creationDate: ref('Timestamp'), clientSecret: str }),
  DeleteUserResponse: object({ details: ref('Details') }),
  SetUserMetadataRequest: object({ userId: str, metadata: list(object({ key: str, value: ref('Bytes') })) }),
  SetUserMetadataResponse: object({ setDate: ref('Timestamp') }),
  // zitadel/metadata/v2/metadata.proto
  MetadataSearchFilter: oneOf({ keyFilter: object({ key: str, method: ref('TextFilterMethod') }) }),
  Metadata: object({ creationDate: ref('Timestamp'), changeDate: ref('Timestamp'), key: str, value: ref('Bytes') }),
  ListUserMetadataRequest: object({ userId: str, pagination: ref('PaginationRequest'), filters: list(ref('MetadataSearchFilter')) }),
  ListUserMetadataResponse: object({ pagination: ref('PaginationResponse'), metadata: list(ref('Metadata')) }),

  // zitadel/instance/v2/instance.proto, instance_service.proto
  Instance: object({
    id: str,
    changeDate: ref('Timestamp'),
    creationDate: ref('Timestamp'),
    state: enumOf('STATE_UNSPECIFIED', 'STATE_CREATING', 'STATE_RUNNING', 'STATE_STOPPING', 'STATE_STOPPED'),
    name: str,
    version: str,
    customDomains: list(object({ instanceId: str, creationDate: ref('Timestamp'), domain: str, primary: bool, generated: bool })),
  }),
  GetInstanceRequest: object({ instanceId: str }),
  // zitadel/auth.proto, zitadel/user.proto, zitadel/object.proto (v1)
  ListMyMembershipsRequest: object({
    query: ref('ListQuery'),
    queries: list(oneOf({ orgQuery: freeForm, projectQuery: freeForm, projectGrantQuery: freeForm, iamQuery: freeForm })),
  }),
  ListMyMembershipsResponse: object({
    details: object({ totalResult: ref('Uint64'), processedSequence: ref('Uint64'), viewTimestamp: ref('Timestamp') }),
    result: list(
      object({
        userId: str,
        details: object({ sequence: ref('Uint64'), creationDate: ref('Timestamp'), changeDate: ref('Timestamp'), resourceOwner: str }),
        roles: strings,
        displayName: str,
        iam: bool,
        orgId: str,
        projectId: str,
        projectGrantId: str,
      }),
    ),
  }),
  GetInstanceResponse: object({ instance: ref('Instance') }),
};

/** A Connect unary method: POST with the request message as JSON, 200 with the response, any error status with a Connect error. */
const method = (request, response) => ({
  post: {
    requestBody: { required: true, content: { 'application/json': { schema: ref(request) } } },
    responses: {
      200: { description: 'OK', content: { 'application/json': { schema: ref(response) } } },
      default: {
        description: 'A Connect error, with the HTTP status of its code',
        content: { 'application/json': { schema: ref('ConnectError') } },
      },
    },
  },
});

const APPLICATIONS = '/zitadel.application.v2.ApplicationService';
const USERS = '/zitadel.user.v2.UserService';
const paths = {
  [`${APPLICATIONS}/CreateApplication`]: method('CreateApplicationRequest', 'CreateApplicationResponse'),
  [`${APPLICATIONS}/GetApplication`]: method('GetApplicationRequest', 'GetApplicationResponse'),
  [`${APPLICATIONS}/ListApplications`]: method('ListApplicationsRequest', 'ListApplicationsResponse'),
  [`${APPLICATIONS}/UpdateApplication`]: method('UpdateApplicationRequest', 'UpdateApplicationResponse'),
  [`${APPLICATIONS}/DeleteApplication`]: method('ApplicationIds', 'DeleteApplicationResponse'),
  [`${APPLICATIONS}/GenerateClientSecret`]: method('ApplicationIds', 'GenerateClientSecretResponse'),
  [`${USERS}/CreateUser`]: method('CreateUserRequest', 'CreateUserResponse'),
  [`${USERS}/GetUserByID`]: method('UserIdRequest', 'GetUserByIDResponse'),
  [`${USERS}/ListUsers`]: method('ListUsersRequest', 'ListUsersResponse'),
  [`${USERS}/AddSecret`]: method('UserIdRequest', 'AddSecretResponse'),
  [`${USERS}/DeleteUser`]: method('UserIdRequest', 'DeleteUserResponse'),
  [`${USERS}/SetUserMetadata`]: method('SetUserMetadataRequest', 'SetUserMetadataResponse'),
  [`${USERS}/ListUserMetadata`]: method('ListUserMetadataRequest', 'ListUserMetadataResponse'),
  ['/zitadel.instance.v2.InstanceService/GetInstance']: method('GetInstanceRequest', 'GetInstanceResponse'),
  // v1 AuthService through its REST gateway (google.api.http: post "/memberships/me/_search" under /auth/v1).
  ['/auth/v1/memberships/me/_search']: method('ListMyMembershipsRequest', 'ListMyMembershipsResponse'),
};

const document = {
  openapi: '3.1.0',
  info: {
    title:
      'ZITADEL v4 ApplicationService, UserService and InstanceService (v2, Connect JSON) and AuthService ListMyMemberships (v1, REST), as the dcr-bridge adapter uses them',
    version: 'v4 (zitadel/zitadel main, 2026; see README.md for the commits)',
    license: { name: 'Apache-2.0 (ZITADEL proto/ directory)', identifier: 'Apache-2.0' },
  },
  paths,
  components: { schemas },
};
writeFileSync(new URL('./zitadel-v4.openapi.json', import.meta.url), `${JSON.stringify(document, null, 2)}\n`);
