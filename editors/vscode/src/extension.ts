// The VS Code extension: starts `tandem serve` with vscode-languageclient, sends the settings,
// shows the models and running jobs in the status bar, and adds the Tandem commands. Everything
// that can be decided without VS Code lives in settings.ts, binary.ts, commands.ts and
// progress.ts, which the unit tests cover.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { execFile } from 'node:child_process';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';

import { resolveBinary, Resolution, INSTALL_HINT } from './binary';
import * as cmd from './commands';
import { JobTracker, WorkDoneValue } from './progress';
import {
  describeModels,
  effectiveChains,
  logFilter,
  parseRoleChains,
  RESTART_SETTINGS,
  RoleChains,
  toServerSettings,
} from './settings';

const SCHEME = 'tandem';

let client: LanguageClient | undefined;
let binary: string | undefined;
let output: vscode.OutputChannel;
let traceOutput: vscode.OutputChannel;
let status: vscode.StatusBarItem;
let extensionPath = '';
let fileChains: RoleChains = {};
const jobs = new JobTracker();
const jobUi = new Map<string | number, { report: (text: string) => void; done: () => void }>();
const documents = new Map<string, string>();
const documentChanged = new vscode.EventEmitter<vscode.Uri>();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionPath = context.extensionPath;
  output = vscode.window.createOutputChannel('Tandem');
  traceOutput = vscode.window.createOutputChannel('Tandem Trace');
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  status.command = 'tandem.vscode.showOutput';
  status.show();

  context.subscriptions.push(
    output,
    traceOutput,
    status,
    documentChanged,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
      onDidChange: documentChanged.event,
      provideTextDocumentContent: (uri) => documents.get(uri.toString()) ?? '',
    }),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
    ...registerCommands(),
  );

  await startServer();
}

export async function deactivate(): Promise<void> {
  await stopServer();
}

// ---------------------------------------------------------------------------------------------
// The server

