// A minimal LSP client over stdio for the integration tests: it drives the real `tandem serve`
// through vscode-languageserver-protocol, the JSON-RPC library VS Code's client is built on,
// and plays the editor's side (it applies `workspace/applyEdit` to its own copies of the text).

import { spawn, ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createProtocolConnection,
  Diagnostic,
  ProtocolConnection,
  PublishDiagnosticsParams,
  ShowMessageParams,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocumentEdit,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

/** The repository root: the nearest ancestor with `Cargo.toml` and `editors/`. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!(fs.existsSync(path.join(dir, 'Cargo.toml')) && fs.existsSync(path.join(dir, 'editors')))) {
    const up = path.dirname(dir);
    if (up === dir) {
      throw new Error(`no repository root above ${__dirname}`);
    }
    dir = up;
  }
  return dir;
}

/** `TANDEM_BIN`, else the repository's debug then release build (or `CARGO_TARGET_DIR`'s). */
export function findTandem(): string {
  if (process.env.TANDEM_BIN) {
    return process.env.TANDEM_BIN;
  }
  const root = repoRoot();
  const targets = [path.join(root, 'target')];
  if (process.env.CARGO_TARGET_DIR) {
    targets.push(path.resolve(root, process.env.CARGO_TARGET_DIR));
  }
  for (const target of targets) {
    for (const profile of ['debug', 'release']) {
      const candidate = path.join(target, profile, process.platform === 'win32' ? 'tandem.exe' : 'tandem');
      if (fs.existsSync(candidate)) {
        return candidate;
      }
    }
  }
  throw new Error(
    'no tandem binary: build it with `cargo build` at the repository root, or set TANDEM_BIN to the binary',
  );
}

export class Server {
  readonly connection: ProtocolConnection;
  readonly documents = new Map<string, TextDocument>();
  readonly diagnostics = new Map<string, PublishDiagnosticsParams>();
  readonly messages: ShowMessageParams[] = [];
  readonly applied: WorkspaceEdit[] = [];
  stderr = '';
  private waiters: Array<() => void> = [];

  constructor(
    readonly process: ChildProcessWithoutNullStreams,
    settings: unknown,
  ) {
    this.connection = createProtocolConnection(
      new StreamMessageReader(process.stdout),
      new StreamMessageWriter(process.stdin),
    );
    process.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const c = this.connection;
    c.onRequest('workspace/applyEdit', (params: { edit: WorkspaceEdit }) => {
      const ok = this.apply(params.edit);
      this.applied.push(params.edit);
      this.changed();
      return { applied: ok };
    });
    c.onRequest('window/workDoneProgress/create', () => null);
    c.onRequest('client/registerCapability', () => null);
    c.onRequest('workspace/configuration', (params: { items: unknown[] }) => params.items.map(() => settings));
    c.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      this.diagnostics.set(p.uri, p);
      this.changed();
    });
    c.onNotification('window/showMessage', (p: ShowMessageParams) => {
      this.messages.push(p);
      this.changed();
    });
    c.onNotification('window/logMessage', () => undefined);
    c.onNotification('$/progress', () => undefined);
    c.listen();
  }

  static start(binary: string, cwd: string, settings: unknown): Server {
    const child = spawn(binary, ['serve'], { cwd, env: { ...process.env, TANDEM_LOG: 'tandem=warn' } });
    return new Server(child, settings);
  }

  private changed(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Waits until `pred` holds, re-checking after every message from the server. */
  async until<T>(what: string, pred: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = pred();
      if (value) {
        return value;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${what}; server stderr:\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  open(uri: string, text: string): TextDocument {
    const doc = TextDocument.create(uri, 'python', 1, text);
    this.documents.set(uri, doc);
    void this.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text },
    });
    return doc;
  }

  /** Applies a versioned edit the way an editor does: all or nothing, versions checked. */
  apply(edit: WorkspaceEdit): boolean {
    const changes = (edit.documentChanges ?? []) as TextDocumentEdit[];
    for (const change of changes) {
      const doc = this.documents.get(change.textDocument.uri);
      if (doc === undefined || (change.textDocument.version !== null && change.textDocument.version !== doc.version)) {
        return false;
      }
    }
    for (const change of changes) {
      const doc = this.documents.get(change.textDocument.uri)!;
      this.setText(doc.uri, TextDocument.applyEdits(doc, change.edits as never));
    }
    return true;
  }

  /** Replaces a document's text and tells the server (a full-text change). */
  setText(uri: string, text: string): TextDocument {
    const doc = this.documents.get(uri)!;
    const next = TextDocument.create(uri, 'python', doc.version + 1, text);
    this.documents.set(uri, next);
    void this.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: next.version },
      contentChanges: [{ text }],
    });
    return next;
  }

  text(uri: string): string {
    return this.documents.get(uri)!.getText();
  }

  diagnosticsFor(uri: string, version?: number): Diagnostic[] | undefined {
    const p = this.diagnostics.get(uri);
    if (p === undefined || (version !== undefined && p.version !== version)) {
      return undefined;
    }
    return p.diagnostics;
  }

  async stop(): Promise<void> {
    try {
      await this.connection.sendRequest('shutdown');
      await this.connection.sendNotification('exit');
    } catch {
      // The process may already be gone.
    }
    await new Promise<void>((resolve) => {
      if (this.process.exitCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => {
        this.process.kill();
        resolve();
      }, 3000);
      this.process.on('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.connection.dispose();
  }
}
