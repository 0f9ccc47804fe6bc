/**
 * A text file holding several SyncML documents one after another: a log, a console copy, messages pasted into
 * one file. Each document runs from its `<SyncML` start (with the `<?xml …?>` declaration and comments right before
 * it, when there are) to its `</SyncML>`; whatever lies between documents (log lines, separators) is ignored.
 * A document cut off before its end tag runs to the next document and is kept, for the checks to report.
 *
 * Positions are line numbers of each document's first line. There are no HTTP facts in such a file.
 */
import { headerOf } from './body';
import { GradeInputError, type CapturedMessage } from './capture';
import { readFileBytes } from './json-input';

const ROOT_START = /<((?:[A-Za-z_][\w.-]*:)?)SyncML(?=[\s>/])/g;
/** Declaration and comments directly before a root start, with nothing else between. */
const PROLOG_WINDOW = 4096;
const PROLOG_BEFORE = /(?:\xEF\xBB\xBF)?<\?xml\b[^?]*\?>\s*(?:<!--(?:(?!-->)[\s\S])*-->\s*)*$|(?:<!--(?:(?!-->)[\s\S])*-->\s*)+$/;

export function readConcatenated(file: string): CapturedMessage[] {
  const bytes = readFileBytes(file);
  // latin1 maps each byte to one character, so string offsets are byte offsets into `bytes`.
  const text = bytes.toString('latin1');
  const starts: { at: number; prefix: string }[] = [];
  for (const m of text.matchAll(ROOT_START)) starts.push({ at: m.index!, prefix: m[1] });
  if (!starts.length) {
    throw new GradeInputError(file, undefined, text.trim() ? 'no <SyncML> document in this file; not SyncML at all' : 'the file is empty');
  }
  const out: CapturedMessage[] = [];
  let previousEnd = 0;
  let line = 1;
  let counted = 0;
  for (let k = 0; k < starts.length; k++) {
    const { at, prefix } = starts[k];
    const next = k + 1 < starts.length ? starts[k + 1].at : text.length;
    // A prolog is short: looking only at the tail keeps long logs between documents linear.
    const lookFrom = Math.max(previousEnd, at - PROLOG_WINDOW);
    const prolog = PROLOG_BEFORE.exec(text.slice(lookFrom, at));
    const begin = prolog ? lookFrom + prolog.index : at;
    const close = new RegExp(`</${prefix.replace(/\./g, '\\.')}SyncML\\s*>`, 'g');
    close.lastIndex = at;
    const found = close.exec(text);
    let end: number;
    if (found && found.index < next) {
      end = found.index + found[0].length;
    } else {
      // Cut short: up to the next document (and its prolog), without the white space before it.
      const tailFrom = Math.max(at, next - PROLOG_WINDOW);
      const nextProlog = k + 1 < starts.length ? PROLOG_BEFORE.exec(text.slice(tailFrom, next)) : null;
      end = nextProlog ? tailFrom + nextProlog.index : next;
      while (end > at && /\s/.test(text[end - 1])) end--;
    }
    for (let i = text.indexOf('\n', counted); i !== -1 && i < begin; i = text.indexOf('\n', i + 1)) line++;
    counted = begin;
    const m: CapturedMessage = { source: { file, position: `line ${line}` }, body: bytes.subarray(begin, end) };
    const from = headerOf(m)?.from;
    if (from) m.from = from;
    out.push(m);
    previousEnd = end;
  }
  return out;
}
