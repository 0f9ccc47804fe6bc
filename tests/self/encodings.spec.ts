/**
 * Both encodings through the reference peers: WBXML sessions both ways, judged like XML ones, shown decoded in the
 * report material with secrets kept out; the media type faults detected on their requirement; and the command line
 * running every scenario in WBXML.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLIENT_CHECKS, type ClientSessionView } from '../../harness/checks/client-checks';
import { runChecks, type Finding } from '../../harness/checks/finding';
import { accepts, SERVER_CHECKS } from '../../harness/checks/server-checks';
import { DEVICE_FAULTS } from '../../harness/device/faults';
import { ReferenceDevice } from '../../harness/device/reference-device';
import { EMBEDDED_CLIENT_FEATURES, startEmbeddedClient } from '../../harness/iut/embedded-client';
import { EMBEDDED_FEATURES, startEmbeddedServer } from '../../harness/iut/embedded-server';
import { createTestPki } from '../../harness/pki';
import { faultByName, runOptionsOf, type Fault } from '../../harness/protocol/fault';
import { Redactor } from '../../harness/report/redact';
import { reportSchemaErrors, type ConformanceReport } from '../../harness/report/report';
import { writeRepro } from '../../harness/report/repro';
import { exportSessions, xmlAttachments } from '../../harness/report/transcript-export';
import { CLIENT_SCENARIOS } from '../../harness/scenarios/client';
import { featuresFor, runAll } from '../../harness/scenarios/matrix';
import { SERVER_SCENARIOS } from '../../harness/scenarios/server';
import { SERVER_FAULTS } from '../../harness/server/faults';
import { ReferenceServer } from '../../harness/server/reference-server';
import { decodeWbxml, encodeWbxml, get, parseSyncMLWbxml, WBXML_MEDIA_TYPE, XML_MEDIA_TYPE } from '../../harness/syncml';
import { nodeToXml, parseXml } from '../../harness/syncml/xml';
import { runCli, scaled } from './run-cli';

const pki = createTestPki({ keyType: 'ec' });
const CREDS = { scheme: 'syncml:auth-md5' as const, user: 'wbxml-user', password: 'Wbxml-S3cret!' };
const verdicts = (findings: Finding[], id: string) => findings.filter((f) => f.id === id).map((f) => f.verdict);

/** One session of a device in `encoding` against a reference server with MD5, a Get queued. */
async function pairSession(encoding: 'xml' | 'wbxml') {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, clientAuth: CREDS });
  const url = await server.start();
  server.queue(pki.deviceId, get('./DevDetail/SwV'));
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, credentials: CREDS, preemptiveAuth: false, encoding });
  try {
    return await device.runSession(url);
  } finally {
    await device.close();
    await server.stop();
  }
}

