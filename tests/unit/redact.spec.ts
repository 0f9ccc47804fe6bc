import { expect, test } from '@playwright/test';
import { createTestPki } from '../../harness/pki';
import { basicCredential, userPasswordHash } from '../../harness/protocol/auth';
import { REDACTED, Redactor, redactorFor } from '../../harness/report/redact';
import { exportSessions, marksOf, xmlAttachments } from '../../harness/report/transcript-export';
import type { Exchange } from '../../harness/transport';
import { parseSyncML } from '../../harness/syncml';

const r = new Redactor();

const CRED_MSG = (data: string) =>
  `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>` +
  `<Target><LocURI>https://mdm.example/x</LocURI></Target><Source><LocURI>DEV-1</LocURI></Source>` +
  `<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta>${data}</Cred></SyncHdr>` +
  `<SyncBody><Alert><CmdID>2</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>`;

test.describe('redaction: what no report file or attachment may hold', () => {
  test('private keys of every PEM kind, whole or cut short; certificates stay', () => {
    const pki = createTestPki({ keyType: 'ec' });
    const text = `${pki.device.certPem}\n${pki.device.keyPem}\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n`;
    const out = r.text(text);
    const keyBody = pki.device.keyPem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    expect(out).not.toContain(keyBody.slice(0, 40));
    expect(out).not.toContain('MIIEow');
    expect(out).toContain(pki.device.certPem.trim());
    expect(out).toContain(`-----BEGIN RSA PRIVATE KEY-----\n${REDACTED}\n-----END RSA PRIVATE KEY-----`);
    const cut = r.text(`log: ${pki.ca.keyPem.slice(0, 80)}`);
    expect(cut).toBe(`log: ${pki.ca.keyPem.slice(0, pki.ca.keyPem.indexOf('-----', 5) + 5)}\n${REDACTED}`);
  });

  test('Cred Data in the SyncHdr and in commands, plain, CDATA, with attributes or a prefix; other Data stays', () => {
    expect(r.text(CRED_MSG('<Data>c2VjcmV0</Data>'))).toBe(CRED_MSG(`<Data>${REDACTED}</Data>`));
    expect(r.text(CRED_MSG('<Data><![CDATA[c2VjcmV0]]></Data>'))).toBe(CRED_MSG(`<Data>${REDACTED}</Data>`));
    expect(r.text('<Cred>\n  <Meta/>\n  <Data xmlns="x:y/">abc</Data>\n</Cred>')).toBe(`<Cred>\n  <Meta/>\n  <Data xmlns="x:y/">${REDACTED}</Data>\n</Cred>`);
    expect(r.text('<s:Cred><s:Data>abc</s:Data></s:Cred>')).toBe(`<s:Cred><s:Data>${REDACTED}</s:Data></s:Cred>`);
    expect(r.text('<Alert><Cred><Data>abc</Data></Cred><Data>1201</Data></Alert>')).toBe(`<Alert><Cred><Data>${REDACTED}</Data></Cred><Data>1201</Data></Alert>`);
    // A self-closed Cred holds nothing, and must not make the Alert's own Data look like one.
    expect(r.text('<Cred/><Alert><Data>1201</Data></Alert>')).toBe('<Cred/><Alert><Data>1201</Data></Alert>');
    // In a JSON dump the markup is still there to be found.
    expect(r.text(JSON.stringify({ body: CRED_MSG('<Data>c2VjcmV0</Data>') }))).not.toContain('c2VjcmV0');
  });

  test('the Data of an Item that sets a DMAcc AAuthSecret (MDM-AUTH-030); the Data of other nodes stays', () => {
    const replace = (uri: string, data: string) => `<Replace><CmdID>4</CmdID><Item><Target><LocURI>${uri}</LocURI></Target><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Data>${data}</Data></Item></Replace>`;
    const secret = './SyncML/DMAcc/MDMConformance/AppAuth/CLCRED/AAuthSecret';
    expect(r.text(replace(secret, 'pw1'))).toBe(replace(secret, REDACTED));
    expect(r.text(replace('./SyncML/DMAcc/MDMConformance/AppAuth/CLCRED/AAuthName', 'dev-user'))).toContain('dev-user');
    expect(r.text(`${replace(secret, 'pw1')}${replace('./DevInfo/Lang', 'en-US')}`)).toBe(`${replace(secret, REDACTED)}${replace('./DevInfo/Lang', 'en-US')}`);
  });

  test('Authorization headers and the x-syncml-hmac mac, as header lines, maps, raw lists and JSON', () => {
    expect(r.text('POST /x HTTP/1.1\nAuthorization: Basic dXNlcjpwYXNz\nContent-Type: a')).toBe(`POST /x HTTP/1.1\nAuthorization: ${REDACTED}\nContent-Type: a`);
    expect(r.headers({ authorization: 'Bearer t0k3n', 'x-syncml-hmac': 'algorithm=MD5, username="u", mac=bWFjbWFj', accept: 'a' })).toEqual({
      authorization: REDACTED, 'x-syncml-hmac': `algorithm=MD5, username="u", mac=${REDACTED}`, accept: 'a',
    });
    expect(r.rawHeaders(['Authorization', 'Basic x', 'Host', 'h'])).toEqual(['Authorization', REDACTED, 'Host', 'h']);
    const json = JSON.stringify({ headers: { authorization: 'Basic dXNlcjpwYXNz' }, raw: ['Authorization', 'Basic dXNlcjpwYXNz'], hmac: 'x-syncml-hmac: algorithm=MD5, mac="bWFjbWFj"' });
    const out = r.text(json);
    expect(out).not.toContain('dXNlcjpwYXNz');
    expect(out).not.toContain('bWFjbWFj');
    expect(() => JSON.parse(out)).not.toThrow();
  });

  test('structured data: header maps by name and parsed Cred objects by field, in a deep copy', () => {
    const parsed = parseSyncML(CRED_MSG('<Data>c2VjcmV0</Data>')).message;
    const input = { headers: { Authorization: 'Basic abc' }, rawHeaders: ['authorization', 'Basic abc'], message: parsed };
    const out = r.json(input);
    expect(out.headers.Authorization).toBe(REDACTED);
    expect(out.rawHeaders).toEqual(['authorization', REDACTED]);
    expect(out.message.hdr.cred?.data?.text).toBe(REDACTED);
    expect(out.message.hdr.cred?.meta).toEqual(parsed.hdr.cred?.meta);
    expect(parsed.hdr.cred?.data?.text).toBe('c2VjcmV0');
  });

  test('a run\'s own credentials are literal secrets: the password and what it derives without a nonce', () => {
    const credentials = { scheme: 'syncml:auth-md5' as const, user: 'dev', password: 'hunter2!' };
    const red = redactorFor({ mode: 'server', reportsDir: '/r', startedAt: '', strict: false, seed: 1, suites: [], features: [], server: { embedded: true, serverCa: '', clientCert: '', clientKey: '', deviceId: 'd', credentials } });
    const text = `pw hunter2! basic ${basicCredential('dev', 'hunter2!')} hash ${userPasswordHash('dev', 'hunter2!')}`;
    expect(red.text(text)).toBe(`pw ${REDACTED} basic ${REDACTED} hash ${REDACTED}`);
    // Too short to be told apart from ordinary words: left to the structural patterns.
    expect(new Redactor(['abc']).text('abc')).toBe('abc');
  });
});

