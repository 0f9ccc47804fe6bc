// Client under test, phase "get-results": the reference server drives the client; every message the client sends is
// also judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { clientScenarioTests } from '../../fixtures/conformance';
import { GET_RESULT_SCENARIOS } from '../../harness/scenarios/client/get-results';

clientScenarioTests(GET_RESULT_SCENARIOS);