test.describe('the reference pair in WBXML', () => {
  test('a device provisioned WBXML gets WBXML answers: every message both ways is WBXML in its media type, and the session is judged like an XML one', async () => {
    const run = await pairSession('wbxml');
    expect(run.end).toEqual({ reason: 'completed' });
    expect(run.exchanges.length).toBeGreaterThanOrEqual(3); // challenge, authenticated package 1, Results
    for (const x of run.exchanges) {
      for (const m of [x.request, x.response!]) {
        expect(m.headers['content-type']).toBe(WBXML_MEDIA_TYPE);
        expect(m.body[0], 'a WBXML version byte').toBe(0x03);
        expect(m.parsed, m.parseError?.message).toBeDefined();
      }
    }
    // Windows' Accept is sent unchanged: both encodings.
    expect(run.exchanges[0].request.headers.accept).toContain(XML_MEDIA_TYPE);
    expect(run.view.exchanges.some((x) => x.response?.syncml?.body.commands.some((c) => c.kind === 'Get'))).toBe(true);
    const server = runChecks(SERVER_CHECKS, run.view);
    expect(server.filter((f) => f.verdict !== 'pass').map((f) => `${f.id}: ${f.evidence}`)).toEqual([]);
    for (const id of ['MDM-TRN-005', 'MDM-TRN-007', 'MDM-TRN-008']) expect(verdicts(server, id), id).toEqual(['pass']);
    // The client side of the same traffic: WBXML is right for a device provisioned WBXML, wrong for one that was not.
    const view = (encoding: 'xml' | 'wbxml'): ClientSessionView => ({ ...run.view, encoding });
    expect(verdicts(runChecks(CLIENT_CHECKS, view('wbxml')), 'MDM-TRN-006')).toEqual(['pass']);
    const unprovisioned = runChecks(CLIENT_CHECKS, view('xml')).filter((f) => f.id === 'MDM-TRN-006');
    expect(unprovisioned[0].verdict).toBe('fail');
    expect(unprovisioned[0].evidence).toMatch(/^msg 1 \(device->server\): the body is WBXML, yet the client was provisioned no encoding/);
  });

  test('the server answers each request in its own encoding: XML to an XML device, WBXML to a WBXML one', async () => {
    const xml = await pairSession('xml');
    expect(xml.exchanges.every((x) => x.response?.headers['content-type'] === XML_MEDIA_TYPE && x.response.body.toString().startsWith('<SyncML'))).toBe(true);
    const server = runChecks(SERVER_CHECKS, xml.view);
    expect(verdicts(server, 'MDM-TRN-008')).toEqual(['pass']);
    // No WBXML request, nothing for MDM-TRN-007 to judge: it is left to the scenario that sends WBXML.
    expect(verdicts(server, 'MDM-TRN-007')).toEqual([]);
  });

  test('transcripts show WBXML decoded as XML beside its bytes; the MD5 credential is redacted in the XML and masked in the bytes', async () => {
    const run = await pairSession('wbxml');
    const withCred = run.exchanges.find((x) => x.request.parsed?.message.hdr.cred)!;
    const secret = withCred.request.parsed!.message.hdr.cred!.data!.text;
    expect(secret.length).toBeGreaterThan(8);
    const r = new Redactor([CREDS.password]);

    const attachments = xmlAttachments([run.exchanges], r);
    expect(attachments.map((a) => a.name)).toContain('msg 1 device->server.xml');
    for (const a of attachments) {
      expect(a.body, a.name).toMatch(/WBXML body of \d+ bytes, decoded to XML below/);
      expect(a.body, a.name).toContain('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>');
      expect(a.body, a.name).toMatch(/<!-- WBXML bytes\n00000000 {2}03 /);
      expect(a.body, a.name).not.toContain(secret);
      expect(a.body, a.name).not.toContain(CREDS.password);
    }
    const credAttachment = attachments.find((a) => a.body.includes('<Cred>'))!;
    expect(credAttachment.body).toMatch(/<Cred>.*<Data>\[redacted\]<\/Data><\/Cred>/);
    expect(credAttachment.body).toMatch(/2a 2a 2a 2a 2a 2a 2a 2a/); // the secret's bytes starred out in the hex

    const [session] = exportSessions([run.exchanges], r);
    for (const m of session.messages) {
      expect(m.bodyEncoding).toBe('base64');
      expect(m.decoded, `msg ${m.n}`).toContain('<SyncML');
      const bytes = Buffer.from(m.body, 'base64');
      expect(bytes.byteLength, 'masking keeps the length').toBe(m.bytes);
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
      // The masked bytes still decode: a grader reading the export sees the same message, its secret starred out.
      expect(parseSyncMLWbxml(bytes).message.hdr.sessionID).toBe(run.sessionID);
    }
    const exported = session.messages.find((m) => m.decoded?.includes('<Cred>'))!;
    expect(exported.decoded).toContain('<Data>[redacted]</Data>');
    expect(JSON.stringify(session)).not.toContain(secret);
  });

  test('a repro folder keeps WBXML requests and replies as bytes, the credential masked, and replays them with their media type', async () => {
    const run = await pairSession('wbxml');
    const secret = run.exchanges.find((x) => x.request.parsed?.message.hdr.cred)!.request.parsed!.message.hdr.cred!.data!.text;
    const reports = mkdtempSync(join(tmpdir(), 'mdm-wbxml-repro-'));
    const script = writeRepro({
      reportsDir: reports, scenario: 'setup/wbxml-sessions', title: 'WBXML', failures: [], transcripts: [run.exchanges],
      target: { cert: 'device.pem', key: 'device-key.pem', cacert: 'ca.pem' }, redactor: new Redactor([CREDS.password]),
    });
    const dir = dirname(script);
    const files = readdirSync(dir).sort();
    expect(files).toContain('s1-msg1.wbxml');
    expect(files).toContain('s1-msg2.recorded.wbxml');
    for (const f of files.filter((x) => x.endsWith('.wbxml'))) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
      expect(parseSyncMLWbxml(bytes).message.hdr.sessionID, f).toBe(run.sessionID);
    }
    expect(readFileSync(script, 'utf8')).toContain(`-H 'content-type: ${WBXML_MEDIA_TYPE}'`);
  });

  test('a secret the masking cannot reach whole is redacted by re-encoding the document instead', () => {
    // A Cred Data written as two strings with an entity between them is not one run of bytes.
    const whole = Buffer.from(encodeWbxml(parseXml('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><Cred><Data>abcdefghij</Data></Cred></SyncHdr></SyncML>')));
    const inline = Buffer.concat([Buffer.from([0x03]), Buffer.from('abcdefghij'), Buffer.from([0x00])]);
    const split = Buffer.concat([Buffer.from([0x03]), Buffer.from('abc'), Buffer.from([0x00, 0x02, 0x26, 0x03]), Buffer.from('defghij'), Buffer.from([0x00])]);
    const at = whole.indexOf(inline);
    expect(at).toBeGreaterThan(0);
    const bytes = Buffer.concat([whole.subarray(0, at), split, whole.subarray(at + inline.length)]);
    expect(nodeToXml(decodeWbxml(bytes))).toContain('<Data>abc&amp;defghij</Data>');
    const out = new Redactor().wbxml(bytes);
    expect(nodeToXml(decodeWbxml(out))).toContain('<Cred><Data>[redacted]</Data></Cred>');
    expect(out.includes(Buffer.from('defghij'))).toBe(false);
    // Where masking reaches the secret, the bytes keep their length and only the secret changes.
    const masked = new Redactor().wbxml(whole);
    expect(masked.byteLength).toBe(whole.byteLength);
    expect(nodeToXml(decodeWbxml(masked))).toContain('<Data>**********</Data>');
  });
});

