import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import {
  defaultProfilePath, displayPointer, loadDefaultTree, loadProfile, ProfileError, readProfileFile, validateProfile,
  type DeviceProfile,
} from '../../harness/device/profile';
import { DmTree, encodeSegment, fitsFormat, parseNodeUri, type TreeResult } from '../../harness/device/tree';

/** The DM tree engine is tested on a profile with a writable test subtree, not on the reference device's Windows tree. */
const ENGINE_TEST_PROFILE = join(__dirname, 'engine-test-device.json');
function engineTestTree(deviceId: string): DmTree {
  return loadProfile(readProfileFile(ENGINE_TEST_PROFILE), { deviceId });
}

const CSP = './Vendor/MSFT/HarnessCSP';
const tree = () => engineTestTree('dev-0001');

function failure(r: TreeResult): { reason: string; uri: string } {
  if (r.ok) throw new Error('expected a refusal');
  return { reason: r.reason, uri: r.uri };
}

test.describe('LocURI rules', () => {
  test('a LocURI starting with / is invalid (MDM-XML-015)', () => {
    expect(parseNodeUri('/DevInfo/DevId')).toEqual({ ok: false, detail: expect.stringContaining("starts with '/'") });
    expect(failure(tree().get('/DevInfo/DevId')).reason).toBe('invalid-uri');
  });

  test('. only as the first segment (MDM-XML-016)', () => {
    expect(parseNodeUri('./DevInfo/./DevId').ok).toBe(false);
    expect(parseNodeUri('./DevInfo/../DevDetail').ok).toBe(false);
    expect(parseNodeUri('.')).toEqual({ ok: true, segments: [] });
  });

  test('segments may contain . but are never empty or * (MDM-XML-017)', () => {
    expect(parseNodeUri('./Vendor/MSFT/A.b.c')).toEqual({ ok: true, segments: ['Vendor', 'MSFT', 'A.b.c'] });
    for (const bad of ['./DevInfo//DevId', './DevInfo/', './Vendor/*/DMClient', './Vendor/%2A']) {
      expect(parseNodeUri(bad).ok, bad).toBe(false);
    }
  });

  test('percent-escapes are decoded per segment, names are re-encoded as UTF-8 escapes (MDM-XML-018)', () => {
    expect(parseNodeUri('./A%20B/caf%C3%A9/x%2Fy')).toEqual({ ok: true, segments: ['A B', 'café', 'x/y'] });
    expect(parseNodeUri('./A%ZZ').ok).toBe(false);
    expect(encodeSegment('café x/y')).toBe('caf%C3%A9%20x%2Fy');
    expect(encodeSegment('Name-1.2_~')).toBe('Name-1.2_~');
  });

  test('./Device/… and ./device/… address the same nodes as ./… (MDM-XML-019)', () => {
    const t = tree();
    for (const uri of ['./DevInfo/DevId', './Device/DevInfo/DevId', './device/DevInfo/DevId', 'DevInfo/DevId']) {
      expect(t.lookup(uri)?.value, uri).toBe('dev-0001');
    }
    expect(t.lookup('./Device')?.uri).toBe('.');
  });
});

test.describe('lookup and child names', () => {
  test('interior nodes list their children, URI-encoded (MDM-CMD-GET-004)', () => {
    const t = tree();
    expect(t.childNames('./DevInfo')).toEqual(['DevId', 'Man', 'Mod', 'DmV', 'Lang']);
    expect(t.add(`${CSP}/Items/caf%C3%A9%20au%20lait`, { value: 'x' }).ok).toBe(true);
    expect(t.childNames(`${CSP}/Items`)).toEqual(['First', 'caf%C3%A9%20au%20lait']);
    expect(t.get(`${CSP}/Items`)).toEqual({ ok: true, format: 'node', data: 'First/caf%C3%A9%20au%20lait' });
    expect(t.childNames('./DevInfo/Man')).toBeUndefined();
    expect(t.lookup('./DevInfo/Nope')).toBeUndefined();
  });

  test('lookup reports a copy of the node', () => {
    const t = tree();
    const info = t.lookup(`${CSP}/Settings/Count`);
    expect(info).toEqual({
      uri: `${CSP}/Settings/Count`, name: 'Count', format: 'int', access: ['Get', 'Add', 'Replace', 'Delete'], interior: false, value: '3',
    });
    info!.access.push('Exec');
    expect(t.lookup(`${CSP}/Settings/Count`)?.access).not.toContain('Exec');
  });
});

