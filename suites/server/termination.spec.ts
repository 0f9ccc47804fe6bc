// Server under test, phase "termination": the reference device drives the server; every message it sends is also
// judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { serverScenarioTests } from '../../fixtures/conformance';
import { deviceAbort, genericAlert } from '../../harness/scenarios/server/sessions';

serverScenarioTests([deviceAbort, genericAlert]);