test('what a device can decode is what its Accept admits (RFC 9110 12.5.1): listed, by a range, never with weight 0', () => {
  const windows = 'application/vnd.syncml.dm+xml, application/vnd.syncml.dm+wbxml, application/octet-stream';
  expect(accepts(windows, XML_MEDIA_TYPE)).toBe(true);
  expect(accepts(windows, WBXML_MEDIA_TYPE)).toBe(true);
  expect(accepts(WBXML_MEDIA_TYPE, XML_MEDIA_TYPE)).toBe(false);
  expect(accepts(undefined, XML_MEDIA_TYPE)).toBe(true);
  expect(accepts('application/*', XML_MEDIA_TYPE)).toBe(true);
  expect(accepts('*/*;q=0', XML_MEDIA_TYPE)).toBe(false);
  expect(accepts(`${XML_MEDIA_TYPE};q=0, ${WBXML_MEDIA_TYPE}`, XML_MEDIA_TYPE)).toBe(false);
  expect(accepts(`${XML_MEDIA_TYPE.toUpperCase()}; q=0.5`, XML_MEDIA_TYPE)).toBe(true);
});

/** Runs the scenarios against a peer with one fault until `id` fails; the findings for `id`. */
async function detect<T extends { seed?: number }>(
  fault: Fault<unknown>, scenarios: readonly Parameters<typeof runAll<T>>[0][number][], features: Parameters<typeof featuresFor>[0],
  start: () => Promise<{ target: T; stop(): Promise<void> }>, id: string,
): Promise<Finding[]> {
  const peer = await start();
  try {
    const findings = await runAll(scenarios, peer.target, featuresFor(features, runOptionsOf([fault])), (f) => f.some((x) => x.id === id && x.verdict === 'fail' && !x.consequenceOf));
    return findings.filter((f) => f.id === id && f.verdict !== 'pass');
  } finally {
    await peer.stop();
  }
}

