/** Every scenario that tests a client, in phase order (catalogue section 6, column "client under test"). */
import type { Scenario } from '../scenario';
import { AUTH_SCENARIOS } from './auth';
import { CREDENTIAL_CHANGE_SCENARIOS } from './auth-credential-change';
import { COMMAND_SCENARIOS } from './commands';
import { GET_RESULT_SCENARIOS } from './get-results';
import { LARGE_OBJECT_SCENARIOS } from './large-objects';
import { MANAGEMENT_SCENARIOS } from './management';
import { ROBUSTNESS_SCENARIOS } from './robustness';
import { SECURITY_SCENARIOS } from './security';
import { SETUP_SCENARIOS } from './setup';
import type { ClientUnderTest } from './target';
import { TERMINATION_SCENARIOS } from './termination';

export const CLIENT_SCENARIOS: readonly Scenario<ClientUnderTest>[] = [
  ...SETUP_SCENARIOS, ...GET_RESULT_SCENARIOS, ...MANAGEMENT_SCENARIOS, ...COMMAND_SCENARIOS, ...TERMINATION_SCENARIOS,
  ...AUTH_SCENARIOS, ...CREDENTIAL_CHANGE_SCENARIOS, ...LARGE_OBJECT_SCENARIOS, ...ROBUSTNESS_SCENARIOS, ...SECURITY_SCENARIOS,
];

export { DEFAULT_CLIENT_NODES, type ClientNodes, type ClientUnderTest, type Trigger, type TriggerOptions, type TriggerResult } from './target';