test.describe('add', () => {
  test('implicit Add creates the missing interior ancestors with the anchor access (MDM-CMD-ADD-003)', () => {
    const t = tree();
    const r = t.add(`${CSP}/Items/A/B/C`, { format: 'int', value: '7' });
    expect(r).toEqual({ ok: true, created: [`${CSP}/Items/A`, `${CSP}/Items/A/B`, `${CSP}/Items/A/B/C`] });
    expect(t.lookup(`${CSP}/Items/A/B`)).toMatchObject({ interior: true, format: 'node', access: ['Get', 'Add', 'Replace', 'Delete'] });
    expect(t.lookup(`${CSP}/Items/A/B/C`)).toMatchObject({ format: 'int', value: '7' });
  });

  test('Add is refused where the nearest existing ancestor does not grant it, naming the first missing node (MDM-CMD-ADD-004, MDM-STS-019)', () => {
    const t = tree();
    expect(failure(t.add('./Vendor/MSFT/NewCSP/Setting', { value: 'x' }))).toEqual({ reason: 'read-only', uri: './Vendor/MSFT/NewCSP' });
    expect(failure(t.add('./DevInfo/Extra', { value: 'x' }))).toEqual({ reason: 'read-only', uri: './DevInfo/Extra' });
    expect(failure(t.add('./DevInfo/Man/Below', { value: 'x' }))).toEqual({ reason: 'not-allowed', uri: './DevInfo/Man/Below' });
    expect(t.has('./Vendor/MSFT/NewCSP')).toBe(false);
  });

  test('Add of an existing node, of an unsupported feature, of a value that does not fit (MDM-STS-018, MDM-STS-020)', () => {
    const t = tree();
    expect(failure(t.add(`${CSP}/Settings/Name`, { value: 'x' })).reason).toBe('exists');
    expect(failure(t.add(`${CSP}/Legacy/New`, { value: 'x' }))).toEqual({ reason: 'unsupported', uri: `${CSP}/Legacy` });
    expect(failure(t.add(`${CSP}/Items/N`, { format: 'int', value: 'abc' })).reason).toBe('bad-format');
    expect(failure(t.add(`${CSP}/Items/N`, { format: 'string', value: 'abc' })).reason).toBe('bad-format');
    expect(failure(t.add(`${CSP}/Items/N`, {})).reason).toBe('incomplete');
    expect(t.add(`${CSP}/Items/Folder`, { format: 'node' }).ok).toBe(true);
    expect(t.lookup(`${CSP}/Items/Folder`)?.interior).toBe(true);
  });
});

test.describe('replace', () => {
  test('Replace overwrites an existing value; missing, read-only and mismatched writes are refused (MDM-CMD-REP-002, MDM-STS-019, MDM-STS-020)', () => {
    const t = tree();
    expect(t.replace(`${CSP}/Settings/Count`, { format: 'int', value: '42' })).toEqual({ ok: true, async: false });
    expect(t.lookup(`${CSP}/Settings/Count`)?.value).toBe('42');
    expect(failure(t.replace(`${CSP}/Settings/Missing`, { value: 'x' })).reason).toBe('not-found');
    expect(failure(t.replace('./DevInfo/Man', { value: 'x' })).reason).toBe('read-only');
    expect(failure(t.replace(`${CSP}/Settings/Count`, { value: '42' })).reason).toBe('bad-format');
    expect(failure(t.replace(`${CSP}/Settings/Enabled`, { format: 'bool', value: 'yes' })).reason).toBe('bad-format');
    expect(failure(t.replace(`${CSP}/Settings/Blob`, { format: 'b64', type: 'text/plain', value: 'AA==' })).reason).toBe('bad-format');
    expect(failure(t.replace(`${CSP}/Settings/Name`, {})).reason).toBe('incomplete');
    expect(failure(t.replace(`${CSP}/Settings`, { format: 'node' })).reason).toBe('not-allowed');
    expect(t.lookup(`${CSP}/Settings/Count`)?.value).toBe('42');
  });

  test('an async node accepts Replace for later completion (MDM-STS-022)', () => {
    expect(tree().replace('./Vendor/MSFT/Personalization/DesktopImageUrl', { value: 'https://img.example/a.jpg' })).toEqual({ ok: true, async: true });
  });
});

