/**
 * What a Windows package 1 may look like. Windows numbers its first command 2 and sends Alert 1201, the LoginStatus
 * alert and the five DevInfo items (catalogue 3.11); the catalogue lets every one of these vary: CmdIDs need not
 * start at 1 or 2 nor be contiguous (MDM-ID-004), the LoginStatus alert is a MAY (MDM-CMD-ALT-009), a real check-in
 * adds `./Vendor/MSFT/DMClient/HWDevID` as a sixth item (A-32), and a session answering a server trigger opens with
 * 1200 (MDM-CMD-ALT-001, MDM-SES-008, A-27). A server must take each of them; the reference device varies them
 * across scenarios, seeded by the run's seed, so a server that only takes Windows' exact shape is caught.
 */
import type { Rng } from '../protocol/random';

export interface Package1Shape {
  /** CmdID of the first command. */
  firstCmdID: number;
  /** Numbers left out after each command's CmdID (0: contiguous). */
  cmdIDGap: number;
  /** Alert 1224 com.microsoft/MDM/LoginStatus present. */
  loginStatus: boolean;
  /** `./Vendor/MSFT/DMClient/HWDevID` as a sixth item of the DevInfo Replace. */
  hwDevId: boolean;
  /** The session alert; absent: 1201, unless the session asks for another. */
  sessionAlert?: '1201' | '1200';
}

/** Package 1 exactly as the captured Windows traffic shows it. */
export const WINDOWS_PACKAGE_1: Readonly<Package1Shape> = Object.freeze({ firstCmdID: 2, cmdIDGap: 0, loginStatus: true, hwDevId: false });

export const HWDEVID_URI = './Vendor/MSFT/DMClient/HWDevID';

/**
 * A package 1 shape drawn from `rng`: about half of them keep Windows' numbering, the rest start at 1 or leave gaps.
 * The session alert varies only when `sessionAlert` is set: 1200 answers a server trigger, so only a session in which
 * nothing waits on the server may open with it (a server that takes only 1201 breaks a SHOULD, MDM-SES-008, and must
 * not lose queued commands for it in a scenario that judges something else).
 */
export function varyPackage1(rng: Rng, opts: { sessionAlert?: boolean } = {}): Package1Shape {
  const numbering = rng.pick([{ first: 2, gap: 0 }, { first: 2, gap: 0 }, { first: 1, gap: 0 }, { first: 2, gap: 3 }, { first: 1, gap: 1 }, { first: 5, gap: 2 }]);
  const shape: Package1Shape = {
    firstCmdID: numbering.first,
    cmdIDGap: numbering.gap,
    loginStatus: rng.int(0, 3) > 0,
    hwDevId: rng.int(0, 3) === 0,
  };
  if (opts.sessionAlert) shape.sessionAlert = rng.int(0, 3) === 0 ? '1200' : '1201';
  return shape;
}

/** The shape in words, for the notes of a session. */
export function describePackage1(s: Package1Shape): string {
  const numbering = s.cmdIDGap ? `CmdIDs from ${s.firstCmdID} with gaps of ${s.cmdIDGap}` : `CmdIDs from ${s.firstCmdID}`;
  return [
    `Alert ${s.sessionAlert ?? '1201'}`, numbering, s.loginStatus ? 'LoginStatus alert' : 'no LoginStatus alert', s.hwDevId ? 'HWDevID item' : 'five DevInfo items',
  ].join(', ');
}
