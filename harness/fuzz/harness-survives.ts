/**
 * The harness's own robustness property: whatever bytes an implementation sends, the codec, the checks and both
 * reference peers answer with findings or a protocol error, never an uncaught exception.
 */
import { CLIENT_CHECKS } from '../checks/client-checks';
import { runChecks } from '../checks/finding';
import { SERVER_CHECKS } from '../checks/server-checks';
import { wireMessage, type SessionView, type WireMessage } from '../checks/session';
import { executeCommands } from '../device/execute';
import { loadDefaultTree } from '../device/profile';
import { DeviceSession } from '../protocol/device-session';
import { ServerSession } from '../protocol/server-session';
import { parseSyncMLBody, SyncMLParseError, XML_MEDIA_TYPE, type SyncML } from '../syncml';

const DEVICE = 'FUZZ-DEVICE-1';
const SERVER_URL = 'https://127.0.0.1/ManagementServer/MDM.svc';
const http = (bytes: Uint8Array, contentType = XML_MEDIA_TYPE) => ({ status: 200, contentType, bodyBytes: bytes.byteLength, method: 'POST' });

const TREE = loadDefaultTree(DEVICE);

/** Throws only when the harness itself fails on the input (the property is violated). Bodies may be XML or WBXML. */
export function harnessSurvives(bytes: Uint8Array, contentType: string = XML_MEDIA_TYPE): void {
  let message: SyncML | undefined;
  const wire = (n: number, from: 'device' | 'server'): WireMessage => ({ n, from, deviations: [], http: http(bytes, contentType) });
  const received = wire(2, 'server');
  try {
    const parsed = parseSyncMLBody(bytes, contentType);
    message = parsed.message;
    Object.assign(received, { syncml: parsed.message, deviations: parsed.deviations });
  } catch (e) {
    if (!(e instanceof SyncMLParseError)) throw e;
    received.parseError = e.message;
  }
  // The same bytes judged as a server's reply and as a device's request.
  const tree = TREE.clone();
  const device = new DeviceSession({ deviceId: DEVICE, serverUrl: SERVER_URL, sessionID: '1', devInfo: [{ uri: './DevInfo/DevId', value: DEVICE }], executor: (c, ctx) => executeCommands(tree, c, ctx) });
  const pkg1 = device.start();
  const asReply: SessionView = { exchanges: [{ request: wireMessage(1, 'device', pkg1, http(Buffer.from('x'))), response: received }] };
  const asRequest: SessionView = { exchanges: [{ request: { ...received, n: 1, from: 'device' } }] };
  runChecks(SERVER_CHECKS, asReply);
  runChecks(CLIENT_CHECKS, { ...asRequest, serverUrl: SERVER_URL, deviceId: DEVICE });
  runChecks(CLIENT_CHECKS, { ...asReply, serverUrl: SERVER_URL, deviceId: DEVICE });
  if (!message) return;
  device.receive(message);
  const queue = { peek: () => undefined, shift: () => undefined };
  new ServerSession({ serverUrl: SERVER_URL, deviceId: DEVICE, sessionID: '1', queue }).receive(message);
  executeCommands(tree, message.body.commands, { msgRef: message.hdr.msgID ?? '1' });
}
