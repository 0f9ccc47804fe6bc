/**
 * Alert and status codes (catalogue sections 3.4 and 3.5), generated into `codes.json` by `npm run registry`.
 *
 * Codes are strings throughout: the codec hands over the wire text untouched, and `"0200"` or `" 200"` must not
 * quietly become 200 before a check has had the chance to flag it.
 */
import data from './codes.json';

export interface AlertCodeInfo {
  code: string;
  name: string;
  direction: string;
  /** The catalogue's "Windows" column (sent / listed / not in MS-MDM …). */
  windows: string;
  notes: string;
  /** Set when the catalogue lists the code as part of a range row (e.g. `1100–1104`), which is expanded per code. */
  range?: string;
}

export interface AlertTypeInfo {
  /** The `Item/Meta/Type` string, e.g. `com.microsoft/MDM/LoginStatus`. */
  type: string;
  alert: string;
  data: string;
  source: string;
}

export interface StatusCodeInfo {
  code: string;
  name: string;
  meaning: string;
  /** Whether (and why not) the code appears in the Windows "OMA DM protocol support" status table. */
  inWomaTable: string;
}

export interface CodesFile {
  alerts: AlertCodeInfo[];
  alertTypes: AlertTypeInfo[];
  statuses: StatusCodeInfo[];
}

const FILE = data as CodesFile;

export const ALERT_CODES: readonly AlertCodeInfo[] = Object.freeze(FILE.alerts.map((a) => Object.freeze({ ...a })));
export const ALERT_TYPES: readonly AlertTypeInfo[] = Object.freeze(FILE.alertTypes.map((t) => Object.freeze({ ...t })));
export const STATUS_CODES: readonly StatusCodeInfo[] = Object.freeze(FILE.statuses.map((s) => Object.freeze({ ...s })));

const alertsByCode = new Map(ALERT_CODES.map((a) => [a.code, a]));
const statusesByCode = new Map(STATUS_CODES.map((s) => [s.code, s]));

export function alertInfo(code: string): AlertCodeInfo | undefined {
  return alertsByCode.get(code);
}

export function statusInfo(code: string): StatusCodeInfo | undefined {
  return statusesByCode.get(code);
}

export function alertName(code: string): string | undefined {
  return alertsByCode.get(code)?.name;
}

export function statusName(code: string): string | undefined {
  return statusesByCode.get(code)?.name;
}

export const Alert = {
  // OMA user-interaction alerts: not part of MS-MDM (MDM-CMD-ALT-003), named so a check can recognise them.
  Display: '1100',
  ConfirmOrReject: '1101',
  TextInput: '1102',
  SingleChoice: '1103',
  MultipleChoice: '1104',
  ServerInitiated: '1200',
  ClientInitiated: '1201',
  NextMessage: '1222',
  SessionAbort: '1223',
  ClientEvent: '1224',
  NoEndOfData: '1225',
  Generic: '1226',
} as const;
export type AlertCode = (typeof Alert)[keyof typeof Alert];

export const Code = {
  Ok: '200',
  Accepted: '202',
  AuthenticationAccepted: '212',
  ChunkedItemAccepted: '213',
  OperationCancelled: '214',
  NotExecuted: '215',
  AtomicRollbackOk: '216',
  BadRequest: '400',
  InvalidCredentials: '401',
  Forbidden: '403',
  NotFound: '404',
  CommandNotAllowed: '405',
  OptionalFeatureNotSupported: '406',
  MissingCredentials: '407',
  RequestTimeout: '408',
  IncompleteCommand: '412',
  RequestEntityTooLarge: '413',
  UriTooLong: '414',
  UnsupportedMediaType: '415',
  RequestedSizeTooBig: '416',
  AlreadyExists: '418',
  DeviceFull: '420',
  SizeMismatch: '424',
  PermissionDenied: '425',
  CommandFailed: '500',
  ServiceUnavailable: '503',
  DtdVersionNotSupported: '505',
  AtomicFailed: '507',
  DataStoreFailure: '510',
  ProtocolVersionNotSupported: '513',
  AtomicRollbackFailed: '516',
  AtomicResponseTooLarge: '517',
} as const;
export type StatusCode = (typeof Code)[keyof typeof Code];

/** `Item/Meta/Type` strings of the Windows alerts (catalogue 3.4). */
export const AlertType = {
  LoginStatus: 'com.microsoft/MDM/LoginStatus',
  SyncType: 'com.microsoft.mdm.synctype',
  DevicePrepSync: 'com.microsoft/MDM/DevicePrepSync',
  AadUserToken: 'com.microsoft/MDM/AADUserToken',
  RequestPending: 'Reversed-Domain-Name:com.microsoft.mdm.requestpending',
  Win32CspInstall: 'Reversed-Domain-Name:com.microsoft.mdm.win32csp_install',
  UnenrollUserRequest: 'com.microsoft:mdm.unenrollment.userrequest',
} as const;

export type StatusClass = 'success' | 'accepted' | 'not-executed' | 'rolled-back' | 'originator-error' | 'recipient-error' | 'unknown';

/**
 * Outcome class per MDM-STS-023. Only the 2xx codes DM uses are classed as success: the other 2xx codes of SyncML
 * belong to data synchronisation, and a DM peer sending one is something a check should see as `unknown` rather
 * than pass. 202 (asynchronous) and 213 (chunk buffered) are `accepted`: not a failure, not yet a final outcome.
 * Any 4xx or 5xx is an error of its side even when the catalogue does not list it.
 */
export function statusClass(code: string): StatusClass {
  switch (code) {
    case Code.Ok:
    case Code.AuthenticationAccepted:
    case Code.OperationCancelled:
      return 'success';
    case Code.Accepted:
    case Code.ChunkedItemAccepted:
      return 'accepted';
    case Code.NotExecuted:
      return 'not-executed';
    case Code.AtomicRollbackOk:
      return 'rolled-back';
  }
  if (/^4\d\d$/.test(code)) return 'originator-error';
  if (/^5\d\d$/.test(code)) return 'recipient-error';
  return 'unknown';
}

/** True for outcomes that must never be reported as a failure (MDM-STS-023: 202 is never a failure). */
export function isSuccessOrAccepted(code: string): boolean {
  const cls = statusClass(code);
  return cls === 'success' || cls === 'accepted';
}
