// Client under test, phase "large-objects": the reference server drives the client; every message the client sends is
// also judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { clientScenarioTests } from '../../fixtures/conformance';
import { LARGE_OBJECT_SCENARIOS } from '../../harness/scenarios/client/large-objects';

clientScenarioTests(LARGE_OBJECT_SCENARIOS);
