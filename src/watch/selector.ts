/**
 * Which containers `lifeguard watch` may touch: those carrying a label (by default `lifeguard.watch=true`), or
 * every container, optionally narrowed to one compose project (`com.docker.compose.project`). The engine is asked
 * to filter by the same labels, but every container is checked here again before anything is done to it: an
 * engine that ignored a filter must not make us restart a stranger.
 *
 * Containers lifeguard made itself (`lifeguard run`'s instances, every sidecar) carry `lifeguard.role` and are
 * never watched, even with `--all`: they have a supervisor already.
 */
import { ROLE_LABEL } from '../shared/owner.js';

const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const DEFAULT_WATCH_LABEL = { key: 'lifeguard.watch', value: 'true' } as const;

export interface LabelMatch {
  readonly key: string;
  /** Absent: the label only has to be present, with any value. */
  readonly value?: string;
}

export interface Selection {
  /** Absent: every container (`--all`). */
  readonly label?: LabelMatch;
  /** Only this compose project's containers. */
  readonly project?: string;
}

export class Selector {
  private readonly wanted: readonly LabelMatch[];

  constructor(selection: Selection) {
    this.wanted = [
      ...(selection.label === undefined ? [] : [selection.label]),
      ...(selection.project === undefined ? [] : [{ key: COMPOSE_PROJECT_LABEL, value: selection.project }]),
    ];
  }

  matches(labels: Readonly<Record<string, string>> | null | undefined): boolean {
    if (labels?.[ROLE_LABEL] !== undefined) return false;
    return this.wanted.every(({ key, value }) => labels?.[key] !== undefined && (value === undefined || labels[key] === value));
  }

  /** The engine's `label` filter values (`key` or `key=value`); every one must match. */
  labelFilters(): string[] {
    return this.wanted.map(({ key, value }) => (value === undefined ? key : `${key}=${value}`));
  }

  /** For the start-up line: `containers labelled lifeguard.watch=true`, `every container`. */
  describe(): string {
    return this.wanted.length === 0 ? 'every container' : `containers labelled ${this.labelFilters().join(' and ')}`;
  }
}

/** `key=value` or `key`, as `--label` takes it; undefined when the key is empty. */
export function parseLabelMatch(text: string): LabelMatch | undefined {
  const equals = text.indexOf('=');
  const key = equals < 0 ? text : text.slice(0, equals);
  if (key.trim() === '' || key !== key.trim()) return undefined;
  return equals < 0 ? { key } : { key, value: text.slice(equals + 1) };
}
