// Server under test, phase "auth": the reference device drives the server; every message it sends is also
// judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { serverScenarioTests } from '../../fixtures/conformance';
import { AUTH_SCENARIOS } from '../../harness/scenarios/server/auth';

serverScenarioTests(AUTH_SCENARIOS);
