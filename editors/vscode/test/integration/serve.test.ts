// The extension's protocol path against the real `tandem serve`: the initialization options
// the extension builds, the code action the editor shows on an undocumented function, the
// `tandem.document` command and the `workspace/applyEdit` it answers with, a DOC diagnostic and
// its quick fix, and the error a command the server does not run yet comes back with.

import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CodeAction, Command, ResponseError } from 'vscode-languageserver-protocol/node';

import * as cmd from '../../src/commands';
import { toServerSettings } from '../../src/settings';
import { findTandem, repoRoot, Server } from './server';

let workspace: string;
let server: Server;
const settings = toServerSettings({
  server: { path: '', logLevel: 'info' },
  roles: { planner: null, coder: null, reviewer: null, documenter: null },
  docs: { style: 'google', concurrency: 2, streams: null },
  cache: { enabled: false, max_size_mb: null },
});

before(async () => {
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-vscode-'));
  fs.cpSync(path.join(repoRoot(), 'examples', 'shop'), workspace, { recursive: true });
  server = Server.start(findTandem(), workspace, settings);
  const rootUri = pathToFileURL(workspace).toString();
  const init = (await server.connection.sendRequest('initialize', {
    processId: process.pid,
    clientInfo: { name: 'tandem-vscode-test' },
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: 'shop' }],
    initializationOptions: settings,
    capabilities: {
      general: { positionEncodings: ['utf-16'] },
      window: { workDoneProgress: true, showMessage: {} },
      workspace: {
        applyEdit: true,
        workspaceEdit: { documentChanges: true },
        configuration: true,
        didChangeConfiguration: { dynamicRegistration: true },
        executeCommand: {},
      },
      textDocument: {
        synchronization: { didSave: true },
        publishDiagnostics: { versionSupport: true, relatedInformation: true },
        codeAction: {
          codeActionLiteralSupport: {
            codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'refactor.rewrite', 'source'] },
          },
        },
      },
    },
  })) as { capabilities: { executeCommandProvider?: { commands: string[] } } };
  assert.ok(init.capabilities.executeCommandProvider?.commands.includes('tandem.document'));
  await server.connection.sendNotification('initialized', {});
});

after(async () => {
  await server?.stop();
  fs.rmSync(workspace, { recursive: true, force: true });
});

function uriOf(rel: string): string {
  return pathToFileURL(path.join(workspace, rel)).toString();
}

function lineOf(text: string, needle: string): number {
  const line = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `no line with ${needle}`);
  return line;
}

test('the settings the extension sends are accepted without warnings', async () => {
  // Configuration problems arrive as window/showMessage right after `initialized`.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(
    server.messages.filter((m) => /client settings/.test(m.message)),
    [],
  );
});

