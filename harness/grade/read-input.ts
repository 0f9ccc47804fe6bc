/**
 * One entry point for every kind of capture: the reader is picked by what the path is.
 *
 *   a folder of Allure results (`*-result.json`)   -> the harness's transcripts (readAllureResults)
 *   any other folder                               -> one message per .xml file (readXmlFolder)
 *   `.har`, or JSON with `log.entries`             -> HAR (readHar)
 *   JSON with `sessions`                           -> a conformance-transcript attachment (readTranscriptJson)
 *   anything else                                  -> text with SyncML documents one after another (readConcatenated)
 */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { GradeInputError, type CaptureLog, type CapturedMessage } from './capture';
import { readConcatenated } from './concatenated';
import { harMessages, isHar } from './har';
import { readFileBytes, readJsonFile } from './json-input';
import { isAllureResults, isTranscriptExport, readAllureResults, transcriptMessages } from './transcript-json';
import { readXmlFolder } from './xml-folder';

export function readInput(path: string, log?: CaptureLog): CapturedMessage[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new GradeInputError(path, undefined, code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${code ?? String(e)})`);
  }
  if (isDirectory) return isAllureResults(path) ? readAllureResults(path) : readXmlFolder(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.har' || ext === '.json' || looksLikeJson(readFileBytes(path))) {
    const doc = readJsonFile(path, ext === '.har' ? 'HAR file' : 'HAR or conformance-transcript JSON');
    if (isHar(doc) || ext === '.har') return harMessages(doc, path, log);
    if (isTranscriptExport(doc)) return transcriptMessages(doc, path);
    throw new GradeInputError(path, undefined, 'JSON that is neither a HAR file (log.entries) nor a conformance-transcript (sessions)');
  }
  return readConcatenated(path);
}

function looksLikeJson(bytes: Buffer): boolean {
  for (const b of bytes.subarray(0, 1024)) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) continue;
    return b === 0x7b; // "{"
  }
  return false;
}
