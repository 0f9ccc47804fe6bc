// Client under test, phase "setup": the reference server drives the client; every message the client sends is
// also judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { clientScenarioTests } from '../../fixtures/conformance';
import { SETUP_SCENARIOS } from '../../harness/scenarios/client/setup';

clientScenarioTests(SETUP_SCENARIOS);
