// Before the wasm is loaded, the synchronous API says so instead of failing obscurely; importing
// the package in Node (a server render) does not throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCacheActions } from '../../pkg/index.js';

test('planCacheActions before initCasinoRealtime throws NotInitializedError', () => {
  assert.throws(() => planCacheActions('table.deactivated', {}), {
    name: 'NotInitializedError',
    message: /await initCasinoRealtime\(\) first/,
  });
});
