/**
 * A folder of saved messages (device diagnostics, or one file per message saved by hand): its `.xml` files in
 * natural name order (`msg2` before `msg10`), one message each, the direction read from the SyncHdr.
 *
 * There are no HTTP facts in such a folder, so HTTP-level rules cannot be judged from it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { headerOf } from './body';
import { bodyKind, firstTag, GradeInputError, type CapturedMessage } from './capture';
import { readFileBytes } from './json-input';

/** Natural order: runs of digits compare as numbers; ties fall back to plain order so the result is total. */
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export function readXmlFolder(dir: string): CapturedMessage[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new GradeInputError(dir, undefined, 'is a file, expected a folder of .xml messages');
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof GradeInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new GradeInputError(dir, undefined, code === 'ENOENT' ? 'no such file or directory' : `cannot be read (${code ?? String(e)})`);
  }
  const isFile = (name: string) => {
    try {
      return statSync(join(dir, name)).isFile();
    } catch {
      return false; // a dangling link is no message
    }
  };
  const files = names.filter((n) => /\.xml$/i.test(n) && isFile(n)).sort(naturalCompare);
  if (!files.length) {
    throw new GradeInputError(dir, undefined, `no .xml files in this folder${names.length ? ` (it holds ${names.length} other entries)` : ' (it is empty)'}; save each SyncML message as its own .xml file`);
  }
  return files.map((name) => {
    const file = join(dir, name);
    const body = readFileBytes(file);
    const kind = bodyKind(body);
    if (kind === 'other') throw new GradeInputError(file, 'whole file', `not a SyncML message: the document starts with ${firstTag(body)}, a SyncML message with <SyncML>`);
    const m: CapturedMessage = { source: { file, position: 'whole file' }, body };
    const from = headerOf(m)?.from;
    if (from) m.from = from;
    return m;
  });
}