test.describe('encoding faults are detected on their requirement', () => {
  const SERVER_CASES: [string, string, RegExp][] = [
    ['answers-wbxml-in-xml', 'MDM-TRN-007', /answered a WBXML request in application\/vnd\.syncml\.dm\+xml, which the device does not decode: its Accept is "application\/vnd\.syncml\.dm\+wbxml"/],
    ['wbxml-labelled-xml', 'MDM-TRN-005', /the body is WBXML but its Content-Type is application\/vnd\.syncml\.dm\+xml/],
  ];
  for (const [name, id, evidence] of SERVER_CASES) {
    test(`server fault ${name}: ${id}`, async () => {
      const fault = faultByName(SERVER_FAULTS, name);
      const found = await detect(fault as Fault<unknown>, SERVER_SCENARIOS, EMBEDDED_FEATURES, () => startEmbeddedServer({ pki, faults: [fault] }), id);
      expect(found.map((f) => f.evidence).join('\n')).toMatch(evidence);
    });
  }

  test('a server that answers WBXML in XML passes MDM-TRN-007 for Windows, which accepts XML, and is warned on MDM-TRN-008', async () => {
    const fault = faultByName(SERVER_FAULTS, 'answers-wbxml-in-xml');
    const embedded = await startEmbeddedServer({ pki, faults: [fault] });
    const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, credentials: embedded.target.credentials, encoding: 'wbxml' });
    try {
      const run = await device.runSession(embedded.target.url);
      expect(run.end).toEqual({ reason: 'completed' });
      const findings = runChecks(SERVER_CHECKS, run.view);
      expect(verdicts(findings, 'MDM-TRN-007')).toEqual(['pass']);
      expect(findings.find((f) => f.id === 'MDM-TRN-008')?.evidence).toMatch(/answered application\/vnd\.syncml\.dm\+xml to a request in application\/vnd\.syncml\.dm\+wbxml/);
    } finally {
      await device.close();
      await embedded.stop();
    }
  });

  const DEVICE_CASES: [string, string, RegExp][] = [
    ['wbxml-labelled-xml', 'MDM-TRN-005', /the body is WBXML but its Content-Type is application\/vnd\.syncml\.dm\+xml/],
    ['xml-labelled-wbxml', 'MDM-TRN-005', /the body is XML but its Content-Type is application\/vnd\.syncml\.dm\+wbxml/],
    ['wbxml-unprovisioned', 'MDM-TRN-006', /the body is WBXML, yet the client was provisioned no encoding/],
  ];
  for (const [name, id, evidence] of DEVICE_CASES) {
    test(`device fault ${name}: ${id}`, async () => {
      const fault = faultByName(DEVICE_FAULTS, name);
      const found = await detect(fault as Fault<unknown>, CLIENT_SCENARIOS, EMBEDDED_CLIENT_FEATURES, () => startEmbeddedClient({ pki, faults: [fault] }), id);
      expect(found.map((f) => f.evidence).join('\n')).toMatch(evidence);
    });
  }

  test('a mislabelled body is one failure: its unreadable document is listed under MDM-TRN-005, not failed again', async () => {
    const fault = faultByName(DEVICE_FAULTS, 'wbxml-labelled-xml');
    const embedded = await startEmbeddedClient({ pki, faults: [fault] });
    try {
      const findings = await runAll(CLIENT_SCENARIOS.slice(0, 1), embedded.target, featuresFor(EMBEDDED_CLIENT_FEATURES, { encoding: 'wbxml' }));
      const xml001 = findings.filter((f) => f.id === 'MDM-XML-001' && f.verdict === 'fail');
      expect(xml001.length).toBeGreaterThan(0);
      expect(xml001.every((f) => f.consequenceOf === 'MDM-TRN-005')).toBe(true);
    } finally {
      await embedded.stop();
    }
  });
});

test.describe('the command line in WBXML', () => {
  test.describe.configure({ timeout: scaled(150_000) });
  const report = (dir: string) => JSON.parse(readFileSync(join(dir, 'conformance-report.json'), 'utf8')) as ConformanceReport;
  const row = (r: ConformanceReport, id: string) => r.requirements.find((x) => x.id === id)!;

  test('test-server --encoding wbxml: every scenario in WBXML against the embedded server, exit 0, wbxml declared, MDM-TRN-007 passed', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'mdm-wbxml-server-'));
    const run = await runCli(['test-server', '--encoding', 'wbxml', '--reports', reports], scaled(140_000));
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('in WBXML');
    const r = report(reports);
    expect(reportSchemaErrors(r)).toEqual([]);
    expect(r.summary.failed).toBe(0);
    expect((r.iut as { features: string[] }).features).toContain('wbxml');
    for (const id of ['MDM-TRN-005', 'MDM-TRN-007', 'MDM-TRN-008']) expect(row(r, id).verdict, id).toBe('pass');
    // The report material shows the WBXML messages decoded, the credentials of the embedded MD5 account redacted.
    const material = readFileSync(join(reports, 'conformance-tests.json'), 'utf8');
    expect(material).toContain('"decoded":"<SyncML xmlns=\\"SYNCML:SYNCML1.2\\">');
    expect(material).toContain('<Data>[redacted]</Data></Cred>');
  });

  test('test-client --encoding wbxml: the embedded device provisioned WBXML, exit 0, MDM-TRN-006 passed', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'mdm-wbxml-client-'));
    const run = await runCli(['test-client', '--encoding', 'wbxml', '--reports', reports], scaled(140_000));
    expect(run.code, run.out).toBe(0);
    const r = report(reports);
    expect(reportSchemaErrors(r)).toEqual([]);
    expect(r.summary.failed).toBe(0);
    expect((r.iut as { features: string[] }).features).toContain('wbxml');
    for (const id of ['MDM-TRN-005', 'MDM-TRN-006']) expect(row(r, id).verdict, id).toBe('pass');
  });

  test('--encoding takes xml or wbxml: anything else is a usage error (exit 2) naming both', async () => {
    for (const command of ['test-server', 'test-client', 'device', 'load']) {
      const run = await runCli([command, '--encoding', 'json', ...(command === 'device' ? ['--url', 'https://127.0.0.1:9/x', '--device-id', 'D'] : []), ...(command === 'load' ? ['--sessions', '1'] : [])], scaled(30_000));
      expect(run.code, `${command}: ${run.out}`).toBe(2);
      expect(run.out, command).toContain('--encoding takes xml or wbxml, not "json"');
    }
  });
});
