// The get-results suite of client conformance: one test per scenario of the suite (harness/scenarios/catalog.ts), each
// judged by its own checks and by the passive checks on every message. Tags name the requirements judged.
import { clientScenarioTests } from '../../fixtures/conformance';
import { scenariosOf } from '../../harness/scenarios/catalog';

clientScenarioTests(scenariosOf('client', 'get-results'));
