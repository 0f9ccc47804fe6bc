// Server under test, phase "management-rounds": the reference device drives the server; every message it sends is also
// judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { serverScenarioTests } from '../../fixtures/conformance';
import { managementRounds, errorStatuses, stopsAfter214 } from '../../harness/scenarios/server/sessions';

serverScenarioTests([managementRounds, errorStatuses, stopsAfter214]);