test('Generate docstring: code action, tandem.document, applyEdit, the docstring in place', async () => {
  const uri = uriOf('src/shop/cart.py');
  const text = fs.readFileSync(path.join(workspace, 'src/shop/cart.py'), 'utf8');
  server.open(uri, text);
  const def = lineOf(text, 'def remove(');
  const character = text.split('\n')[def].indexOf('remove');

  const actions = (await server.connection.sendRequest('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: { line: def, character }, end: { line: def, character } },
    context: { diagnostics: [] },
  })) as Array<CodeAction | Command>;
  const generate = actions.find((a) => a.title === 'Generate docstring for `remove`') as CodeAction | undefined;
  assert.ok(generate, `no Generate docstring action among ${actions.map((a) => a.title).join(', ')}`);
  assert.equal(generate.kind, 'refactor.rewrite');
  assert.equal(generate.command?.command, 'tandem.document');
  assert.ok(
    actions.some((a) => a.title === 'Document all undocumented symbols in file'),
    'the whole-file action is offered too',
  );

  // What vscode-languageclient does when the user picks the action.
  const answer = await server.connection.sendRequest('workspace/executeCommand', {
    command: generate.command!.command,
    arguments: generate.command!.arguments,
  });
  assert.equal(answer, null);
  await server.until('the docstring edit', () => server.applied.length > 0);

  const lines = server.text(uri).split('\n');
  assert.match(lines[def], /^    def remove\(self, sku: str, quantity: int \| None = None\) -> None:$/);
  assert.match(lines[def + 1], /^        """\S/, 'the docstring is the first statement, one level in');
  const body = lines.slice(def + 1).join('\n');
  assert.match(body, /^        """[\s\S]*?Args:\n\s+sku \(str\):[\s\S]*?Raises:\n\s+CartError:[\s\S]*?"""\n        line = self\._lines\.get\(sku\)/);
  // Nothing else in the file moved.
  assert.equal(lines.slice(0, def + 1).join('\n'), text.split('\n').slice(0, def + 1).join('\n'));
});

test('DOC102 on Cart.add arrives with its quick fix, which updates the docstring', async () => {
  const uri = uriOf('src/shop/cart.py');
  const version = server.documents.get(uri)!.version;
  const diagnostics = await server.until('DOC102 on Cart.add', () => {
    const all = server.diagnosticsFor(uri, version);
    return all?.some((d) => d.code === 'DOC102') ? all : undefined;
  });
  const doc102 = diagnostics.find((d) => d.code === 'DOC102')!;
  assert.equal(doc102.source, 'tandem');
  assert.match(doc102.message, /`Cart.add`/);

  const actions = (await server.connection.sendRequest('textDocument/codeAction', {
    textDocument: { uri },
    range: doc102.range,
    context: { diagnostics: [doc102], only: ['quickfix'] },
  })) as CodeAction[];
  const fix = actions.find((a) => a.title === 'Update docstring to match signature');
  assert.ok(fix?.edit, `no quick fix among ${actions.map((a) => a.title).join(', ')}`);
  assert.equal(fix.kind, 'quickfix');
  assert.ok(server.apply(fix.edit), 'the quick fix applies to the version it was computed on');

  const text = server.text(uri);
  assert.doesNotMatch(text, /price_override/);
  assert.match(text, /product \(Product\): What to add\.\n\s+quantity \(int\): How many units to add\.\n\n\s+Returns:/);
  const fixed = server.documents.get(uri)!.version;
  const after = await server.until('diagnostics of the fixed text', () => server.diagnosticsFor(uri, fixed));
  assert.equal(after.filter((d) => d.code === 'DOC102').length, 0);
});

test('Document File: tandem.document without a range documents the rest of the file', async () => {
  const uri = uriOf('src/shop/inventory.py');
  const text = fs.readFileSync(path.join(workspace, 'src/shop/inventory.py'), 'utf8');
  server.open(uri, text);
  const before = server.applied.length;
  const params = cmd.documentFileCommand(uri);
  await server.connection.sendRequest('workspace/executeCommand', params);
  await server.until('the whole-file edit', () => server.applied.length > before);
  assert.ok(server.text(uri).length > text.length);
});

test('a command the server does not run yet comes back as an error naming what it runs', async () => {
  const uri = uriOf('src/shop/cart.py');
  for (const params of [
    cmd.planCommand('add a discount code', uri),
    cmd.executePlanCommand('p1'),
    cmd.runsCommand(),
    cmd.cancelCommand(),
  ]) {
    const error = await server.connection.sendRequest('workspace/executeCommand', params).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error === undefined) {
      continue; // The server runs it now: nothing to check here.
    }
    assert.ok(error instanceof ResponseError);
    assert.equal(error.code, -32602);
    const shown = cmd.commandErrorMessage('X', params.command, error);
    // The server's own message is shown whole, whatever it is (a missing plan file, say).
    assert.ok(shown.includes(`the server answered ${params.command} with: `), shown);
    assert.ok(shown.endsWith((error as ResponseError<unknown>).message), shown);
  }
});
