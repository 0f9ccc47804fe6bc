import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  add, alert, atomic, codeOf, get, message, meta, parseSyncML, replace, results, serializeSyncML, status, SyncMLParseError,
  type Status, type SyncML,
} from '../../harness/syncml';

const sample = (name: string) => readFileSync(join(__dirname, '../../fixtures/messages', name), 'utf8');

function parseError(input: string | Uint8Array, limits?: Parameters<typeof parseSyncML>[1]): SyncMLParseError {
  try {
    parseSyncML(input, limits);
  } catch (e) {
    if (e instanceof SyncMLParseError) return e;
    throw e;
  }
  throw new Error('expected a SyncMLParseError');
}

test.describe('fidelity of the codec (MDM-XML-001, MDM-XML-002, MDM-XML-012)', () => {
  test('numbers stay raw text: 1.2, 007 and 0x1A are not coerced', () => {
    const xml = sample('a-package1.xml')
      .replace('<SessionID>4A</SessionID>', '<SessionID>007</SessionID>')
      .replace('<Data>1.3</Data>', '<Data>0x1A</Data>');
    const { message } = parseSyncML(xml);
    expect(message.hdr.verDTD).toBe('1.2');
    expect(message.hdr.sessionID).toBe('007');
    const devInfo = message.body.commands[2];
    expect(devInfo.kind === 'Replace' && devInfo.items[3].data?.text).toBe('0x1A');
    expect(serializeSyncML(message)).toContain('<SessionID>007</SessionID>');
  });

  test('namespaces and msft attributes survive a round trip', () => {
    const xml =
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID>' +
      '<Target><LocURI>https://s</LocURI></Target><Source><LocURI>dev</LocURI></Source></SyncHdr>' +
      '<SyncBody xmlns:msft="http://schemas.microsoft.com/MobileDevice/MDM">' +
      '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>5</CmdRef><Cmd>Replace</Cmd><Data msft:originalerror="0x86000002">405</Data></Status>' +
      '<Final/></SyncBody></SyncML>';
    const parsed = parseSyncML(xml);
    expect(parsed.deviations).toEqual([]);
    expect(parsed.message.body.attrs).toEqual({ 'xmlns:msft': 'http://schemas.microsoft.com/MobileDevice/MDM' });
    const st = parsed.message.body.commands[0] as Status;
    expect(codeOf(st)).toBe('405');
    expect(st.data?.attrs).toEqual({ 'msft:originalerror': '0x86000002' });
    expect(serializeSyncML(parsed.message)).toBe(xml);
  });

  test('CDATA and whitespace inside Data are kept exactly (MDM-XML-009)', () => {
    const payload = '  <wap-provisioningdoc>\n\t<characteristic type="x"/>\n</wap-provisioningdoc>  ';
    const msg = message({ sessionID: '1', msgID: 1, target: 'dev', source: 'https://s', commands: [replace('./Vendor/MSFT/X', payload)], final: true });
    const withCdata = structuredClone(msg);
    const cmd = withCdata.body.commands[0];
    if (cmd.kind !== 'Replace') throw new Error('unexpected');
    cmd.items[0].data = { text: payload, cdata: true };
    for (const m of [msg, withCdata]) {
      const back = parseSyncML(serializeSyncML(m)).message;
      expect(back).toEqual(m);
    }
    expect(serializeSyncML(withCdata)).toContain('<![CDATA[  <wap-provisioningdoc>');
    expect(serializeSyncML(msg)).toContain('&lt;wap-provisioningdoc&gt;');
  });

  test('Data holding namespaced markup is kept as nodes and re-serialized unchanged', () => {
    const inner = '<MsiInstallJob xmlns="urn:x" id="{A}"><Product Version="1.0"/></MsiInstallJob>';
    const xml = serializeSyncML(message({ sessionID: '1', msgID: 1, target: 'd', source: 's', commands: [], final: true }))
      .replace('<SyncBody>', `<SyncBody><Exec><CmdID>2</CmdID><Item><Target><LocURI>./A</LocURI></Target><Data>${inner}</Data></Item></Exec>`);
    const parsed = parseSyncML(xml);
    const exec = parsed.message.body.commands[0];
    expect(exec.kind === 'Exec' && exec.items[0].data?.markup?.length).toBe(1);
    expect(serializeSyncML(parsed.message)).toContain(inner);
  });

  test('pretty-printed input parses like compact input (catalogue 3.7 skeletons)', () => {
    const pretty = parseSyncML(sample('b-package2.xml')).message;
    const compact = parseSyncML(serializeSyncML(pretty)).message;
    expect(compact).toEqual(pretty);
    expect(pretty.body.commands.map((c) => c.kind)).toEqual(['Status', 'Status', 'Status', 'Status', 'Get', 'Replace', 'Atomic']);
  });

  test('the serializer writes DTD order whatever order the model was built in (MDM-STS-001, MDM-HDR-001)', () => {
    const st: Status = { kind: 'Status', data: { text: '200' }, items: [], sourceRefs: ['./B'], targetRefs: ['./A'], cmd: 'Get', cmdRef: '3', msgRef: '1', cmdID: '1' };
    const msg: SyncML = {
      attrs: { xmlns: 'SYNCML:SYNCML1.2' },
      body: { final: true, commands: [st] },
      hdr: { meta: meta({ maxMsgSize: 1000 }), source: { locURI: 's' }, target: { locURI: 'd' }, msgID: '1', sessionID: '1', verProto: 'DM/1.2', verDTD: '1.2' },
    };
    const xml = serializeSyncML(msg);
    expect(xml).toMatch(/<VerDTD>.*<VerProto>.*<SessionID>.*<MsgID>.*<Target>.*<Source>.*<Meta>/);
    expect(xml).toMatch(/<CmdID>1<\/CmdID><MsgRef>1<\/MsgRef><CmdRef>3<\/CmdRef><Cmd>Get<\/Cmd><TargetRef>\.\/A<\/TargetRef><SourceRef>\.\/B<\/SourceRef><Data>200<\/Data>/);
    expect(parseSyncML(xml).deviations).toEqual([]);
  });

  test('builders cover every command and produce conforming messages', () => {
    const msg = message({
      sessionID: 'A1', msgID: 3, target: 'dev', source: 'https://s', final: true,
      commands: [
        status({ cmdID: 1, msgRef: '2', cmdRef: '0', cmd: 'SyncHdr', code: 200 }),
        alert('1226', [], 2),
        { ...get('./DevDetail/SwV', './DevInfo/Lang'), cmdID: '3' },
        { ...atomic({ ...add('./Vendor/MSFT/T/a', 'x', { format: 'chr' }), cmdID: '5' }), cmdID: '4' },
        results({ cmdID: 6, msgRef: '1', cmdRef: '3', cmd: 'Get', items: [{ source: { locURI: './DevDetail/SwV' }, data: { text: '10.0' } }] }),
      ],
    });
    const parsed = parseSyncML(serializeSyncML(msg));
    expect(parsed.deviations).toEqual([]);
    expect(parsed.message).toEqual(msg);
  });
});

