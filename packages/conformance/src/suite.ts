import { afterAll, describe } from 'vitest';
import { callsGroup } from './suite/calls.js';
import { contractGroup, errorAnswersGroup } from './suite/contract.js';
import { faultsGroup } from './suite/faults.js';
import { idpPlumbingGroup } from './suite/idp-plumbing.js';
import { lifecycleGroup } from './suite/lifecycle.js';
import { logsGroup } from './suite/logs.js';
import { racesGroup } from './suite/races.js';
import { recoveryGroup } from './suite/recovery.js';
import { rotationGroup } from './suite/rotation.js';
import { suiteRun } from './suite/run.js';
import { scenarioRegistry } from './suite/scenarios.js';
import type { ConformanceOptions } from './suite/target.js';

export { SCENARIOS, type ScenarioId } from './suite/scenarios.js';
export type {
  CallBudget,
  ConformanceBackdoor,
  ConformanceIdpPlumbing,
  ConformanceOptions,
  ConformanceTarget,
  OperationCalls,
} from './suite/target.js';

/**
 * The Konnect scenarios every adapter must pass, run through the real HTTP layer against the adapter and
 * checked at the IdP through a backdoor that does not go through the bridge. Groups share the target and
 * its bridge (set up once); each scenario makes its own clients, so any one runs alone (`vitest -t <id>`).
 * Opt-outs (`options.skip`) name the scenario and say why; an unknown id is an error.
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  const registry = scenarioRegistry(options.skip);
  describe(`Konnect conformance: ${options.name}`, () => {
    const run = suiteRun(options, registry.scenario);
    lifecycleGroup(run);
    contractGroup(run);
    racesGroup(run);
    rotationGroup(run);
    recoveryGroup(run);
    callsGroup(run);
    faultsGroup(run);
    logsGroup(run);
    idpPlumbingGroup(run);
    // Last: it scans every error answer the groups before it received.
    errorAnswersGroup(run);
    // Nested groups are declared after this callback returns: check once every test has run.
    afterAll(() => registry.checkComplete());
  });
}
