/**
 * Captured MS-MDM traffic read into sessions the passive checks can judge offline:
 *
 *   readInput(path)         any capture: HAR, folder of .xml messages, text of concatenated messages, the harness's
 *                           conformance-transcript JSON or a run's Allure results folder
 *   groupSessions(messages) -> CapturedSession[] (one device, one SessionID, exchanges numbered like a live view)
 *   groupDevices(sessions)  -> sessions by device
 *   toHar(exchanges)        a live transcript as HAR 1.2
 *
 * and judged: judgeCaptured (./judge.ts) runs the passive checks of the chosen sides on a captured session;
 * judgeCaptures and writeCaptureReports (./reports.ts) turn judged sessions into the reports of a run, for the
 * `grade` and `proxy` commands.
 */
export * from './capture';
export { readBody, headerOf, httpFacts, wireOf, type ReadBody, type HeaderFacts } from './body';
export { readHar, harMessages, isHar } from './har';
export { readXmlFolder, naturalCompare } from './xml-folder';
export { readConcatenated } from './concatenated';
export { readTranscriptJson, readAllureResults, transcriptMessages, isTranscriptExport, isAllureResults } from './transcript-json';
export { readInput } from './read-input';
export { groupSessions, groupDevices, REPLY_NOT_CAPTURED, type CapturedSession, type CapturedDevice, type SessionHints } from './sessions';
export { toHar, type Har, type HarEntry, type HarOptions } from './har-writer';
export { judgeCaptured, notJudgedInCapture, captureFacts, GRADE_ROLES, type GradeRole, type CaptureFacts } from './judge';
export { judgeCaptures, writeCaptureReports, captureVerdicts, exportCaptured, sessionLine, type JudgedCapture, type CaptureReportOptions } from './reports';
