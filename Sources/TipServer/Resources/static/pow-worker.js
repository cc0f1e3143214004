/*
 * Proof of work off the page's main thread (SECURITY.md §4.6), a dedicated Web Worker that
 * app.js starts as new Worker('/static/pow-worker.js').
 *
 * It is given only the challenge and the sealed bytes (ciphertext), never the tip, and it
 * makes no request of its own beyond loading its two scripts from the same origin.
 *
 *   in:  {challenge: Uint8Array(49), sealed: Uint8Array, limit: number of hashes (optional)}
 *   out: {progress: hashes tried}                 every 50000 hashes, or after a second
 *                                                 without one (a slow device), and at the limit
 *        {nonce: Uint8Array(8) or null, tried: n} once, at the end (null: limit reached)
 *        {error: code}                             once, if the input is not usable
 *
 * Nothing here writes to the console.
 */
/* global importScripts, tipgateSeal */
'use strict';

importScripts('/static/nacl-fast.min.js', '/static/seal.js');

var PROGRESS_EVERY = 50000; // hashes
var PROGRESS_MS = 1000; // at most this long without a report, so the page knows it is alive
var CHUNK = 1000; // hashes between looks at the clock
var DEFAULT_LIMIT = 4294967296; // 2^32, as tipdesk's solver

self.onmessage = function (event) {
  var job = event.data || {};
  var solver;
  try {
    solver = tipgateSeal.powSolver(job.challenge, job.sealed);
  } catch (e) {
    self.postMessage({ error: (e && e.code) || 'bad_input' });
    return;
  }
  var limit = typeof job.limit === 'number' && job.limit > 0 ? job.limit : DEFAULT_LIMIT;
  var nextReport = PROGRESS_EVERY;
  var lastReport = Date.now();
  while (solver.tried() < limit) {
    var nonce = solver.run(Math.min(CHUNK, limit - solver.tried(), nextReport - solver.tried()));
    if (nonce !== null) {
      self.postMessage({ nonce: nonce, tried: solver.tried() });
      return;
    }
    var tried = solver.tried();
    var now = Date.now();
    if (tried >= nextReport || tried >= limit || now - lastReport >= PROGRESS_MS) {
      self.postMessage({ progress: tried });
      lastReport = now;
      nextReport = (Math.floor(tried / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
    }
  }
  self.postMessage({ nonce: null, tried: solver.tried() });
};
