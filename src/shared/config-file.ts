/**
 * Reading a config file, for `lifeguard run`/`apply` and `lifeguard watch` alike: YAML when its name ends in .yaml
 * or .yml, JSON otherwise, into plain data for the caller's schema. An unreadable file and bad syntax are usage
 * errors (`config: …`, exit 2) placed at their line and column; a YAML file also tells where each field is, so
 * that a schema error can say `web.yaml:7:5`.
 */
import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { LifeguardFailure, usageError } from '../checks/errors.js';
import { unreadable } from './config-fields.js';

/** Where a field is in the file the config came from (`web.yaml:7:5`), when that is known. */
export type Locate = (path: readonly PropertyKey[]) => string | undefined;

export async function readConfigFile(path: string): Promise<{ readonly json: unknown; readonly locate?: Locate }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw configError(`cannot read '${path}': ${unreadable(error)}`);
  }
  if (/\.ya?ml$/i.test(path)) return readYaml(path, text);
  try {
    return { json: JSON.parse(text) as unknown };
  } catch (error) {
    throw configError(jsonSyntaxError(path, text, (error as Error).message.split('\n')[0] ?? ''));
  }
}

/**
 * `web.json:3:7: not valid JSON: Expected ',' or '}' after property value`, as YAML's errors are placed, where
 * JSON.parse gives a position (`… in JSON at position N`, or the end of the input); its own words otherwise.
 */
function jsonSyntaxError(path: string, text: string, message: string): string {
  const at = /^(.*) in JSON at position (\d+)/.exec(message);
  const offset = at !== null ? Number(at[2]) : message === 'Unexpected end of JSON input' ? text.length : undefined;
  if (offset === undefined) return `'${path}' is not valid JSON: ${message}`;
  const before = text.slice(0, offset).split('\n');
  return `${path}:${before.length}:${(before.at(-1)?.length ?? 0) + 1}: not valid JSON: ${at?.[1] ?? message}`;
}

function readYaml(path: string, text: string): { json: unknown; locate: Locate } {
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, as a typo usually is; no custom tags, so nothing but data comes out.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const position = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  const error = doc.errors[0];
  if (error !== undefined) throw configError(`${position(error.pos[0])}: not valid YAML: ${error.message.split('\n')[0]}`);
  const locate: Locate = (fieldPath) => {
    // The field itself, else the nearest enclosing one that is there (a missing field is reported at its parent).
    for (let n = fieldPath.length; n >= 0; n--) {
      const node = doc.getIn(fieldPath.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range !== undefined && node.range !== null) return position(node.range[0]);
    }
    return undefined;
  };
  return { json: doc.toJS({ maxAliasCount: 100 }) as unknown, locate };
}

function configError(detail: string): LifeguardFailure {
  return new LifeguardFailure(usageError(`config: ${detail}`));
}
