/**
 * Catalogue rows that cannot be observed on the wire between one device and one server over HTTPS, each with the
 * reason, reviewed row by row. They are reported as out of scope, never silently dropped, and never as passed.
 * "Hard to provoke" is not a reason to be here: such rows get a scenario, or stay "not judged" with what it needs.
 *
 * A row of role `both` may be observable from one side only: it is out of scope in that mode alone and judged in
 * the other.
 */
import { requirement } from './registry';

const REASONS: Readonly<Record<string, string>> = {
  'MDM-SES-016':
    'the early check-in is triggered by a WNS push, which travels from the notification service to the device, outside any DM session over HTTPS',
};

/** Reasons that hold in one mode only (`server`: a server under test; `client`: a client under test). */
const MODE_REASONS: Readonly<Record<string, Partial<Record<'server' | 'client', string>>>> = {
  'MDM-LO-015': {
    server: 'a server receives chunked objects only from the device (Results, at times a generic alert) and keeps them in its '
      + 'own store: nothing it sends depends on whether it kept part of one before the last chunk (a 200 Results gets no Status), '
      + 'so this cannot be seen on the wire. What can be seen is judged: 213 per chunk (MDM-LO-010, MDM-LO-021), 424 on a size '
      + 'mismatch (MDM-LO-012), Alert 1225 for an abandoned object (MDM-LO-014)',
  },
};

for (const id of [...Object.keys(REASONS), ...Object.keys(MODE_REASONS)]) requirement(id); // an unknown id is a defect of this table, caught at load

/**
 * Why the row cannot be observed over this transport; undefined for rows in scope. With a mode, reasons that hold
 * only in that mode count too; without one (a listing of the catalogue, grading both sides), only those of every mode.
 */
export function outOfScope(id: string, mode?: string): string | undefined {
  return REASONS[id] ?? (mode === 'server' || mode === 'client' ? MODE_REASONS[id]?.[mode] : undefined);
}

/** Rows out of scope in one mode only, with that mode's reason, for listings of the catalogue. */
export function outOfScopeIn(id: string): Partial<Record<'server' | 'client', string>> {
  return MODE_REASONS[id] ?? {};
}

export const OUT_OF_SCOPE_IDS: readonly string[] = Object.keys(REASONS);
