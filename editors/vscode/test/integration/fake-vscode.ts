// Just enough of the `vscode` module to load vscode-languageclient and run the extension's
// `activate` outside VS Code (which cannot be downloaded here). What the test looks at
// (notifications, the status bar, commands, settings) is real; the rest of the API is a
// universal stub: callable, constructible, every property another stub, never a thenable.

import Module = require('node:module');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function stub(name = 'stub'): Any {
  const fn = function () {
    return stub(`${name}()`);
  };
  return new Proxy(fn, {
    get(target: Any, key) {
      if (key === 'then') return undefined;
      if (key === Symbol.toPrimitive) return () => name;
      if (key === Symbol.iterator) return function* () {};
      if (key === 'dispose') return () => undefined;
      if (!(key in target)) target[key] = stub(`${name}.${String(key)}`);
      return target[key];
    },
    apply() {
      return stub(`${name}()`);
    },
    construct() {
      return stub(`new ${name}`);
    },
  });
}

export class EventEmitter<T> {
  private listeners: Array<(e: T) => void> = [];
  event = (listener: (e: T) => void) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T) {
    this.listeners.forEach((l) => l(e));
  }
  dispose() {
    this.listeners = [];
  }
}

class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  static from(...ds: Array<{ dispose(): unknown }>) {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose() {
    this.fn();
  }
}

class Uri {
  constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  static file(p: string) {
    return new Uri('file', '', p);
  }
  static parse(s: string) {
    const u = new URL(s);
    return new Uri(u.protocol.replace(':', ''), u.host, decodeURIComponent(u.pathname));
  }
  static from(c: { scheme: string; path?: string }) {
    return new Uri(c.scheme, '', c.path ?? '');
  }
  get fsPath() {
    return this.path;
  }
  with() {
    return this;
  }
  toString() {
    return `${this.scheme}://${this.authority}${this.path}`;
  }
  toJSON() {
    return this.toString();
  }
}

export interface Fake {
  settings: Record<string, unknown>;
  workspaceFolder: string;
  errors: string[];
  infos: string[];
  commands: Map<string, (...args: unknown[]) => unknown>;
  status: { text: string; tooltip: string };
  output: string[];
  configurationChanged: EventEmitter<{ affectsConfiguration(s: string): boolean }>;
}

export function installFakeVscode(fake: Fake): void {
  const window = new Proxy(
    {
      createOutputChannel: (name: string) => ({
        name,
        append: (s: string) => fake.output.push(s),
        appendLine: (s: string) => fake.output.push(s),
        replace: () => undefined,
        clear: () => undefined,
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
      }),
      createStatusBarItem: () => {
        const item = fake.status as Any;
        item.show = () => undefined;
        item.hide = () => undefined;
        item.dispose = () => undefined;
        return item;
      },
      showErrorMessage: async (m: string) => {
        fake.errors.push(m);
        return undefined;
      },
      showWarningMessage: async (m: string) => {
        fake.infos.push(m);
        return undefined;
      },
      showInformationMessage: async (m: string) => {
        fake.infos.push(m);
        return undefined;
      },
      withProgress: async (_o: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) =>
        task({ report: () => undefined }, { onCancellationRequested: () => new Disposable(), isCancellationRequested: false }),
      activeTextEditor: undefined,
      visibleTextEditors: [],
      onDidChangeActiveTextEditor: new EventEmitter().event,
      onDidChangeVisibleTextEditors: new EventEmitter().event,
      tabGroups: { all: [], onDidChangeTabs: new EventEmitter().event },
    } as Any,
    { get: (t, k) => (k in t ? t[k] : stub(`window.${String(k)}`)) },
  );
  const getConfiguration = (section?: string) => {
    const prefix = section ? `${section}.` : '';
    return {
      get: (key: string, dflt?: unknown) => {
        const full = prefix + key;
        if (full in fake.settings) return fake.settings[full];
        // Nested objects, as VS Code builds them from dotted settings.
        const nested: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(fake.settings)) {
          if (k.startsWith(`${full}.`)) nested[k.slice(full.length + 1)] = v;
        }
        return Object.keys(nested).length > 0 ? nested : dflt;
      },
      has: () => false,
      inspect: () => undefined,
      update: async () => undefined,
    };
  };
  const workspace = new Proxy(
    {
      getConfiguration,
      get workspaceFolders() {
        return [{ uri: Uri.file(fake.workspaceFolder), name: 'shop', index: 0 }];
      },
      getWorkspaceFolder: () => ({ uri: Uri.file(fake.workspaceFolder), name: 'shop', index: 0 }),
      textDocuments: [],
      onDidChangeConfiguration: fake.configurationChanged.event,
      registerTextDocumentContentProvider: () => new Disposable(),
      findFiles: async () => [],
    } as Any,
    { get: (t, k) => (k in t ? t[k] : stub(`workspace.${String(k)}`)) },
  );
  const commands = {
    registerCommand: (id: string, fn: (...args: unknown[]) => unknown) => {
      if (fake.commands.has(id)) throw new Error(`command ${id} already exists`);
      fake.commands.set(id, fn);
      return new Disposable(() => fake.commands.delete(id));
    },
    executeCommand: async (id: string, ...args: unknown[]) => fake.commands.get(id)?.(...args),
    getCommands: async () => [...fake.commands.keys()],
  };
  const enums = {
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    ViewColumn: { Active: -1, Beside: -2, One: 1 },
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  };
  const vscode = new Proxy(
    { version: '1.95.0', window, workspace, commands, EventEmitter, Disposable, Uri, ...enums, env: { appName: 'Visual Studio Code', appRoot: '/', language: 'en', machineId: 'test', sessionId: 'test', uiKind: 1, shell: '/bin/sh', clipboard: stub('clipboard'), openExternal: async () => true } } as Any,
    { get: (t, k) => (k in t ? t[k] : (t[k] = stub(String(k)))) },
  );
  const load = (Module as Any)._load;
  (Module as Any)._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? vscode : load.call(this, request, ...rest);
  };
}
