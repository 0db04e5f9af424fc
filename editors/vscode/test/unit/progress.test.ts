import { test } from 'node:test';
import * as assert from 'node:assert/strict';

import { JobTracker } from '../../src/progress';

test('jobs follow begin, report and end', () => {
  const t = new JobTracker();
  assert.equal(t.statusText(), undefined);
  t.update('tandem/index', { kind: 'begin', title: 'Indexing', percentage: 0 });
  t.update('tandem/index', { kind: 'report', message: '10/40 files', percentage: 25 });
  assert.equal(t.statusText(), 'Indexing 10/40 files (25%)');
  assert.deepEqual(t.cancellable(), []);
  t.update('doc-1', { kind: 'begin', title: 'Documenting', cancellable: true, message: '1/3 shop.cart.Cart.add' });
  assert.equal(t.statusText(), 'Documenting 1/3 shop.cart.Cart.add +1');
  assert.deepEqual(t.cancellable().map((j) => j.token), ['doc-1']);
  t.update('tandem/index', { kind: 'end' });
  t.update('doc-1', { kind: 'end', message: 'done' });
  assert.equal(t.statusText(), undefined);
  // A report for a job that never began is ignored.
  assert.equal(t.update('ghost', { kind: 'report', message: 'x' }), undefined);
  assert.deepEqual(t.list(), []);
});