function workspaceRoot(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function serverSettings() {
  const cfg = vscode.workspace.getConfiguration('tandem');
  return toServerSettings({
    workspace: cfg.get('workspace'),
    models: cfg.get('models'),
    roles: cfg.get('roles'),
    docs: cfg.get('docs'),
    cache: cfg.get('cache'),
    review: cfg.get('review'),
    run: cfg.get('run'),
  });
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(file, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

function resolve(): Resolution {
  return resolveBinary({
    configured: vscode.workspace.getConfiguration('tandem').get<string>('server.path'),
    extensionPath,
    pathEnv: process.env.PATH,
    platform: process.platform,
    workspaceFolder: workspaceRoot(),
    home: os.homedir(),
    isExecutable,
  });
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { cwd: workspaceRoot(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${(stderr || error.message).trim()}`));
      } else {
        resolvePromise({ stdout, stderr });
      }
    });
  });
}

/** One notification with the fix; the buttons open the setting or the log. */
async function reportStartFailure(message: string): Promise<void> {
  output.appendLine(message);
  setStatus('$(error) Tandem: not running', message);
  const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Log');
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'tandem.server.path');
  } else if (choice === 'Show Log') {
    output.show();
  }
}

async function startServer(): Promise<void> {
  const found = resolve();
  if (!found.ok) {
    await reportStartFailure(found.message);
    return;
  }
  try {
    const { stdout } = await run(found.path, ['--version'], 10_000);
    output.appendLine(`Starting ${found.path} (${stdout.trim()}, from ${found.source})`);
  } catch (e) {
    await reportStartFailure(
      `Tandem: ${found.path} (from ${found.source}) does not run: ${(e as Error).message}. ${INSTALL_HINT}`,
    );
    return;
  }
  binary = found.path;

  const level = vscode.workspace.getConfiguration('tandem').get<string>('server.logLevel');
  const serverOptions: ServerOptions = {
    command: found.path,
    args: ['serve'],
    transport: TransportKind.stdio,
    options: { env: { ...process.env, TANDEM_LOG: logFilter(level) } },
  };
  let crashes: number[] = [];
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
    ],
    outputChannel: output,
    traceOutputChannel: traceOutput,
    initializationOptions: serverSettings(),
    middleware: {
      workspace: {
        // The server pulls section `tandem`; answer with the same settings it was started with,
        // not VS Code's raw section (which holds editor-only keys the server would warn about).
        configuration: async (params, token, next) => {
          const raw = await next(params, token);
          if (!Array.isArray(raw)) {
            return raw;
          }
          return params.items.map((item, i) => (item.section === 'tandem' ? serverSettings() : raw[i]));
        },
      },
    },
    errorHandler: {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        const now = Date.now();
        crashes = crashes.filter((t) => now - t < 180_000);
        crashes.push(now);
        if (crashes.length <= 3) {
          output.appendLine('The Tandem server stopped; restarting it.');
          return { action: CloseAction.Restart, handled: true };
        }
        return {
          action: CloseAction.DoNotRestart,
          message: 'Tandem: the server stopped 4 times in 3 minutes and was not restarted. See the Tandem output channel, then run "Tandem: Restart Server".',
        };
      },
    },
  };

  client = new LanguageClient('tandem', 'Tandem', serverOptions, clientOptions);
  client.onDidChangeState((e) => {
    if (e.newState === State.Stopped) {
      jobs.clear();
      for (const ui of jobUi.values()) {
        ui.done();
      }
      jobUi.clear();
      setStatus('$(debug-disconnect) Tandem: stopped', 'The Tandem server is not running. Click for its log.');
    }
  });
  try {
    await client.start();
  } catch (e) {
    client = undefined;
    await reportStartFailure(`Tandem: the server did not start: ${(e as Error).message}. See the Tandem output channel.`);
    return;
  }
  installProgressHandler(client);
  await refreshModels();
}

async function stopServer(): Promise<void> {
  const c = client;
  client = undefined;
  if (c !== undefined && c.state !== State.Stopped) {
    try {
      await c.stop(5000);
    } catch (e) {
      output.appendLine(`Stopping the server: ${(e as Error).message}`);
    }
  }
}

async function restartServer(): Promise<void> {
  await stopServer();
  await startServer();
}

async function onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
  if (!e.affectsConfiguration('tandem')) {
    return;
  }
  if (RESTART_SETTINGS.some((key) => e.affectsConfiguration(key))) {
    await restartServer();
    return;
  }
  if (client?.state === State.Running) {
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: serverSettings() });
  }
  await refreshModels();
}

// ---------------------------------------------------------------------------------------------
// Status bar and progress

function setStatus(text: string, tooltip: string): void {
  status.text = text;
  status.tooltip = tooltip;
}

let modelsText = { text: 'Tandem', tooltip: '' };

/** The models in use: the file's chains from `tandem models`, overlaid with the settings. */
async function refreshModels(): Promise<void> {
  if (binary !== undefined) {
    try {
      const { stdout } = await run(binary, cmd.modelsCliArgs(workspaceRoot()), 10_000);
      fileChains = parseRoleChains(stdout);
    } catch (e) {
      // `tandem models` exits 1 when the configuration has errors but still prints the chains.
      fileChains = parseRoleChains((e as Error).message);
    }
  }
  modelsText = describeModels(effectiveChains(fileChains, serverSettings()));
  renderStatus();
}

function renderStatus(): void {
  const job = jobs.statusText();
  if (job !== undefined) {
    setStatus(`$(sync~spin) ${modelsText.text} · ${job}`, `${modelsText.tooltip}\n\nRunning: ${job}`);
  } else {
    setStatus(`$(hubot) ${modelsText.text}`, `${modelsText.tooltip}\n\nClick for the server log.`);
  }
}

/**
 * Takes over `window/workDoneProgress/create` from the client library so that every job also
 * shows in the status bar and Cancel Run knows the cancellable ones. A cancellable job (a model
 * run) gets a notification with a cancel button; indexing shows in the status bar only.
 */
function installProgressHandler(c: LanguageClient): void {
  c.onRequest(WorkDoneProgressCreateRequest.type, ({ token }) => {
    const sub = c.onProgress(WorkDoneProgress.type, token, (value) => onProgress(c, token, value as WorkDoneValue, () => sub.dispose()));
    return null;
  });
}

function onProgress(c: LanguageClient, token: string | number, value: WorkDoneValue, dispose: () => void): void {
  const job = jobs.update(token, value);
  if (value.kind === 'begin' && job?.cancellable) {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Tandem: ${job.title}`, cancellable: true },
      (progress, cancel) =>
        new Promise<void>((done) => {
          cancel.onCancellationRequested(() => {
            void c.sendNotification(WorkDoneProgressCancelNotification.type, { token });
          });
          jobUi.set(token, {
            report: (message) => progress.report({ message }),
            done: () => done(),
          });
          if (job.message) {
            progress.report({ message: job.message });
          }
        }),
    );
  } else if (value.kind === 'report' && value.message) {
    jobUi.get(token)?.report(value.message);
  } else if (value.kind === 'end') {
    jobUi.get(token)?.done();
    jobUi.delete(token);
    dispose();
  }
  renderStatus();
}

// ---------------------------------------------------------------------------------------------
// Commands

function registerCommands(): vscode.Disposable[] {
  const reg = (id: string, fn: () => Promise<void>) =>
    vscode.commands.registerCommand(id, async () => {
      try {
        await fn();
      } catch (e) {
        void vscode.window.showErrorMessage(`Tandem: ${(e as Error).message}`);
      }
    });
  return [
    reg('tandem.vscode.planChange', planChange),
    reg('tandem.vscode.executePlan', executePlan),
    reg('tandem.vscode.implementFunction', async () => {
      const { uri, editor } = pythonEditor();
      await execute('Implement Function', cmd.implementCommand(uri, toPosition(editor.selection.active)));
    }),
    reg('tandem.vscode.reviewFile', async () => {
      const { uri } = pythonEditor();
      await execute('Review File', cmd.reviewFileCommand(uri));
    }),
    reg('tandem.vscode.reviewSelection', async () => {
      const { uri, editor } = pythonEditor();
      await execute('Review Selection', cmd.reviewSelectionCommand(uri, toRange(editor.selection)));
    }),
    reg('tandem.vscode.documentFile', async () => {
      const { uri } = pythonEditor();
      await execute('Document File', cmd.documentFileCommand(uri));
    }),
    reg('tandem.vscode.showCallGraph', showCallGraph),
    reg('tandem.vscode.showContext', showContext),
    reg('tandem.vscode.showRuns', async () => {
      await execute('Show Runs', cmd.runsCommand(), 'runs');
    }),
    reg('tandem.vscode.cancelRun', cancelRun),
    reg('tandem.vscode.restartServer', restartServer),
    reg('tandem.vscode.showOutput', async () => output.show()),
  ];
}

function pythonEditor(): { editor: vscode.TextEditor; uri: string } {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== 'python') {
    throw new Error('open a Python file first');
  }
  return { editor, uri: editor.document.uri.toString() };
}

function toPosition(p: vscode.Position): cmd.Position {
  return { line: p.line, character: p.character };
}

function toRange(r: vscode.Range): cmd.Range {
  return { start: toPosition(r.start), end: toPosition(r.end) };
}

/** Sends a command to the server and shows its error or its result. */
async function execute(title: string, params: cmd.ExecuteCommandParams, resultName = 'result'): Promise<void> {
  if (client === undefined || client.state !== State.Running) {
    throw new Error(`${title}: the server is not running (see the Tandem output channel, or run "Tandem: Restart Server")`);
  }
  let result: unknown;
  try {
    result = await client.sendRequest(ExecuteCommandRequest.type, params);
  } catch (e) {
    const message = cmd.commandErrorMessage(title, params.command, e);
    output.appendLine(message);
    void vscode.window.showErrorMessage(message);
    return;
  }
  const shown = cmd.describeResult(result);
  if (shown.kind === 'message') {
    void vscode.window.showInformationMessage(`Tandem: ${shown.text}`);
  } else if (shown.kind === 'document') {
    await showDocument(resultName, shown.text, shown.text.startsWith('{') || shown.text.startsWith('[') ? 'json' : 'plaintext');
  }
}

async function showDocument(name: string, text: string, language: string): Promise<void> {
  const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${name}` });
  documents.set(uri.toString(), text);
  documentChanged.fire(uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, language);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
}

async function planChange(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const request = await vscode.window.showInputBox({
    title: 'Tandem: Plan Change',
    prompt: editor && !editor.selection.isEmpty ? 'What should change? The selection is the focus.' : 'What should change?',
    placeHolder: 'e.g. add a discount code to the cart',
    ignoreFocusOut: true,
  });
  if (request === undefined || request.trim() === '') {
    return;
  }
  const uri = editor?.document.languageId === 'python' ? editor.document.uri.toString() : undefined;
  await execute('Plan Change', cmd.planCommand(request, uri, editor ? toRange(editor.selection) : undefined), 'plan');
}

async function executePlan(): Promise<void> {
  let planId = cmd.planIdFromPath(vscode.window.activeTextEditor?.document.uri.fsPath ?? '');
  if (planId === undefined) {
    const plans = await vscode.workspace.findFiles('.tandem/plans/*.md');
    const ids = plans.map((u) => cmd.planIdFromPath(u.fsPath)).filter((id): id is string => id !== undefined);
    planId =
      ids.length > 0
        ? await vscode.window.showQuickPick(ids, { title: 'Tandem: Execute Plan', placeHolder: 'Which plan?' })
        : await vscode.window.showInputBox({ title: 'Tandem: Execute Plan', prompt: 'Plan id (no plan files in .tandem/plans/)' });
  }
  if (planId === undefined || planId.trim() === '') {
    return;
  }
  await execute('Execute Plan', cmd.executePlanCommand(planId), 'run');
}

/** The server's call hierarchy in VS Code's references view (callers, then callees on demand). */
async function showCallGraph(): Promise<void> {
  pythonEditor();
  const all = await vscode.commands.getCommands(true);
  const id = all.includes('references-view.showCallHierarchy') ? 'references-view.showCallHierarchy' : 'editor.showCallHierarchy';
  await vscode.commands.executeCommand(id);
}

/** `tandem context FILE:LINE`: the exact context block a model request about the cursor carries. */
async function showContext(): Promise<void> {
  const { editor } = pythonEditor();
  if (binary === undefined) {
    throw new Error('Show Context needs the tandem binary; see the Tandem output channel');
  }
  if (editor.document.isDirty) {
    void vscode.window.showWarningMessage('Tandem: Show Context reads the file from disk; save it to include your changes.');
  }
  const line = editor.selection.active.line;
  const file = editor.document.uri.fsPath;
  const root = vscode.workspace.getWorkspaceFolder(editor.document.uri)?.uri.fsPath ?? workspaceRoot();
  try {
    const { stdout } = await run(binary, cmd.contextCliArgs(file, line, root), 60_000);
    await showDocument(`context/${vscode.workspace.asRelativePath(file)}:${line + 1}.md`, stdout, 'markdown');
  } catch (e) {
    void vscode.window.showErrorMessage(`Tandem: Show Context failed: ${(e as Error).message}`);
  }
}

/**
 * Cancels the running model job the server reports with a cancellable `$/progress` (what the
 * server supports today); with none running, asks the server's `tandem.cancel`.
 */
async function cancelRun(): Promise<void> {
  const running = jobs.cancellable();
  if (running.length > 0 && client !== undefined) {
    const pick =
      running.length === 1
        ? running[0]
        : (
            await vscode.window.showQuickPick(
              running.map((j) => ({ label: j.title, description: j.message, job: j })),
              { title: 'Tandem: Cancel Run' },
            )
          )?.job;
    if (pick !== undefined) {
      await client.sendNotification(WorkDoneProgressCancelNotification.type, { token: pick.token });
      void vscode.window.showInformationMessage(`Tandem: cancelling ${pick.title}`);
    }
    return;
  }
  await execute('Cancel Run', cmd.cancelCommand());
}