test.describe('hostile and malformed input is refused with a clear error', () => {
  test('DOCTYPE is refused (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]><SyncML xmlns="SYNCML:SYNCML1.2">&x;</SyncML>';
    const e = parseError(xxe);
    expect(e.code).toBe('doctype');
    expect(e.message).toMatch(/DOCTYPE declarations are refused/);
  });

  test('entity expansion (billion laughs) is refused before any expansion', () => {
    const lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><SyncML>&lol2;</SyncML>';
    expect(parseError(lol).code).toBe('doctype');
    expect(parseError('<SyncML><!ENTITY a "b"></SyncML>').code).toBe('entity');
    const undefinedEntity = parseError('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody>&lol;</SyncBody></SyncML>');
    expect(undefinedEntity.code).toBe('entity');
    expect(undefinedEntity.message).toContain('&lol;');
  });

  test('predefined entities and character references are accepted', () => {
    const { message } = parseSyncML(sample('d-close.xml').replace('<LocURI>HARNESS-DEV-0001</LocURI>', '<LocURI>a&amp;b&#x41;&#66;&lt;</LocURI>'));
    expect(message.hdr.target?.locURI).toBe('a&bAB<');
  });

  test('oversized input is rejected before parsing', () => {
    const big = sample('a-package1.xml').replace('Harness OEM', 'x'.repeat(5000));
    const e = parseError(big, { maxBytes: 4096, maxDepth: 48 });
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/exceeds the limit of 4096 bytes/);
    expect(parseError(Buffer.from(big), { maxBytes: 4096, maxDepth: 48 }).code).toBe('too-large');
  });

  test('too deeply nested input is rejected', () => {
    const deep = '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody>' + '<Atomic>'.repeat(100) + '</Atomic>'.repeat(100) + '</SyncBody></SyncML>';
    const e = parseError(deep);
    expect(e.code).toBe('too-deep');
    expect(e.message).toMatch(/nested deeper than 48 levels/);
  });

  test('invalid UTF-8, non-XML, truncated and non-SyncML bodies give precise errors', () => {
    expect(parseError(Buffer.from([0x3c, 0x53, 0xff, 0xfe, 0x3e])).code).toBe('encoding');
    expect(parseError('hello world').code).toBe('not-well-formed');
    expect(parseError('').code).toBe('not-well-formed');
    expect(parseError(sample('a-package1.xml').slice(0, 200)).message).toMatch(/not well-formed XML/);
    expect(parseError('<a/><b/>').message).toMatch(/exactly one root element, found a second/);
    const notSyncML = parseError('<html><body/></html>');
    expect(notSyncML.code).toBe('not-syncml');
    expect(notSyncML.message).toMatch(/root element is <html>/);
  });

  test('wrong namespace and unknown elements still parse, as deviations (MDM-XML-002, MDM-XML-005)', () => {
    const xml = sample('a-package1.xml').replace('SYNCML:SYNCML1.2', 'SYNCML:SYNCML1.1').replace('<Final/>', '<Sync><CmdID>9</CmdID></Sync><Final/>');
    const parsed = parseSyncML(xml);
    expect(parsed.message.body.commands.at(-1)).toMatchObject({ kind: 'Unknown', name: 'Sync', cmdID: '9' });
    expect(parsed.deviations).toEqual([
      { id: 'MDM-XML-002', path: '/SyncML/@xmlns', message: expect.stringContaining('SYNCML:SYNCML1.1') },
      { id: 'MDM-XML-005', path: '/SyncBody/Sync', message: 'Sync is not allowed in SyncBody' },
    ]);
  });
});
