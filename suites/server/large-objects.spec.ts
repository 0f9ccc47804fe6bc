// Server under test, phase "large-objects": the reference device drives the server; every message it sends is also
// judged by the passive checks. Each test's annotations name the catalogue requirements it judges.
import { serverScenarioTests } from '../../fixtures/conformance';
import { deferredCommands, chunkedItem, maxObjSize, chunkedResults, resultsSizeMismatch, devicePackageSpansMessages } from '../../harness/scenarios/server/large-objects';

serverScenarioTests([deferredCommands, chunkedItem, maxObjSize, chunkedResults, resultsSizeMismatch, devicePackageSpansMessages]);
