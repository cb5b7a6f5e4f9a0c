/**
 * `@dcr-bridge/core`: what an adapter author needs to define an adapter (the contract, the errors, the
 * lifecycle, the module the server loads, settings, naming, the logger type and the stores). It loads no
 * third-party package at import time: no web framework, no HTTP client, no OAuth library (see the README,
 * "Entry points", and test/entry-points.test.ts). The IdP plumbing is `@dcr-bridge/core/idp`, the HTTP layer
 * `@dcr-bridge/core/http`.
 */
export type {
  AdapterCapabilities,
  AdapterDiagnostics,
  ClientEvent,
  ClientContext,
  ClientRegistration,
  CreateContext,
  CreatedClient,
  DcrAdapter,
  DiagnosticCheck,
  EventApplication,
  IdpPrimitives,
  KonnectReferences,
  OAuthGrantType,
  OperationContext,
  ReadinessReport,
  RecoveryReport,
  RegistrationRules,
  RotatedSecret,
  ScopeRules,
  ClientSecrets,
  IdpSecret,
  IdpVersion,
  RotationMode,
  SecretValue,
} from './contract.js';
export { OAUTH_GRANT_TYPES } from './contract.js';
export { BridgeError, isBridgeError, notReady, type BridgeErrorCode, type BridgeErrorOptions } from './errors.js';
export {
  JOURNAL_PREFIX,
  defineDcrAdapter,
  lifecycleSettings,
  type JournalEntry,
  type LifecycleOptions,
  type LifecycleSettings,
} from './lifecycle.js';
export { RESTORE_PREFIX, ROTATION_PREFIX, rotationMode, type RestoreRecord, type SecretsRecord } from './rotation.js';
export {
  isAdapterModule,
  readAdapterOptions,
  type AdapterContext,
  type AdapterModule,
  type CommonAdapterOptions,
  type SettingsOptions,
} from './adapter-module.js';
export {
  COMMON_ADAPTER_SETTINGS,
  defineAdapterSettings,
  defineSettings,
  INSECURE_HTTP,
  parseDuration,
  readSettings,
  setting,
  settingName,
  settingNamesOf,
  type OptionsOf,
  type Setting,
  type SettingNames,
  type SettingsCheckContext,
  type SettingsDeclaration,
  type SettingsResult,
  type SettingsSchema,
  type SettingValues,
} from './settings.js';
export { generateSecret, hasOwnershipMarkerLine, ownershipMarkerLine, uniqueName, type UniqueNameOptions } from './naming.js';
export { silentLogger, type LogFields, type LogLevel, type Logger } from './logger.js';
export {
  compareCodePoints,
  createEncryptedStore,
  createJsonStore,
  createMemoryDriver,
  parseStoreKey,
  prefixUpperBound,
  type EncryptedStoreOptions,
  type StateStore,
  type StoreDriver,
} from './store.js';
