import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test, expect } from '@playwright/test';
import {
  REQUIREMENTS,
  SOURCES,
  isRequirementId,
  requirement,
  requirementsFor,
  type Basis,
  type Level,
  type Phase,
  type Role,
} from '../../harness/checks/registry';
import { buildRegistry, CatalogueError, renderJson } from '../../scripts/registry-source';

const ROOT = resolve(__dirname, '../..');
const CATALOGUE = resolve(ROOT, '../shared/spec/requirements.md');
const hasCatalogue = existsSync(CATALOGUE);

/** Section numbers and table shapes as in the real catalogue, small enough to damage one thing at a time. */
const MINI = `# Mini catalogue

## 1. Sources (keys used in the catalogue)

| Key | Source | Notes |
|---|---|---|
| MS-MDM | [MS-MDM] Protocol. Landing page: https://example.test/ms-mdm/landing . Section pages located: §2.2.6.1 …/status-page (all under https://example.test/ms-mdm/). | |
| WOMA | "Protocol support", https://example.test/woma — repo x: \`a.md\` | |
| CAP | Capture: repo \`o/r\`, \`path/README.md\` | |

---

## 2. Requirements catalogue

### 2.1 Status (STS)

| ID | Section(s) | Role | Level | Basis | Phase | Requirement (testable restatement) |
|---|---|---|---|---|---|---|
| MDM-STS-001 | MS-MDM 2.2.6.1; WOMA | both | MUST | N | setup | A \`Status\` with a \\| pipe. |
| MDM-STS-002 | CAP; WOMA | server | MAY | O | robustness | Two. |
| MDM-STS-003 | CAP | client | SHOULD NOT | W | auth | Three. |

---

## 3. Reference: protocol facts

### 3.4 Alert codes

| Code | Name | Direction | Windows | Notes |
|---|---|---|---|---|
| 1100–1102 | UI alerts | server→client | no | n |
| 1201 | CLIENT-INITIATED MGMT | client→server | sent | n |

Types:

| Type | Alert | Data values | Source |
|---|---|---|---|
| \`com.example/T\` | 1224 | \`x\` | WOMA |

### 3.5 Status codes

| Code | Name | Meaning in DM | In WOMA table |
|---|---|---|---|
| 200 | OK | done | yes |

## 5. Catalogue statistics

3 requirements (IDs unique). Level: MUST 1, MUST NOT 0, SHOULD 0, SHOULD NOT 1, MAY 1.
Basis: normative 1, Windows-documented 1, observed-only 1.

| Phase | client | server | both | total |
|---|---|---|---|---|
| setup | 0 | 0 | 1 | 1 |
| get-result | 0 | 0 | 0 | 0 |
| management-multi-round | 0 | 0 | 0 | 0 |
| termination | 0 | 0 | 0 | 0 |
| auth | 1 | 0 | 0 | 1 |
| large-object | 0 | 0 | 0 | 0 |
| robustness | 0 | 1 | 0 | 1 |
| **total** | **1** | **1** | **1** | **3** |
`;

const count = <T>(values: readonly T[]) => {
  const out = new Map<T, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return Object.fromEntries(out);
};

