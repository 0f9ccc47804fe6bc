/** The clean reference server and device of a test PKI, paired over mutual TLS on loopback, for the self tests. */
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../harness/device/reference-device';
import type { TestPki } from '../../harness/pki';
import { ReferenceServer, type ReferenceServerOptions } from '../../harness/server/reference-server';

/** Runs `body` with a started server and a device that trusts it, and stops both afterwards, whatever happens. */
export async function withReferencePair(
  pki: TestPki,
  serverOpts: Partial<ReferenceServerOptions>,
  deviceOpts: Partial<ReferenceDeviceOptions>,
  body: (server: ReferenceServer, device: ReferenceDevice, url: string) => Promise<void>,
): Promise<void> {
  const server = new ReferenceServer({ identity: pki.server, ca: pki.ca.certPem, ...serverOpts });
  const url = await server.start();
  const device = new ReferenceDevice({ deviceId: pki.deviceId, identity: pki.device, serverCa: pki.ca.certPem, ...deviceOpts });
  try {
    await body(server, device, url);
  } finally {
    await device.close();
    await server.stop();
  }
}
