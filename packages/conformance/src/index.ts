export {
  runConformanceSuite,
  SCENARIOS,
  type CallBudget,
  type ConformanceBackdoor,
  type ConformanceIdpPlumbing,
  type ConformanceOptions,
  type ConformanceTarget,
  type OperationCalls,
  type ScenarioId,
} from './suite.js';
export { startBridge, type BridgeHarness, type HarnessResponse } from './harness.js';
export { auditLedger, createLedger, runKonnectLoad, type AuditReport, type Call, type KonnectLedger, type LoadOptions } from './load.js';
export { konnectApplication, konnectEvent, konnectVerifyApplication } from './payloads.js';
export { operationContext } from './operation-context.js';
export { createCapturingLogger, type CapturedLine, type CapturingLogger } from './capturing-logger.js';
export {
  clientCredentials,
  createFakeIdpKit,
  FAULT_KINDS,
  listenOnLoopback,
  type FakeIdpKit,
  type FaultKind,
  type FaultPlan,
  type InjectedFault,
  type LoopbackServer,
} from './fake-kit.js';
export { runStoreDriverContract, type StoreDriverContractOptions } from './store-driver.js';
export { createApiDescription, type ApiDescription, type ApiDescriptionOptions, type OpenApiDocument } from './api-description.js';
