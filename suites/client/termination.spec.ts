// Client under test, phase "termination": the reference server drives the client; every message the client sends is
// also judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { clientScenarioTests } from '../../fixtures/conformance';
import { TERMINATION_SCENARIOS } from '../../harness/scenarios/client/termination';

clientScenarioTests(TERMINATION_SCENARIOS);
