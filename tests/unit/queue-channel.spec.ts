import { expect, test } from '@playwright/test';
import { openQueueChannel, queueOver } from '../../harness/iut/queue-channel';
import { atomic, get, replace, type Command } from '../../harness/syncml';

test.describe('queue channel: the command queue of a reference server the CLI hosts, offered to the suites\' workers', () => {
  test('commands queued through the channel arrive as they were sent, for the device named', async () => {
    const got: [string, Command[]][] = [];
    const channel = await openQueueChannel((deviceId, commands) => got.push([deviceId, commands]));
    try {
      expect(channel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/queue$/);
      const big = 'x'.repeat(200_000);
      const commands = [get('./DevDetail/SwV'), atomic(replace('./Vendor/MSFT/HarnessCSP/Settings/Name', big, { format: 'chr' }))];
      await queueOver(channel)('DEVICE-1', commands);
      await queueOver(channel)('DEVICE-2', [get('./DevInfo/DmV')]);
      expect(got).toEqual([['DEVICE-1', commands], ['DEVICE-2', [get('./DevInfo/DmV')]]]);
    } finally {
      await channel.close();
    }
  });

  test('without the run\'s token nothing is queued: HTTP 401, and the caller gets a one-line error', async () => {
    const got: unknown[] = [];
    const channel = await openQueueChannel((deviceId, commands) => got.push([deviceId, commands]));
    try {
      const forged = queueOver({ url: channel.url, token: `${channel.token.slice(1)}0` });
      await expect(forged('DEVICE-1', [get('./DevDetail/SwV')])).rejects.toThrow(/answered HTTP 401: a queue request needs the run's token/);
      const res = await fetch(channel.url, { method: 'POST', body: '{}' });
      expect(res.status).toBe(401);
      expect(got).toEqual([]);
    } finally {
      await channel.close();
    }
  });

  test('a request that is not {deviceId, commands} is refused with 400; a closed channel is a clear error', async () => {
    const channel = await openQueueChannel(() => undefined);
    const post = (body: string) => fetch(channel.url, { method: 'POST', headers: { authorization: `Bearer ${channel.token}` }, body });
    expect((await post('not json')).status).toBe(400);
    const wrong = await post(JSON.stringify({ device: 'x', commands: [] }));
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toMatch(/expected \{"deviceId"/);
    await channel.close();
    await expect(queueOver(channel, 2_000)('DEVICE-1', [])).rejects.toThrow(/cannot queue commands on the embedded reference server \(http:\/\/127\.0\.0\.1:\d+\/queue\)/);
  });
});