test.describe('delete', () => {
  test('Delete removes the whole subtree; permanent nodes, the root and missing nodes are refused (MDM-CMD-DEL-002)', () => {
    const t = tree();
    expect(t.delete(`${CSP}/Items/First`)).toEqual({ ok: true });
    expect(t.has(`${CSP}/Items/First/Value`)).toBe(false);
    expect(t.childNames(`${CSP}/Items`)).toEqual([]);
    expect(failure(t.delete(`${CSP}/Items/First`)).reason).toBe('not-found');
    expect(failure(t.delete(`${CSP}/Settings/Name`))).toEqual({ reason: 'not-allowed', uri: `${CSP}/Settings/Name` });
    expect(failure(t.delete('.')).reason).toBe('not-allowed');
    expect(failure(t.delete('./Device')).reason).toBe('not-allowed');
    expect(failure(t.delete('./DevInfo/Lang')).reason).toBe('read-only');
  });

  test('a subtree holding a permanent node is not deleted at all (MDM-CMD-DEL-002)', () => {
    const t = tree();
    t.define(`${CSP}/Items/First/Pinned`, { format: 'chr', access: ['Get'], value: 'p', permanent: true });
    expect(failure(t.delete(`${CSP}/Items/First`))).toEqual({ reason: 'not-allowed', uri: `${CSP}/Items/First/Pinned` });
    expect(t.has(`${CSP}/Items/First/Value`)).toBe(true);
  });
});

test.describe('exec, unsupported features, get', () => {
  test('Exec: sync, async, not executable, missing (MDM-CMD-EXE-002)', () => {
    const t = tree();
    expect(t.exec(`${CSP}/Actions/Echo`)).toEqual({ ok: true, async: false });
    expect(t.exec(`${CSP}/Actions/Deferred`)).toEqual({ ok: true, async: true });
    expect(t.exec('./Vendor/MSFT/Reboot/RebootNow')).toEqual({ ok: true, async: false });
    expect(failure(t.exec('./DevInfo/Man')).reason).toBe('not-allowed');
    expect(failure(t.exec(`${CSP}/Actions/Missing`)).reason).toBe('not-found');
  });

  test('everything at or below an unsupported node is refused as unsupported (MDM-STS-020)', () => {
    const t = tree();
    for (const r of [t.get(`${CSP}/Legacy`), t.get(`${CSP}/Legacy/Mode`), t.replace(`${CSP}/Legacy/Mode`, { format: 'int', value: '2' }), t.delete(`${CSP}/Legacy`)]) {
      expect(failure(r)).toEqual({ reason: 'unsupported', uri: `${CSP}/Legacy` });
    }
  });

  test('Get returns format and type; Get is refused where not granted (MDM-RES-003)', () => {
    const t = tree();
    expect(t.get(`${CSP}/Settings/Blob`)).toEqual({ ok: true, format: 'b64', type: 'application/octet-stream', data: 'SGFybmVzcw==' });
    expect(t.get('./DevDetail/LrgObj')).toEqual({ ok: true, format: 'bool', data: 'true' });
    expect(failure(t.get(`${CSP}/Actions/Echo`)).reason).toBe('not-allowed');
    expect(failure(t.get('./DevInfo/Nope')).reason).toBe('not-found');
  });
});

