// Server under test, "fuzz": a bounded, seeded batch of mutated messages; a crash or a 5xx fails MDM-ROB-006
// with the seed and the minimal message in the evidence.
import { serverScenarioTests } from '../../fixtures/conformance';
import { mutatedRequests } from '../../harness/scenarios/server/fuzz';

serverScenarioTests([mutatedRequests]);
