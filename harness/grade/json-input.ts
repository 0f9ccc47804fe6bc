/**
 * Reading a JSON capture file with errors a user can act on: a syntax error names its line and column (Node's own
 * message does not always give a position), a truncated file says it ends early.
 */
import { readFileSync } from 'node:fs';
import { GradeInputError } from './capture';

/** Reads and parses `file`; any failure is a GradeInputError naming the file and where the JSON breaks. */
export function readJsonFile(file: string, what: string): unknown {
  const text = readTextFile(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message.split(/, "|\n/)[0] : String(e);
    let offset: number;
    try {
      offset = syntaxErrorOffset(text);
    } catch {
      // Nesting too deep to follow here: Node's message is all there is.
      throw new GradeInputError(file, undefined, `invalid JSON (${detail}); not a readable ${what}`);
    }
    const { line, column } = lineColumn(text, offset);
    const reason = offset >= text.length ? 'the file ends in the middle of the JSON (truncated?)' : `invalid JSON (${detail})`;
    throw new GradeInputError(file, `line ${line} column ${column}`, `${reason}; not a readable ${what}`);
  }
}

export function readTextFile(file: string): string {
  return readFileBytes(file).toString('utf8').replace(/^\uFEFF/, '');
}

export function readFileBytes(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new GradeInputError(file, undefined, 'no such file or directory');
    if (code === 'EISDIR') throw new GradeInputError(file, undefined, 'is a directory, expected a file');
    if (code === 'EACCES') throw new GradeInputError(file, undefined, 'permission denied');
    throw new GradeInputError(file, undefined, `cannot be read (${code ?? (e instanceof Error ? e.message : String(e))})`);
  }
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Offset of the first character that makes `text` invalid JSON (RFC 8259), or its length when it ends early.
 * Only called once JSON.parse has failed, so speed does not matter; correctness of the position does.
 */
export function syntaxErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  class Stop {
    constructor(readonly at: number) {}
  }
  const fail = (at = i): never => {
    throw new Stop(at);
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (i >= text.length) fail(text.length);
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail(text.length);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        if (i >= text.length) fail(text.length);
        if ('"\\/bfnrt'.includes(text[i])) i++;
        else if (text[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) {
            if (i >= text.length) fail(text.length);
            if (!/[0-9a-fA-F]/.test(text[i])) fail();
          }
        } else fail();
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0] === '') fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    if (i >= text.length) fail(text.length);
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (i >= text.length) fail(text.length);
        if (text[i] !== '"') fail();
        string();
        ws();
        if (i >= text.length) fail(text.length);
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (i >= text.length) fail(text.length);
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (i >= text.length) fail(text.length);
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    fail();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (e) {
    if (e instanceof Stop) return e.at;
    throw e;
  }
}
