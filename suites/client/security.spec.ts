// Client under test, "security": external entities and entity expansion in replies, protocol downgrade and LocURI
// path tricks. Each test's annotations name the catalogue requirements it judges; weaknesses the catalogue is silent
// on are reported as security advisories, which never fail the run.
import { clientScenarioTests } from '../../fixtures/conformance';
import { SECURITY_SCENARIOS } from '../../harness/scenarios/client/security';

clientScenarioTests(SECURITY_SCENARIOS);
