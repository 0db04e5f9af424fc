// The extension's own code (activate, binary check, settings, status bar, commands, the
// server's errors shown) with the real server, under a stub of the VS Code API.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { EventEmitter, Fake, installFakeVscode } from './fake-vscode';
import { findTandem, repoRoot } from './server';

const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-activate-'));
fs.cpSync(path.join(repoRoot(), 'examples', 'shop'), workspace, { recursive: true });

const fake: Fake = {
  settings: {},
  workspaceFolder: workspace,
  errors: [],
  infos: [],
  commands: new Map(),
  status: { text: '', tooltip: '' },
  output: [],
  configurationChanged: new EventEmitter(),
};
installFakeVscode(fake);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const extension = require('../../src/extension') as typeof import('../../src/extension');
const context = { subscriptions: [] as Array<{ dispose(): unknown }>, extensionPath: path.join(workspace, 'no-extension') };

async function until(what: string, pred: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; output:\n${fake.output.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a missing binary gives one error with the fix, and no server', async () => {
  fake.settings = { 'tandem.server.path': '/nonexistent/tandem' };
  await extension.activate(context as never);
  assert.equal(fake.errors.length, 1);
  assert.match(fake.errors[0], /tandem\.server\.path.*is not an executable file/);
  assert.match(fake.status.text, /not running/);
  // Commands that need the server say so instead of failing silently.
  await fake.commands.get('tandem.vscode.showRuns')!();
  assert.match(fake.errors[1], /server is not running/);
  await extension.deactivate();
  context.subscriptions.forEach((d) => d.dispose());
  context.subscriptions = [];
});

test('activate starts the server, shows the models, and shows server errors as they are', async () => {
  fake.errors = [];
  fake.settings = {
    'tandem.server.path': findTandem(),
    'tandem.roles.reviewer': null,
    'tandem.docs.style': 'google',
  };
  await extension.activate(context as never);
  assert.deepEqual(fake.errors, [], fake.output.join('\n'));
  await until('the models in the status bar', () => /Tandem: offline/.test(fake.status.text));
  assert.match(String(fake.status.tooltip), /documenter: builtin/);
  for (const id of [
    'planChange', 'executePlan', 'implementFunction', 'reviewFile', 'reviewSelection', 'documentFile',
    'showCallGraph', 'showContext', 'showRuns', 'cancelRun', 'restartServer',
  ]) {
    assert.ok(fake.commands.has(`tandem.vscode.${id}`), id);
  }
  // vscode-languageclient registers the server's own commands; ours never clash with them.
  assert.ok(fake.commands.has('tandem.document'));

  // Show Runs: the server answers `tandem.runs` with the run history (none yet), no error.
  await fake.commands.get('tandem.vscode.showRuns')!();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(fake.errors, []);

  // Cancel Run with nothing running asks the server's tandem.cancel, which cancels nothing.
  await fake.commands.get('tandem.vscode.cancelRun')!();
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(fake.errors, []);

  // A settings change goes to the server (and does not restart it).
  fake.settings['tandem.roles.documenter'] = ['builtin'];
  fake.configurationChanged.fire({ affectsConfiguration: (s: string) => s === 'tandem' || s === 'tandem.roles.documenter' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fake.errors.length, 0);

  await fake.commands.get('tandem.vscode.restartServer')!();
  await until('the status bar after the restart', () => /Tandem: offline/.test(fake.status.text));
  await extension.deactivate();
  context.subscriptions.forEach((d) => d.dispose());
  fs.rmSync(workspace, { recursive: true, force: true });
});
