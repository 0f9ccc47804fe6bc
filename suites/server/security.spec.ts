// Server under test, "security": hostile XML, oversized bodies of unknown length, one device's SessionID sent by
// another, a replayed MD5 credential and protocol downgrade. Each test's annotations name the catalogue
// requirements it judges; weaknesses the catalogue is silent on are reported as security advisories, which never
// fail the run.
import { serverScenarioTests } from '../../fixtures/conformance';
import { SECURITY_SCENARIOS } from '../../harness/scenarios/server/security';

serverScenarioTests(SECURITY_SCENARIOS);
