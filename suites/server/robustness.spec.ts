// Server under test, phase "robustness": the reference device drives the server; every message it sends is also
// judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { serverScenarioTests } from '../../fixtures/conformance';
import { malformedRequests, windowsHabits } from '../../harness/scenarios/server/robustness';

serverScenarioTests([malformedRequests, windowsHabits]);