function exchange(index: number, request: string, response: string | undefined, extra: Partial<Exchange> = {}): Exchange {
  const msg = (body: string, status?: number) => {
    const buf = Buffer.from(body);
    let parsed;
    try {
      parsed = parseSyncML(buf);
    } catch {
      parsed = undefined;
    }
    return { status, method: status ? undefined : 'POST', url: status ? undefined : 'https://127.0.0.1:1/ManagementServer/MDM.svc', headers: { 'content-type': 'application/vnd.syncml.dm+xml', ...(status ? {} : { authorization: 'Basic dXNlcjpwYXNz' }) }, body: buf, parsed };
  };
  return { index, startedAt: 1, endedAt: 2, request: msg(request), response: response === undefined ? undefined : msg(response, 200), ...extra };
}

const REPLY = `<?xml version="1.0" encoding="UTF-8"?>\n<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>` +
  `<Target><LocURI>DEV-1</LocURI></Target><Source><LocURI>https://mdm.example/x</LocURI></Source></SyncHdr>` +
  `<SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>212</Data></Status>` +
  `<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>` +
  `<Get><CmdID>3</CmdID><Item><Target><LocURI>./DevDetail/SwV</LocURI></Target></Item></Get><Final/></SyncBody></SyncML>`;

test.describe('transcript export: the material of attachments and of the summary page', () => {
  const transcripts = [[exchange(0, CRED_MSG('<Data>c2VjcmV0</Data>'), REPLY), exchange(1, 'not xml at all', undefined, { error: { kind: 'timeout', message: 'no answer in 5000 ms' } })]];

  test('one XML document per direction: headers as a comment (after any XML declaration), then the redacted body', () => {
    const xml = xmlAttachments(transcripts, r);
    expect(xml.map((x) => x.name)).toEqual(['msg 1 device->server.xml', 'msg 2 server->device.xml', 'msg 3 device->server.xml']);
    expect(xml[0].body).toMatch(/^<!-- msg 1 device->server\nPOST https:\/\/127\.0\.0\.1:1\/ManagementServer\/MDM\.svc HTTP\/1\.1\ncontent-type: application\/vnd\.syncml\.dm\+xml\nauthorization: \[redacted\]\n-->\n<SyncML/);
    expect(xml[0].body).not.toContain('c2VjcmV0');
    expect(xml[0].body).not.toContain('dXNlcjpwYXNz');
    expect(xml[1].body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!-- msg 2 server->device\nHTTP/1.1 200')).toBe(true);
    expect(xml[2].body).toContain('(no usable reply: timeout: no answer in 5000 ms)');
    expect(xmlAttachments([...transcripts, transcripts[0]], r)[0].name).toBe('session 1 msg 1 device->server.xml');
  });

  test('sessions as messages and command rows in the evidence path convention, with references and failures', () => {
    const [s] = exportSessions(transcripts, r);
    expect(s.messages.map((m) => `${m.n} ${m.from}`)).toEqual(['1 device', '2 server', '3 device']);
    expect(s.messages[0].hdr).toMatchObject({ sessionID: '1', msgID: '1', cred: 'syncml:auth-md5' });
    expect(s.messages[0].body).not.toContain('c2VjcmV0');
    expect(s.messages[0].http.headers.authorization).toBe(REDACTED);
    expect(s.messages[1].commands).toEqual([
      { path: '/SyncBody/Status[1]', kind: 'Status', depth: 0, cmdID: '1', msgRef: '1', cmdRef: '0', cmd: 'SyncHdr', code: '212' },
      { path: '/SyncBody/Status[2]', kind: 'Status', depth: 0, cmdID: '2', msgRef: '1', cmdRef: '2', cmd: 'Alert', code: '200' },
      { path: '/SyncBody/Get', kind: 'Get', depth: 0, cmdID: '3', uris: ['./DevDetail/SwV'], items: 1 },
    ]);
    expect(s.messages[2].parseError).toBeTruthy();
    expect(s.failures).toEqual([{ n: 3, text: 'timeout: no answer in 5000 ms' }]);
  });

  test('marks: every message reference of a failed or warned finding, with its session', () => {
    const marks = marksOf([
      { finding: { id: 'MDM-ID-006', verdict: 'fail', check: 'c', evidence: 'msg 2 (server->device) /SyncBody/Status[2]/CmdRef: expected 2, found 5; see msg 1 (device->server)' }, graded: 'fail', session: 0 },
      { finding: { id: 'MDM-STS-014', verdict: 'warn', check: 'c', evidence: 'msg 4 (server->device) /SyncBody/Status[3]: a Status for 200 Results' }, graded: 'warn', session: null },
      { finding: { id: 'MDM-HDR-007', verdict: 'pass', check: 'c', evidence: 'msg 2 (server->device) /SyncHdr/SessionID' }, graded: 'pass' },
    ]);
    expect(marks.map((m) => [m.session, m.n, m.from, m.path ?? null, m.verdict])).toEqual([
      [0, 2, 'server', '/SyncBody/Status[2]/CmdRef', 'fail'],
      [0, 1, 'device', null, 'fail'],
      [null, 4, 'server', '/SyncBody/Status[3]', 'warn'],
    ]);
  });
});
