// Client under test, phase "auth": the reference server drives the client; every message the client sends is
// also judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { clientScenarioTests } from '../../fixtures/conformance';
import { AUTH_SCENARIOS } from '../../harness/scenarios/client/auth';

clientScenarioTests(AUTH_SCENARIOS);
