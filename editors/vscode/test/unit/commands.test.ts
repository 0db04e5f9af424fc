import { test } from 'node:test';
import * as assert from 'node:assert/strict';

import * as cmd from '../../src/commands';

const uri = 'file:///proj/src/shop/cart.py';
const cursor = { line: 24, character: 8 };
const selection = { start: { line: 24, character: 0 }, end: { line: 30, character: 4 } };
const empty = { start: cursor, end: cursor };

test('Plan Change sends the request, and the selection as focus when there is one', () => {
  assert.deepEqual(cmd.planCommand('  add a discount code ', uri, selection), {
    command: 'tandem.plan',
    arguments: [{ request: 'add a discount code', uri, range: selection }],
  });
  assert.deepEqual(cmd.planCommand('x', uri, empty).arguments, [{ request: 'x', uri }]);
  assert.deepEqual(cmd.planCommand('x').arguments, [{ request: 'x' }]);
});

test('Execute Plan takes the id of a plan file', () => {
  assert.equal(cmd.planIdFromPath('/proj/.tandem/plans/20240101-cart.md'), '20240101-cart');
  assert.equal(cmd.planIdFromPath('C:\\proj\\.tandem\\plans\\p1.md'), 'p1');
  assert.equal(cmd.planIdFromPath('/proj/plans/p1.md'), undefined);
  assert.deepEqual(cmd.executePlanCommand(' p1 '), { command: 'tandem.executePlan', arguments: [{ planId: 'p1' }] });
});

test('Implement, Review and Document build the server arguments', () => {
  assert.deepEqual(cmd.implementCommand(uri, cursor), { command: 'tandem.implement', arguments: [{ uri, range: empty }] });
  assert.deepEqual(cmd.reviewFileCommand(uri), { command: 'tandem.review', arguments: [{ uri }] });
  assert.deepEqual(cmd.reviewSelectionCommand(uri, selection), { command: 'tandem.review', arguments: [{ uri, range: selection }] });
  assert.deepEqual(cmd.documentFileCommand(uri), { command: 'tandem.document', arguments: [{ uri }] });
  assert.deepEqual(cmd.runsCommand(), { command: 'tandem.runs', arguments: [] });
  assert.deepEqual(cmd.cancelCommand(), { command: 'tandem.cancel', arguments: [] });
  assert.deepEqual(cmd.cancelCommand('r7'), { command: 'tandem.cancel', arguments: [{ runId: 'r7' }] });
});

test('Show Context runs `tandem context FILE:LINE` with 1-based lines', () => {
  assert.deepEqual(cmd.contextCliArgs('/proj/src/shop/cart.py', 24, '/proj'), ['--workspace', '/proj', 'context', '/proj/src/shop/cart.py:25']);
  assert.deepEqual(cmd.contextCliArgs('a.py', 0, undefined, 2000), ['context', 'a.py:1', '--budget', '2000']);
  assert.deepEqual(cmd.modelsCliArgs('/proj'), ['--workspace', '/proj', 'models']);
});

test("a server error is shown with the server's own words", () => {
  const err = { code: -32602, message: 'unknown command tandem.plan; this server runs tandem.document' };
  assert.equal(
    cmd.commandErrorMessage('Plan Change', 'tandem.plan', err),
    'Tandem: Plan Change failed: the server answered tandem.plan with: unknown command tandem.plan; this server runs tandem.document',
  );
  assert.match(cmd.commandErrorMessage('X', 'tandem.x', new Error('boom')), /with: boom$/);
});

test('results become nothing, a message or a document', () => {
  assert.deepEqual(cmd.describeResult(null), { kind: 'none' });
  assert.deepEqual(cmd.describeResult('done'), { kind: 'message', text: 'done' });
  assert.deepEqual(cmd.describeResult('a\nb'), { kind: 'document', text: 'a\nb' });
  assert.deepEqual(cmd.describeResult({ runs: [] }), { kind: 'document', text: '{\n  "runs": []\n}' });
});
