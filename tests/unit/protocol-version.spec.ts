import { expect, test } from '@playwright/test';
import { DeviceSession } from '../../harness/protocol/device-session';
import { ServerSession } from '../../harness/protocol/server-session';
import { DEVICE_VERSIONS, SERVER_VERSIONS, unsupportedVersion } from '../../harness/protocol/version';
import { codeOf, get, message, type Status, type SyncML } from '../../harness/syncml';

const DEVICE = 'dev-0001';
const SERVER = 'https://mdm.example/ManagementServer/MDM.svc';

function package1(edit: (m: SyncML) => void = () => undefined): SyncML {
  const m = new DeviceSession({ deviceId: DEVICE, serverUrl: SERVER, sessionID: '1', devInfo: [{ uri: './DevInfo/DevId', value: DEVICE }], executor: () => ({ statuses: [], results: [] }) }).start();
  edit(m);
  return m;
}

const statuses = (m: SyncML | undefined) => (m?.body.commands ?? []).filter((c): c is Status => c.kind === 'Status').map((s) => `${s.cmd} ${codeOf(s)}`);

test.describe('protocol versions (MDM-ROB-002, MDM-XML-003)', () => {
  test('the version a message states is judged: namespace, VerDTD, then VerProto; an absent field is not a version', () => {
    expect(unsupportedVersion(package1(), SERVER_VERSIONS)).toBeUndefined();
    expect(unsupportedVersion(package1((m) => (m.attrs = { xmlns: 'SYNCML:SYNCML1.1' })), SERVER_VERSIONS)).toEqual({ code: '505', supported: '1.2', declared: 'namespace SYNCML:SYNCML1.1' });
    expect(unsupportedVersion(package1((m) => (m.hdr.verDTD = '1.1')), SERVER_VERSIONS)?.code).toBe('505');
    expect(unsupportedVersion(package1((m) => (m.hdr.verProto = 'DM/1.1')), SERVER_VERSIONS)).toEqual({ code: '513', supported: 'DM/1.2', declared: 'VerProto DM/1.1' });
    expect(unsupportedVersion(package1((m) => delete m.hdr.verProto), SERVER_VERSIONS)).toBeUndefined();
    expect(unsupportedVersion(package1((m) => (m.attrs = { xmlns: 'urn:not-syncml' })), SERVER_VERSIONS)).toBeUndefined();
    // Windows, and the reference device, take OMA DM 1.1.2 documents.
    expect(unsupportedVersion(package1((m) => Object.assign(m, { attrs: { xmlns: 'SYNCML:SYNCML1.1' }, hdr: { ...m.hdr, verDTD: '1.1', verProto: 'DM/1.1' } })), DEVICE_VERSIONS)).toBeUndefined();
    expect(unsupportedVersion(package1((m) => (m.hdr.verProto = 'DM/9.9')), DEVICE_VERSIONS)?.code).toBe('513');
  });

  test('the server answers a DM 1.1 package 1 with 513 on the header and every command, lists DM/1.2, and ends the session', () => {
    const queue = [get('./DevDetail/SwV')];
    const server = new ServerSession({ serverUrl: SERVER, deviceId: DEVICE, sessionID: '1', queue: { peek: () => queue[0], shift: () => queue.shift() } });
    const reply = server.receive(package1((m) => (m.hdr.verProto = 'DM/1.1')));
    expect(statuses(reply)).toEqual(['SyncHdr 513', 'Alert 513', 'Alert 513', 'Replace 513']);
    expect((reply.body.commands[0] as Status).items[0].data?.text).toBe('DM/1.2');
    expect(reply.body.final).toBe(true);
    expect(queue).toHaveLength(1);
    expect(server.state).toBe('closing');
  });

  test('the device runs a DM 1.1 message and refuses DM/9.9 with 513 for the header and each command', () => {
    const device = () => new DeviceSession({ deviceId: DEVICE, serverUrl: SERVER, sessionID: '1', devInfo: [], executor: () => ({ statuses: [], results: [] }) });
    const serverMessage = (verProto: string) => {
      const m = message({ sessionID: '1', msgID: 1, target: DEVICE, source: SERVER, commands: [{ ...get('./DevDetail/SwV'), cmdID: '2' }], final: true });
      m.hdr.verProto = verProto;
      return m;
    };
    const old = device();
    old.start();
    expect(statuses(old.receive(serverMessage('DM/1.1')))[0]).toBe('SyncHdr 200');
    const unknown = device();
    unknown.start();
    expect(statuses(unknown.receive(serverMessage('DM/9.9')))).toEqual(['SyncHdr 513', 'Get 513']);
  });
});
