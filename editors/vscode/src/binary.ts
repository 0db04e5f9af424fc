// Finding the `tandem` binary: the `tandem.server.path` setting, then the binary bundled in the
// extension (`bin/tandem`), then `PATH`. Pure apart from the injected file checks, so the order
// is tested without a file system.

import * as path from 'node:path';

export type BinarySource = 'setting' | 'bundled' | 'path';

export type Resolution =
  | { ok: true; path: string; source: BinarySource }
  | { ok: false; message: string };

export interface ResolveInput {
  /** `tandem.server.path`, possibly empty. */
  configured: string | undefined;
  /** The extension's folder (`context.extensionPath`). */
  extensionPath: string;
  /** The `PATH` environment variable. */
  pathEnv: string | undefined;
  platform: NodeJS.Platform;
  /** The first workspace folder, for `${workspaceFolder}` and relative settings. */
  workspaceFolder?: string;
  home?: string;
  /** Whether a file exists and can be executed. */
  isExecutable: (file: string) => boolean;
}

export const INSTALL_HINT =
  'Install it with `cargo install --path server` from the Tandem repository (or put a release binary on PATH), ' +
  'or set `tandem.server.path` to the binary.';

export function executableName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'tandem.exe' : 'tandem';
}

/** Expands `~` and `${workspaceFolder}`, and makes a relative path relative to the workspace. */
export function expandSetting(value: string, input: Pick<ResolveInput, 'workspaceFolder' | 'home' | 'platform'>): string {
  const p = input.platform === 'win32' ? path.win32 : path.posix;
  let v = value.trim();
  if (input.workspaceFolder !== undefined) {
    v = v.split('${workspaceFolder}').join(input.workspaceFolder);
  }
  if (input.home !== undefined && (v === '~' || v.startsWith('~/') || v.startsWith('~\\'))) {
    v = p.join(input.home, v.slice(1));
  }
  if (!p.isAbsolute(v) && input.workspaceFolder !== undefined) {
    v = p.join(input.workspaceFolder, v);
  }
  return v;
}

export function resolveBinary(input: ResolveInput): Resolution {
  const p = input.platform === 'win32' ? path.win32 : path.posix;
  const name = executableName(input.platform);

  const configured = input.configured?.trim();
  if (configured) {
    const file = expandSetting(configured, input);
    if (input.isExecutable(file)) {
      return { ok: true, path: file, source: 'setting' };
    }
    // A setting that points nowhere is a mistake to report, not a reason to run another binary.
    return {
      ok: false,
      message: `Tandem: \`tandem.server.path\` is set to ${configured}, but ${file} is not an executable file. Fix the setting, or clear it to use the bundled binary or the one on PATH.`,
    };
  }

  const bundled = p.join(input.extensionPath, 'bin', name);
  if (input.isExecutable(bundled)) {
    return { ok: true, path: bundled, source: 'bundled' };
  }

  const separator = input.platform === 'win32' ? ';' : ':';
  for (const dir of (input.pathEnv ?? '').split(separator)) {
    if (dir.length === 0) {
      continue;
    }
    const candidate = p.join(dir, name);
    if (input.isExecutable(candidate)) {
      return { ok: true, path: candidate, source: 'path' };
    }
  }

  return {
    ok: false,
    message: `Tandem: the \`tandem\` binary was not found (no \`tandem.server.path\` setting, no binary bundled in the extension, none on PATH). ${INSTALL_HINT}`,
  };
}
