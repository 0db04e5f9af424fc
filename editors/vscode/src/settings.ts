// VS Code settings (`tandem.*`) to the server's client settings.
//
// The server takes client settings in the shape of `tandem.toml` (docs/configuration.md) and
// warns about every key it does not know, so only the sections that mirror the file are sent,
// and a setting left at its default (null) is left out: the file's value then stays in force.
// Pure: no `vscode` import, so it runs under `node --test`.

/** The top-level tables of `tandem.toml` that the editor may set. */
export const SERVER_SECTIONS = ['workspace', 'models', 'roles', 'docs', 'cache', 'review', 'run'] as const;

/** The roles a model chain can be given for, in the order the server lists them. */
export const ROLES = ['planner', 'coder', 'reviewer', 'documenter'] as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * The initialization options (and `didChangeConfiguration` settings) for the `tandem` section
 * of VS Code's configuration, given as the plain object `getConfiguration('tandem')` holds.
 */
export function toServerSettings(section: unknown): JsonObject {
  const out: JsonObject = {};
  if (!isObject(section)) {
    return out;
  }
  for (const key of SERVER_SECTIONS) {
    const value = prune(section[key] as Json | undefined, [key]);
    if (value !== undefined) {
      out[key] = value;
    }
  }
  return out;
}

/**
 * Drops nulls, undefined values and objects left empty, recursively. Arrays are kept as they
 * are (an empty `workspace.exclude` replaces the file's list on purpose), except that an empty
 * role chain is dropped: the server rejects it, and the user means "not set".
 */
function prune(value: Json | undefined, path: string[] = []): Json | undefined {
  if (value === null || value === undefined) {
    return undefined;
  }
  if (Array.isArray(value)) {
    if (value.length === 0 && path[0] === 'roles') {
      return undefined;
    }
    return value;
  }
  if (typeof value === 'object') {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const pruned = prune(v, [...path, k]);
      if (pruned !== undefined) {
        out[k] = pruned;
      }
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** Settings that need a restart of the server rather than a `didChangeConfiguration`. */
export const RESTART_SETTINGS = ['tandem.server.path', 'tandem.server.logLevel'];

/** The `TANDEM_LOG` filter for the `tandem.server.logLevel` setting. */
export function logFilter(level: unknown): string {
  const levels = ['error', 'warn', 'info', 'debug', 'trace'];
  return `tandem=${typeof level === 'string' && levels.includes(level) ? level : 'info'}`;
}

/** Each role's model chain, from `tandem models` output overlaid with the editor's settings. */
export type RoleChains = Partial<Record<(typeof ROLES)[number], string[]>>;

/**
 * Reads the "Roles" block that `tandem models` prints:
 *
 * ```text
 * Roles
 *   planner     claude -> local
 *   documenter  builtin
 * ```
 */
export function parseRoleChains(modelsOutput: string): RoleChains {
  const chains: RoleChains = {};
  let inRoles = false;
  for (const line of modelsOutput.split(/\r?\n/)) {
    if (line.trim() === 'Roles') {
      inRoles = true;
      continue;
    }
    if (!inRoles) {
      continue;
    }
    const m = /^\s+(\w+)\s+(.+?)\s*$/.exec(line);
    if (!m) {
      break;
    }
    const role = m[1] as (typeof ROLES)[number];
    if ((ROLES as readonly string[]).includes(role)) {
      chains[role] = m[2].split('->').map((s) => s.trim()).filter((s) => s.length > 0);
    }
  }
  return chains;
}

/** The chains in force: the editor's `roles` settings win over the file's. */
export function effectiveChains(fromFile: RoleChains, settings: JsonObject): RoleChains {
  const out: RoleChains = { ...fromFile };
  const roles = settings.roles;
  if (isObject(roles)) {
    for (const role of ROLES) {
      const chain = roles[role];
      if (Array.isArray(chain) && chain.every((m) => typeof m === 'string')) {
        out[role] = chain as string[];
      }
    }
  }
  return out;
}

/** The status-bar text and tooltip for the models in use. */
export function describeModels(chains: RoleChains): { text: string; tooltip: string } {
  const first = new Set<string>();
  const lines: string[] = [];
  for (const role of ROLES) {
    const chain = chains[role] ?? ['builtin'];
    first.add(chain[0] ?? 'builtin');
    lines.push(`${role}: ${chain.join(' → ')}`);
  }
  const names = [...first].map((n) => (n === 'builtin' ? 'offline' : n));
  return { text: `Tandem: ${names.join(', ')}`, tooltip: lines.join('\n') };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

