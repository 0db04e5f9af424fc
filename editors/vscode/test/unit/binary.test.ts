import { test } from 'node:test';
import * as assert from 'node:assert/strict';

import { expandSetting, resolveBinary, ResolveInput } from '../../src/binary';

function input(files: string[], extra: Partial<ResolveInput> = {}): ResolveInput {
  const set = new Set(files);
  return {
    configured: '',
    extensionPath: '/ext',
    pathEnv: '/usr/local/bin:/usr/bin',
    platform: 'linux',
    workspaceFolder: '/proj',
    home: '/home/u',
    isExecutable: (f) => set.has(f),
    ...extra,
  };
}

test('the setting wins over the bundled binary and PATH', () => {
  const r = resolveBinary(input(['/opt/tandem', '/ext/bin/tandem', '/usr/bin/tandem'], { configured: '/opt/tandem' }));
  assert.deepEqual(r, { ok: true, path: '/opt/tandem', source: 'setting' });
});

test('then the binary bundled in the extension', () => {
  const r = resolveBinary(input(['/ext/bin/tandem', '/usr/bin/tandem']));
  assert.deepEqual(r, { ok: true, path: '/ext/bin/tandem', source: 'bundled' });
});

test('then PATH, in order', () => {
  const r = resolveBinary(input(['/usr/bin/tandem', '/usr/local/bin/tandem']));
  assert.deepEqual(r, { ok: true, path: '/usr/local/bin/tandem', source: 'path' });
});

test('a setting that points nowhere is reported, not skipped', () => {
  const r = resolveBinary(input(['/usr/bin/tandem'], { configured: '~/bin/tandem' }));
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : '', /tandem\.server\.path.*\/home\/u\/bin\/tandem is not an executable/);
});

test('nothing found names the fix', () => {
  const r = resolveBinary(input([]));
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : '', /cargo install --path server/);
  assert.match(!r.ok ? r.message : '', /tandem\.server\.path/);
});

test('settings expand ~, ${workspaceFolder} and relative paths', () => {
  const base = { workspaceFolder: '/proj', home: '/home/u', platform: 'linux' as const };
  assert.equal(expandSetting('~/x/tandem', base), '/home/u/x/tandem');
  assert.equal(expandSetting('${workspaceFolder}/target/debug/tandem', base), '/proj/target/debug/tandem');
  assert.equal(expandSetting('target/release/tandem', base), '/proj/target/release/tandem');
  assert.equal(expandSetting(' /abs/tandem ', base), '/abs/tandem');
});

test('Windows looks for tandem.exe with ; separators', () => {
  const r = resolveBinary(
    input(['C:\\tools\\tandem.exe'], { platform: 'win32', extensionPath: 'C:\\ext', pathEnv: 'C:\\bin;C:\\tools', workspaceFolder: 'C:\\proj' }),
  );
  assert.deepEqual(r, { ok: true, path: 'C:\\tools\\tandem.exe', source: 'path' });
});