test.describe('clone and snapshot (for Atomic, MDM-CMD-ATO-002)', () => {
  test('a clone is independent of its original', () => {
    const t = tree();
    const c = t.clone();
    c.add(`${CSP}/Items/Only`, { value: 'clone' });
    c.replace(`${CSP}/Settings/Name`, { value: 'changed' });
    expect(t.has(`${CSP}/Items/Only`)).toBe(false);
    expect(t.lookup(`${CSP}/Settings/Name`)?.value).toBe('reference');
    expect(c.lookup(`${CSP}/Settings/Name`)?.value).toBe('changed');
  });

  test('restore brings back the tree as it was at the snapshot', () => {
    const t = tree();
    const before = t.uris().map((u) => t.lookup(u));
    const snap = t.snapshot();
    t.delete(`${CSP}/Items/First`);
    t.add(`${CSP}/Items/Z/Y`, { value: '1' });
    t.replace(`${CSP}/Settings/Count`, { format: 'int', value: '9' });
    t.restore(snap);
    expect(t.uris().map((u) => t.lookup(u))).toEqual(before);
    t.delete(`${CSP}/Items/First`);
    t.restore(snap);
    expect(t.has(`${CSP}/Items/First/Value`)).toBe(true);
  });

  test('define refuses to place a node without a parent or twice', () => {
    const t = new DmTree();
    expect(() => t.define('./A/B', { format: 'chr', access: ['Get'] })).toThrow('parent');
    t.define('./A', { format: 'node', access: ['Get'] });
    expect(() => t.define('./A', { format: 'node', access: ['Get'] })).toThrow('already');
    expect(() => t.define('/A/C', { format: 'chr', access: ['Get'] })).toThrow("starts with '/'");
  });
});

test('value formats (MDM-STS-020)', () => {
  const fits: [Parameters<typeof fitsFormat>[0], string, boolean][] = [
    ['int', '42', true], ['int', '-7', true], ['int', 'abc', false], ['int', '1.5', false], ['int', '2147483648', false], ['int', '-2147483648', true],
    ['bool', 'true', true], ['bool', 'false', true], ['bool', 'TRUE', false], ['bool', '1', false],
    ['b64', 'SGFybmVzcw==', true], ['b64', 'SGFybmVzcw=', false], ['b64', '', true],
    ['float', '3.14', true], ['float', '-1e5', true], ['float', 'pi', false],
    ['date', '2024-04-23', true], ['date', '20240423', true], ['date', '23/04/2024', false],
    ['time', '12:30:00', true], ['time', 'T123000Z', true], ['time', 'noon', false],
    ['null', '', true], ['null', 'x', false], ['chr', 'anything <at> all', true], ['xml', '<a/>', true],
  ];
  for (const [format, value, expected] of fits) expect(fitsFormat(format, value), `${format} ${value}`).toBe(expected);
});

