import { test } from 'node:test';
import * as assert from 'node:assert/strict';

import { describeModels, effectiveChains, logFilter, parseRoleChains, toServerSettings } from '../../src/settings';

// What `workspace.getConfiguration('tandem')` holds with nothing set: every default, nested.
const defaults = {
  server: { path: '', logLevel: 'info' },
  trace: { server: 'off' },
  models: null,
  roles: { planner: null, coder: null, reviewer: null, documenter: null },
  docs: { style: null, concurrency: null, streams: null },
  review: null,
  run: { concurrency: null, test_command: null, quality_threshold: null, max_iterations: null },
  cache: { enabled: null, max_size_mb: null },
  workspace: { exclude: null, max_file_size: null },
};

test('defaults send nothing, so tandem.toml stays in force', () => {
  assert.deepEqual(toServerSettings(defaults), {});
});

test('editor-only settings never reach the server', () => {
  const out = toServerSettings({ ...defaults, server: { path: '/x/tandem', logLevel: 'debug' }, trace: { server: 'verbose' } });
  assert.deepEqual(out, {});
});

test('set values keep the shape of tandem.toml', () => {
  const out = toServerSettings({
    ...defaults,
    models: {
      local: { provider: 'openai', base_url: 'http://localhost:11434/v1', model: 'qwen2.5-coder:7b' },
      claude: { provider: 'anthropic', model: 'claude-sonnet-4-5', api_key_env: 'ANTHROPIC_API_KEY', context_tokens: null },
    },
    roles: { planner: ['claude', 'local'], coder: null, reviewer: [], documenter: ['local'] },
    docs: { style: 'numpy', concurrency: 8, streams: null },
    cache: { enabled: false, max_size_mb: null },
    workspace: { exclude: [], max_file_size: 1000 },
    run: { concurrency: null, test_command: 'pytest -q', quality_threshold: null, max_iterations: null },
    review: { something: true },
  });
  assert.deepEqual(out, {
    models: {
      local: { provider: 'openai', base_url: 'http://localhost:11434/v1', model: 'qwen2.5-coder:7b' },
      claude: { provider: 'anthropic', model: 'claude-sonnet-4-5', api_key_env: 'ANTHROPIC_API_KEY' },
    },
    // An empty chain means "not set" (the server would reject it).
    roles: { planner: ['claude', 'local'], documenter: ['local'] },
    docs: { style: 'numpy', concurrency: 8 },
    cache: { enabled: false },
    // An empty exclude list is a deliberate override of the file's list.
    workspace: { exclude: [], max_file_size: 1000 },
    run: { test_command: 'pytest -q' },
    review: { something: true },
  });
});

test('false and 0 are values, not "unset"', () => {
  const out = toServerSettings({ cache: { enabled: false, max_size_mb: 0 } });
  assert.deepEqual(out, { cache: { enabled: false, max_size_mb: 0 } });
});

test('a missing or odd section gives empty settings', () => {
  assert.deepEqual(toServerSettings(undefined), {});
  assert.deepEqual(toServerSettings(null), {});
  assert.deepEqual(toServerSettings([1, 2]), {});
});

test('log level maps to a TANDEM_LOG filter', () => {
  assert.equal(logFilter('debug'), 'tandem=debug');
  assert.equal(logFilter('nonsense'), 'tandem=info');
  assert.equal(logFilter(undefined), 'tandem=info');
});

const modelsOutput = `Models
  local    openai     qwen2.5-coder:7b   at http://localhost:11434/v1  (context 8192, output 4096, no key)
  builtin  offline    the built-in engine (no network)

Roles
  planner     claude -> local
  coder       local
  reviewer    builtin
  documenter  local -> builtin

Cache: on, in .tandem/cache/models
`;

test('role chains are read from `tandem models`', () => {
  assert.deepEqual(parseRoleChains(modelsOutput), {
    planner: ['claude', 'local'],
    coder: ['local'],
    reviewer: ['builtin'],
    documenter: ['local', 'builtin'],
  });
  assert.deepEqual(parseRoleChains('garbage'), {});
});

test('settings roles override the file, and the status shows first choices', () => {
  const chains = effectiveChains(parseRoleChains(modelsOutput), { roles: { reviewer: ['claude'] } });
  assert.deepEqual(chains.reviewer, ['claude']);
  const shown = describeModels(chains);
  assert.equal(shown.text, 'Tandem: claude, local');
  assert.match(shown.tooltip, /planner: claude → local/);
  assert.equal(describeModels({}).text, 'Tandem: offline');
});
