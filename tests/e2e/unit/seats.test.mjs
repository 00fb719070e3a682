// The call page's view of the seats (web/shared/seats.js) against docs/call.md "Seats": which
// seats a page receives and in which media slot (the server's `Role::ALL` order and `Role::sees`),
// the sender a stream id names, and the roster's aggregate as the server's `peer` frame says it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importWeb } from '../lib/webmodule.mjs';

const { othersOf, slotsFor, roleOfStream, aggregate } = await importWeb('shared/seats.js');

test('each page receives every other seat in slot order; the citizen never the supervisor', () => {
  assert.deepEqual(othersOf('citizen'), ['officer', 'interpreter', 'agent']);
  assert.deepEqual(othersOf('officer'), ['citizen', 'interpreter', 'agent', 'supervisor']);
  assert.deepEqual(othersOf('interpreter'), ['citizen', 'officer', 'agent', 'supervisor']);
  assert.deepEqual(othersOf('supervisor'), ['citizen', 'officer', 'interpreter', 'agent']);
  assert.equal(slotsFor('citizen'), 3);
  assert.equal(slotsFor('officer'), 4);
  // an unknown role offers the one sendrecv slot of a two-party client
  assert.deepEqual(othersOf('judge'), []);
  assert.equal(slotsFor(undefined), 1);
});

test('a stream id names its sender, and nothing else does', () => {
  assert.equal(roleOfStream({ id: 'interpreter-stream' }), 'interpreter');
  assert.equal(roleOfStream({ id: 'officer-stream' }), 'officer');
  for (const id of ['judge-stream', 'officer', 'officer-stream-2', '{a1b2}', '']) assert.equal(roleOfStream({ id }), null, id);
  assert.equal(roleOfStream(undefined), null);
});

test('the aggregate is the peer frame: joined over reconnecting over left; nothing with nobody', () => {
  const m = (o) => new Map(Object.entries(o));
  assert.equal(aggregate(m({})), null);
  assert.equal(aggregate(m({ officer: 'left', interpreter: 'joined' })), 'joined');
  assert.equal(aggregate(m({ officer: 'left', interpreter: 'reconnecting' })), 'reconnecting');
  assert.equal(aggregate(m({ officer: 'left', interpreter: 'left' })), 'left');
});
