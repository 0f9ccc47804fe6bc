import { expect, test } from '@playwright/test';
import { EnrollmentError } from '../../harness/enrollment';
import { enrollOver, openRunChannel, queueOver } from '../../harness/iut/run-channel';
import { atomic, get, replace, type Command } from '../../harness/syncml';

const IDENTITY = { certPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', keyPem: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n' };

test.describe('run channel: what the CLI lends the suites\' workers (queue on the server it hosts, enroll another device)', () => {
  test('commands queued through the channel arrive as they were sent, for the device named', async () => {
    const got: [string, Command[]][] = [];
    const channel = await openRunChannel({ queue: (deviceId, commands) => got.push([deviceId, commands]) });
    try {
      expect(channel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const big = 'x'.repeat(200_000);
      const commands = [get('./DevDetail/SwV'), atomic(replace('./Vendor/MSFT/HarnessCSP/Settings/Name', big, { format: 'chr' }))];
      await queueOver(channel)('DEVICE-1', commands);
      await queueOver(channel)('DEVICE-2', [get('./DevInfo/DmV')]);
      expect(got).toEqual([['DEVICE-1', commands], ['DEVICE-2', [get('./DevInfo/DmV')]]]);
    } finally {
      await channel.close();
    }
  });

  test('an enrollment comes back as the identity, a refusal as the EnrollmentError it was (step and reason)', async () => {
    const asked: string[] = [];
    const channel = await openRunChannel({
      enroll: async (deviceId) => {
        asked.push(deviceId);
        if (deviceId === 'REFUSED') throw new EnrollmentError('enrollment', 'SOAP fault s:Receiver/s:Authorization: User already enrolled in too many devices (HTTP 500)');
        return IDENTITY;
      },
    });
    try {
      const enroll = enrollOver(channel, 5_000);
      expect(await enroll('DEVICE-2')).toEqual(IDENTITY);
      const refused = await enroll('REFUSED').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(EnrollmentError);
      expect(refused).toMatchObject({ step: 'enrollment', message: 'SOAP fault s:Receiver/s:Authorization: User already enrolled in too many devices (HTTP 500)' });
      expect(asked).toEqual(['DEVICE-2', 'REFUSED']);
      // A channel without a queue (a vendor's server, queued through --control) has no queue endpoint.
      await expect(queueOver(channel)('DEVICE-1', [])).rejects.toThrow(/answered HTTP 404: nothing at POST \/queue in this run/);
    } finally {
      await channel.close();
    }
  });

  test('without the run\'s token nothing is queued nor enrolled: HTTP 401, and the caller gets a one-line error', async () => {
    const got: unknown[] = [];
    const channel = await openRunChannel({ queue: (deviceId, commands) => got.push([deviceId, commands]), enroll: async () => IDENTITY });
    try {
      const forged = { url: channel.url, token: `${channel.token.slice(1)}0` };
      await expect(queueOver(forged)('DEVICE-1', [get('./DevDetail/SwV')])).rejects.toThrow(/answered HTTP 401: a request to the run channel needs the run's token/);
      await expect(enrollOver(forged, 5_000)('DEVICE-2')).rejects.toThrow(/enrolling device DEVICE-2 answered HTTP 401/);
      expect((await fetch(`${channel.url}/queue`, { method: 'POST', body: '{}' })).status).toBe(401);
      expect(got).toEqual([]);
    } finally {
      await channel.close();
    }
  });

  test('a request that is not what the endpoint takes is refused with 400; a closed channel is a clear error', async () => {
    const channel = await openRunChannel({ queue: () => undefined, enroll: async () => IDENTITY });
    const post = (path: string, body: string) => fetch(`${channel.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${channel.token}` }, body });
    expect((await post('/queue', 'not json')).status).toBe(400);
    const wrong = await post('/queue', JSON.stringify({ device: 'x', commands: [] }));
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/expected \{"deviceId"/);
    expect((await post('/enroll', JSON.stringify({ deviceId: '' }))).status).toBe(400);
    await channel.close();
    await expect(queueOver(channel, 2_000)('DEVICE-1', [])).rejects.toThrow(/cannot queue commands on the embedded reference server \(run channel http:\/\/127\.0\.0\.1:\d+\/queue\)/);
  });
});