test.describe('requirements registry (catalogue section 2, totals of section 5)', () => {
  test('holds the 244 catalogue rows with unique ids', () => {
    expect(REQUIREMENTS).toHaveLength(244);
    expect(new Set(REQUIREMENTS.map((r) => r.id)).size).toBe(244);
    for (const r of REQUIREMENTS) expect(r.id).toMatch(/^MDM-[A-Z]+(-[A-Z]+)?-\d{3}$/);
  });

  test('counts by level match section 5', () => {
    const expected: Record<Level, number> = { MUST: 159, 'MUST NOT': 7, SHOULD: 39, 'SHOULD NOT': 3, MAY: 36 };
    expect(count(REQUIREMENTS.map((r) => r.level))).toEqual(expected);
  });

  test('counts by basis match section 5', () => {
    const expected: Record<Basis, number> = { N: 165, W: 71, O: 8 };
    expect(count(REQUIREMENTS.map((r) => r.basis))).toEqual(expected);
  });

  test('phase × role table matches section 5', () => {
    const expected: Record<Phase, Record<Role, number>> = {
      setup: { client: 28, server: 13, both: 17 },
      'get-result': { client: 7, server: 9, both: 3 },
      'management-multi-round': { client: 23, server: 21, both: 14 },
      termination: { client: 3, server: 5, both: 2 },
      auth: { client: 11, server: 7, both: 24 },
      'large-object': { client: 6, server: 6, both: 14 },
      robustness: { client: 12, server: 11, both: 8 },
    };
    const actual: Record<string, Record<string, number>> = {};
    for (const r of REQUIREMENTS) {
      actual[r.phase] ??= { client: 0, server: 0, both: 0 };
      actual[r.phase][r.role]++;
    }
    expect(actual).toEqual(expected);
    expect(count(REQUIREMENTS.map((r) => r.role))).toEqual({ client: 90, server: 72, both: 82 });
  });

  test('every row has a known role, level, basis and phase, and non-empty sections and text', () => {
    const roles = ['client', 'server', 'both'];
    const levels = ['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY'];
    const phases = ['setup', 'get-result', 'management-multi-round', 'termination', 'auth', 'large-object', 'robustness'];
    for (const r of REQUIREMENTS) {
      expect(roles, r.id).toContain(r.role);
      expect(levels, r.id).toContain(r.level);
      expect(['N', 'W', 'O'], r.id).toContain(r.basis);
      expect(phases, r.id).toContain(r.phase);
      expect(r.sections.length, r.id).toBeGreaterThan(0);
      expect(r.text.length, r.id).toBeGreaterThan(0);
    }
  });

  test('keeps the requirement text verbatim, backticks included', () => {
    const r = requirement('MDM-XML-002');
    expect(r.text).toBe(
      'The root element is `SyncML` with default namespace exactly `SYNCML:SYNCML1.2`, containing one `SyncHdr` followed by one `SyncBody`.',
    );
    expect(r.sections).toBe('MS-MDM 2.2.1, 2.2.4.1');
    expect(requirement('MDM-AUTH-015')).toMatchObject({ role: 'both', level: 'MUST', basis: 'N', phase: 'auth', sections: 'OMA-DMS 5.3.2' });
  });

  test('requirement() throws a clear error for an id outside the catalogue', () => {
    expect(() => requirement('MDM-NOPE-001')).toThrow(/unknown requirement id "MDM-NOPE-001"/);
    expect(() => requirement('MDM-TRN-999')).toThrow(/MDM-TRN-001\.\.MDM-TRN-025/);
    expect(isRequirementId('MDM-NOPE-001')).toBe(false);
    expect(isRequirementId('MDM-TRN-001')).toBe(true);
  });

  test('requirementsFor(side) is that side plus both, in catalogue order', () => {
    const client = requirementsFor('client');
    const server = requirementsFor('server');
    expect(client).toHaveLength(90 + 82);
    expect(server).toHaveLength(72 + 82);
    expect(client.every((r) => r.role !== 'server')).toBe(true);
    expect(server.every((r) => r.role !== 'client')).toBe(true);
    const order = new Map(REQUIREMENTS.map((r, i) => [r.id, i]));
    const indexes = client.map((r) => order.get(r.id)!);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
  });

  test('urls come from the sources table of section 1', () => {
    const msmdm = SOURCES.find((s) => s.key === 'MS-MDM')!;
    const landing = 'https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-mdm/33769a92-ac31-47ef-ae7b-dc8501f7104f';
    expect(msmdm.url).toBe(landing);
    // A section with its own page gets that page; any other MS-MDM section gets the landing page.
    expect(requirement('MDM-STS-003').url).toBe('https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-mdm/36b1a4d9-fd93-48ce-b865-6a9d396c52a4');
    expect(requirement('MDM-TRN-001').url).toBe(landing);
    expect(requirement('MDM-STS-006')).toMatchObject({ sections: 'MS-MDM 4 (narrative); CAP', url: landing });
    // First cited source that has a URL: CAP is cited first but has none, so MS-MDM wins.
    expect(requirement('MDM-TRN-025')).toMatchObject({ sections: 'CAP; MS-MDM 3', url: landing });
    expect(requirement('MDM-TRN-007').url).toBe('https://learn.microsoft.com/en-us/windows/client-management/oma-dm-protocol-support');
    expect(requirement('MDM-AUTH-015').url).toBe('https://www.openmobilealliance.org/release/DM/V1_2_1-20080617-A/OMA-TS-DM_Security-V1_2_1-20080617-A.pdf');
    // Only the capture is cited: no public URL.
    expect(requirement('MDM-TRN-008').url).toBeUndefined();
    const cap = SOURCES.find((s) => s.key === 'CAP')!;
    expect(cap.url).toBeUndefined();
    expect(cap.reference).toBe('fleetdm/fleet: tools/mdm/windows/poc-mdm-server/README.md');
    for (const r of REQUIREMENTS) if (r.url) expect(r.url, r.id).toMatch(/^https:\/\//);
  });

  test('the committed JSON is exactly what the generator makes of the catalogue', () => {
    test.skip(!hasCatalogue, `catalogue not available at ${CATALOGUE}; determinism can only be checked next to ../shared`);
    const built = buildRegistry(readFileSync(CATALOGUE, 'utf8'));
    expect(renderJson(built.requirements)).toBe(readFileSync(resolve(ROOT, 'harness/checks/requirements.json'), 'utf8'));
    expect(renderJson(built.codes)).toBe(readFileSync(resolve(ROOT, 'harness/syncml/codes.json'), 'utf8'));
    expect(renderJson(buildRegistry(readFileSync(CATALOGUE, 'utf8')))).toBe(renderJson(built));
  });

  test.describe('the generator on a small synthetic catalogue', () => {
    const rejection = (md: string): string => {
      try {
        buildRegistry(md);
      } catch (e) {
        if (e instanceof CatalogueError) return e.message;
        throw e;
      }
      throw new Error('catalogue was accepted');
    };

    test('reads rows, sources, urls and codes', () => {
      const { requirements, codes } = buildRegistry(MINI);
      expect(requirements.count).toBe(3);
      expect(requirements.requirements[0]).toEqual({
        id: 'MDM-STS-001',
        sections: 'MS-MDM 2.2.6.1; WOMA',
        role: 'both',
        level: 'MUST',
        basis: 'N',
        phase: 'setup',
        text: 'A `Status` with a | pipe.',
        url: 'https://example.test/ms-mdm/status-page',
      });
      expect(requirements.requirements.map((r) => r.url)).toEqual([
        'https://example.test/ms-mdm/status-page',
        'https://example.test/woma',
        undefined,
      ]);
      expect(requirements.sources.map((s) => [s.key, s.title, s.url, s.reference])).toEqual([
        ['MS-MDM', '[MS-MDM] Protocol', 'https://example.test/ms-mdm/landing', undefined],
        ['WOMA', 'Protocol support', 'https://example.test/woma', undefined],
        ['CAP', 'Capture', undefined, 'o/r: path/README.md'],
      ]);
      expect(codes.alerts.map((a) => [a.code, a.range])).toEqual([
        ['1100', '1100–1102'],
        ['1101', '1100–1102'],
        ['1102', '1100–1102'],
        ['1201', undefined],
      ]);
      expect(codes.alertTypes).toEqual([{ type: 'com.example/T', alert: '1224', data: '`x`', source: 'WOMA' }]);
      expect(codes.statuses).toEqual([{ code: '200', name: 'OK', meaning: 'done', inWomaTable: 'yes' }]);
    });

    test('a duplicate id, naming the row', () => {
      const md = MINI.replace('| MDM-STS-002 |', '| MDM-STS-001 |');
      expect(rejection(md)).toMatch(/line \d+ \(row MDM-STS-001\): duplicate id MDM-STS-001 \(first defined on line \d+\)/);
    });

    test('a row with a missing cell, naming the row', () => {
      const md = MINI.replace('| MDM-STS-002 | CAP; WOMA | server |', '| MDM-STS-002 | CAP; WOMA |');
      expect(rejection(md)).toMatch(/row MDM-STS-002\): 6 cells, expected 7/);
    });

    test('an unknown level, role, basis or phase, naming the row', () => {
      const md = MINI.replace('| server | MAY | O | robustness |', '| device | OUGHT | X | later |');
      const message = rejection(md);
      expect(message).toMatch(/row MDM-STS-002\): role "device"/);
      expect(message).toMatch(/row MDM-STS-002\): level "OUGHT"/);
      expect(message).toMatch(/row MDM-STS-002\): basis "X"/);
      expect(message).toMatch(/row MDM-STS-002\): phase "later"/);
    });

    test('an id that does not belong to its subsection', () => {
      expect(rejection(MINI.replace('| MDM-STS-003 |', '| MDM-HDR-003 |'))).toMatch(/row MDM-HDR-003\): family HDR does not belong under subsection 2\.1 \(STS\)/);
    });

    test('a total that differs from section 5', () => {
      expect(rejection(MINI.replace(/^\| MDM-STS-003 \|.*\n/m, ''))).toMatch(/section 5 states 3 requirements but section 2 has 2 well-formed rows/);
      expect(rejection(MINI.replace('3 requirements', '4 requirements'))).toMatch(/section 5 states 4 requirements but section 2 has 3/);
    });

    test('a breakdown that differs from section 5', () => {
      expect(rejection(MINI.replace('| setup | 0 | 0 | 1 | 1 |', '| setup | 1 | 0 | 0 | 1 |'))).toMatch(/setup × client = 1 but the rows give 0/);
    });

    test('a citation whose key is not in the sources table', () => {
      const md = MINI.replace('| MDM-STS-003 | CAP |', '| MDM-STS-003 | XYZ 1.2 |');
      expect(rejection(md)).toMatch(/row MDM-STS-003\): citation "XYZ 1.2" does not start with a source key/);
    });

    test('a missing section', () => {
      expect(rejection(MINI.replace('### 3.5 Status codes', '### 3.6 Other'))).toMatch(/no heading matching/);
    });
  });
});