test.describe('device profile', () => {
  const profile = () => readProfileFile(defaultProfilePath) as DeviceProfile;

  function profileError(mutate: (p: DeviceProfile & Record<string, unknown>) => void): string {
    const p = profile() as DeviceProfile & Record<string, unknown>;
    mutate(p);
    try {
      loadProfile(p, { deviceId: 'd' });
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileError);
      return (e as Error).message;
    }
    throw new Error('expected a ProfileError');
  }

  test('the default profile holds the Windows facts; DevId comes from the device id (MDM-CMD-GET-006, A-31)', () => {
    const t = loadDefaultTree('urn:uuid:1234');
    expect(t.lookup('./DevInfo/DevId')?.value).toBe('urn:uuid:1234');
    expect(t.lookup('./DevInfo/DmV')?.value).toBe('1.3');
    expect(t.lookup('./DevDetail/LrgObj')).toMatchObject({ format: 'bool', value: 'true' });
    for (const uri of ['./DevInfo/Man', './DevInfo/Mod', './DevInfo/Lang', './DevDetail/SwV', './DevDetail/FwV', './DevDetail/HwV',
      './DevDetail/Ext/Microsoft/DeviceName', './Vendor/MSFT/DMClient/HWDevID', './Vendor/MSFT/DMClient/Provider/MDMConformance/SyncApplicationVersion']) {
      expect(t.lookup(uri)?.value, uri).toBeTruthy();
    }
    expect(validateProfile(profile()).name).toBe('windows-device');
    expect('DevId' in profile().tree.DevInfo.children!).toBe(false);
  });

  test('a leaf readable with Get must have a value', () => {
    expect(profileError((p) => delete p.tree.DevInfo.children!.Man.value)).toBe("profile /tree/DevInfo/Man: must have required property 'value'");
  });

  test('schema errors name the field', () => {
    expect(profileError((p) => ((p.tree.DevInfo.children!.Man as unknown as Record<string, unknown>).format = 'string'))).toBe(
      'profile /tree/DevInfo/Man/format: must be equal to one of the allowed values (chr, int, bool, b64, bin, xml, node, null, date, time, float)',
    );
    expect(profileError((p) => ((p.tree.DevInfo as unknown as Record<string, unknown>).acl = 'x'))).toBe(
      "profile /tree/DevInfo: must NOT have additional property 'acl'",
    );
    expect(profileError((p) => ((p.tree.DevInfo.access as string[])[0] = 'Read'))).toBe(
      'profile /tree/DevInfo/access/0: must be equal to one of the allowed values (Get, Add, Replace, Delete, Exec)',
    );
    expect(profileError((p) => delete (p as Record<string, unknown>).tree)).toBe("profile: must have required property 'tree'");
    expect(profileError((p) => delete p.tree.DevInfo.children!.Lang)).toBe("profile /tree/DevInfo/children: must have required property 'Lang'");
  });

  test('interior and leaf nodes are told apart', () => {
    expect(profileError((p) => (p.tree.DevInfo.value = 'x'))).toBe('profile /tree/DevInfo: an interior node (format node) has no value');
    expect(profileError((p) => (p.tree.DevInfo.children!.Man.children = {}))).toBe(
      'profile /tree/DevInfo/Man: only an interior node (format node) has children',
    );
  });

  test('node names follow the LocURI rules (MDM-XML-016, MDM-XML-017)', () => {
    expect(profileError((p) => (p.tree.Vendor.children!['*'] = { format: 'node', access: ['Get'], children: {} }))).toBe(
      "profile /tree/Vendor/*: not a valid node name (empty, '*', '.', '..' or containing '/')",
    );
    expect(profileError((p) => (p.tree.Device = { format: 'node', access: ['Get'], children: {} }))).toContain('profile /tree/Device:');
  });

  test('values fit their format, async needs Exec or Replace, DevId is not declared', () => {
    expect(
      profileError((p) => (p.tree.Vendor.children!.MSFT.children!.Policy.children!.Config.children!.Update.children!.ActiveHoursStart.value = 'abc')),
    ).toBe("profile /tree/Vendor/MSFT/Policy/Config/Update/ActiveHoursStart/value: 'abc' is not a valid int value");
    expect(profileError((p) => (p.tree.DevInfo.children!.Man.async = true))).toBe(
      'profile /tree/DevInfo/Man/async: an async node needs Exec or Replace access',
    );
    expect(profileError((p) => (p.tree.DevInfo.children!.DevId = { format: 'chr', access: ['Get'], value: 'x' }))).toBe(
      'profile /tree/DevInfo/DevId: DevId is the device id given at load time, not part of a profile',
    );
  });

  test('a device id is required at load time', () => {
    expect(() => loadProfile(profile(), { deviceId: '' })).toThrow('profile: a device id is needed');
  });

  test('pointers drop the structural children steps', () => {
    expect(displayPointer('/tree/DevInfo/children/Man')).toBe('/tree/DevInfo/Man');
    expect(displayPointer('/tree/A/children/B/children/C/format')).toBe('/tree/A/B/C/format');
    expect(displayPointer('/tree/A/children')).toBe('/tree/A/children');
    expect(displayPointer('/name')).toBe('/name');
  });
});
