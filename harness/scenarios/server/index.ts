/** Every scenario that tests a server, in phase order (catalogue section 6, column "server under test"). */
import type { Scenario } from '../scenario';
import { AUTH_SCENARIOS } from './auth';
import { CREDENTIAL_CHANGE_SCENARIOS } from './auth-credential-change';
import { COMMAND_SCENARIOS } from './commands';
import { FUZZ_SCENARIOS } from './fuzz';
import { LARGE_OBJECT_SCENARIOS } from './large-objects';
import { ROBUSTNESS_SCENARIOS } from './robustness';
import { SECURITY_SCENARIOS } from './security';
import { EDGE_SESSION_SCENARIOS, SESSION_SCENARIOS } from './sessions';
import type { ServerUnderTest } from './target';

export const SERVER_SCENARIOS: readonly Scenario<ServerUnderTest>[] = [
  ...SESSION_SCENARIOS, ...COMMAND_SCENARIOS, ...AUTH_SCENARIOS, ...CREDENTIAL_CHANGE_SCENARIOS, ...LARGE_OBJECT_SCENARIOS, ...ROBUSTNESS_SCENARIOS, ...SECURITY_SCENARIOS, ...FUZZ_SCENARIOS,
  ...EDGE_SESSION_SCENARIOS,
];

export type { ServerUnderTest } from './target';
