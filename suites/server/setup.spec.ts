// Server under test, phase "setup": the reference device drives the server; every message it sends is also
// judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { serverScenarioTests } from '../../fixtures/conformance';
import { minimalSession, serverInitiatedAlert, wbxmlSessions } from '../../harness/scenarios/server/sessions';

serverScenarioTests([minimalSession, wbxmlSessions, serverInitiatedAlert]);
