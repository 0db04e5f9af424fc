// The editor's Tandem commands and the `workspace/executeCommand` requests they send. Pure: the
// extension converts VS Code types to LSP ones before calling these, and the Neovim plugin
// sends the same shapes (see docs/editors.md).

/** A zero-based LSP position and range. */
export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

/** The server's command names (`workspace/executeCommand`). */
export const SERVER_COMMANDS = {
  plan: 'tandem.plan',
  executePlan: 'tandem.executePlan',
  implement: 'tandem.implement',
  review: 'tandem.review',
  document: 'tandem.document',
  runs: 'tandem.runs',
  cancel: 'tandem.cancel',
} as const;

export type ServerCommand = (typeof SERVER_COMMANDS)[keyof typeof SERVER_COMMANDS];

export interface ExecuteCommandParams {
  command: ServerCommand;
  arguments: unknown[];
}

function isEmpty(range: Range | undefined): boolean {
  return range === undefined || (range.start.line === range.end.line && range.start.character === range.end.character);
}

/** Plan Change…: the request in words; a non-empty selection is the focus. */
export function planCommand(request: string, uri?: string, selection?: Range): ExecuteCommandParams {
  const args: Record<string, unknown> = { request: request.trim() };
  if (uri !== undefined) {
    args.uri = uri;
    if (!isEmpty(selection)) {
      args.range = selection;
    }
  }
  return { command: SERVER_COMMANDS.plan, arguments: [args] };
}

/** The plan id of a plan file (`.tandem/plans/<id>.md`), or undefined for any other file. */
export function planIdFromPath(file: string): string | undefined {
  const m = /(?:^|[\\/])\.tandem[\\/]plans[\\/]([^\\/]+)\.md$/.exec(file);
  return m ? m[1] : undefined;
}

export function executePlanCommand(planId: string): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.executePlan, arguments: [{ planId: planId.trim() }] };
}

/** Implement Function: the function at the cursor (an empty range there). */
export function implementCommand(uri: string, cursor: Position): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.implement, arguments: [{ uri, range: { start: cursor, end: cursor } }] };
}

/** Review File: no range reviews the whole file. */
export function reviewFileCommand(uri: string): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.review, arguments: [{ uri }] };
}

/**
 * Review Selection: the lines the selection touches. An empty selection (a cursor) asks for the
 * innermost function or class there, which is what the server does with an empty range.
 */
export function reviewSelectionCommand(uri: string, selection: Range): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.review, arguments: [{ uri, range: selection }] };
}

/** Document File: no range documents every undocumented symbol of the file. */
export function documentFileCommand(uri: string): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.document, arguments: [{ uri }] };
}

export function runsCommand(): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.runs, arguments: [] };
}

export function cancelCommand(runId?: string): ExecuteCommandParams {
  return { command: SERVER_COMMANDS.cancel, arguments: runId ? [{ runId }] : [] };
}

/** `tandem context FILE:LINE` for a zero-based line, with the workspace root. */
export function contextCliArgs(file: string, line: number, workspaceRoot?: string, budget?: number): string[] {
  const args: string[] = [];
  if (workspaceRoot !== undefined) {
    args.push('--workspace', workspaceRoot);
  }
  args.push('context', `${file}:${line + 1}`);
  if (budget !== undefined && budget > 0) {
    args.push('--budget', String(Math.floor(budget)));
  }
  return args;
}

/** `tandem models` in the workspace: what the status bar reads the file's role chains from. */
export function modelsCliArgs(workspaceRoot?: string): string[] {
  return workspaceRoot !== undefined ? ['--workspace', workspaceRoot, 'models'] : ['models'];
}

/**
 * The message shown when the server answers a command with an error. The server's own text is
 * kept whole: for a command it does not run yet it names the commands it does run.
 */
export function commandErrorMessage(title: string, command: string, error: unknown): string {
  const text =
    error instanceof Error
      ? error.message
      : typeof error === 'object' && error !== null && 'message' in error
        ? String((error as { message: unknown }).message)
        : String(error);
  return `Tandem: ${title} failed: the server answered ${command} with: ${text}`;
}

/** How a command's result is shown: nothing, a message, or a document. */
export function describeResult(result: unknown): { kind: 'none' } | { kind: 'message'; text: string } | { kind: 'document'; text: string } {
  if (result === null || result === undefined) {
    return { kind: 'none' };
  }
  if (typeof result === 'string') {
    return result.includes('\n') ? { kind: 'document', text: result } : { kind: 'message', text: result };
  }
  return { kind: 'document', text: JSON.stringify(result, null, 2) };
}
