/*
 * Progressive enhancement of the tip form: seal the tip in the browser (seal.js) and post
 * only the sealed envelope to /api/v1/tips (SECURITY.md §3.4).
 *
 * The key: when the form names a root key (data-root-key, keyring mode), the signed keyring
 * from /api/v1/keyring, verified against that root and checked for expiry with the browser's
 * UTC day before anything is sealed (SECURITY.md §2.5, §2.6); the tip is sealed to the
 * keyring's current key. A keyring that fails any check shows data-msg-failed and nothing is
 * sent. Without data-root-key (the development single-key mode) the key document from
 * /api/v1/key, checked for self-consistency (§2.2).
 *
 * Proof of work (SECURITY.md §4.6): once sealed, the page asks GET /api/v1/challenge; if the
 * difficulty is above 0 it finds the nonce in a Web Worker (/static/pow-worker.js, given only
 * the challenge and the sealed bytes), or, where a worker cannot run, on the page in short
 * slices between which the page stays responsive. Meanwhile #status shows data-msg-sending
 * with a percentage (no new strings): the chance, from the hashes tried so far, that the
 * solution would have been found by now, in tenths. A refusal pow_expired, pow_replayed,
 * pow_insufficient, pow_invalid (the server restarted and forgot its challenges) or
 * pow_required (it turned proof of work on) fetches a new challenge and posts once more.
 *
 * Without JavaScript (or without fetch, TextEncoder, crypto.getRandomValues, tweetnacl or
 * seal.js) this script does nothing and the server-rendered form posts to /submit as before.
 * Once the submit handler is attached, the tip is never sent in plaintext: every failure
 * stays on the page with a message in #status, and the text the witness wrote is kept.
 *
 * Contract with the HTML: <form id="tip-form" data-lang [data-root-key] data-received-url
 * data-msg-sending data-msg-failed data-msg-empty data-msg-too-long data-msg-field-too-long
 * data-msg-busy>, data-root-key being the base64 of the pinned root's Ed25519 public key,
 * holding textarea "body", inputs "where", "when", "contact", select "kind", a submit
 * button, and <p id="status" role="status" aria-live="polite">. Scripts, in order:
 * nacl-fast.min.js, blake2b.js, seal.js, app.js; the worker loads nacl-fast.min.js and
 * seal.js itself. window.tipgateReady is set to true once the handler is attached.
 *
 * Nothing here writes to the console.
 */
(function () {
  'use strict';

  var FIELD_NAMES = ['where', 'when', 'kind', 'contact'];
  var FETCH_OPTIONS = { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' };
  // Base64 length of a sealed 1024-byte block: anything longer was padded to 2048 or more.
  var SMALLEST_SEALED_BASE64 = 4 * Math.ceil((1024 + 48) / 3);

  var POW_WORKER_URL = '/static/pow-worker.js';
  // Above this many bits (2^24 SHA-512s: minutes on a phone) the page says the server is busy
  // rather than keep the witness waiting; the server's own cap is lower (--pow-max-difficulty).
  var POW_MAX_DIFFICULTY = 24;
  // Give up after 64 times the expected work: the chance of that is e^-64.
  var POW_LIMIT_FACTOR = 64;
  var POW_RETRY_CODES = ['pow_expired', 'pow_replayed', 'pow_insufficient', 'pow_invalid', 'pow_required'];
  var POW_SLICE_MS = 25; // without a worker: hash for this long, then let the page breathe
  var POW_WORKER_SILENCE_MS = 30000; // a worker that says nothing this long is given up on
  // A challenge lives 300 s (SECURITY.md §4.6): a search still running after this long is
  // given up, with the busy message, rather than keep the witness waiting for an answer the
  // server would refuse as pow_expired.
  var POW_TIME_LIMIT_MS = 240000;

  function supported() {
    return typeof window.fetch === 'function' &&
      typeof window.TextEncoder === 'function' &&
      !!(window.crypto && window.crypto.getRandomValues) &&
      !!(window.nacl && window.nacl.box && window.nacl.sign && window.nacl.sign.detached) &&
      typeof window.tipgateBlake2b === 'function' &&
      !!window.tipgateSeal;
  }

  function withOptions(extra) {
    var o = {};
    var k;
    for (k in FETCH_OPTIONS) o[k] = FETCH_OPTIONS[k];
    for (k in extra) o[k] = extra[k];
    return o;
  }

  // An error that names the data-msg-* attribute to show.
  function shown(messageKey) {
    var e = new Error(messageKey);
    e.messageKey = messageKey;
    return e;
  }

  // The message for an error of seal.js (its §3.2 codes) or of this script.
  function messageKeyFor(err) {
    if (err && err.messageKey) return err.messageKey;
    switch (err && err.code) {
      case 'empty_body': return 'msgEmpty';
      case 'body_too_long':
      case 'tip_too_large': return 'msgTooLong';
      case 'bad_field':
      case 'too_many_fields': return 'msgFieldTooLong';
      default: return 'msgFailed'; // bad_lang, a bad key document, network errors, …
    }
  }

  function attach(form) {
    var status = document.getElementById('status');
    var buttons = Array.prototype.filter.call(
      form.querySelectorAll('button, input[type="submit"]'),
      function (el) { return el.type === 'submit'; }
    );
    var sending = false;

    function show(messageKey, suffix) {
      if (!status) return;
      status.textContent = (form.dataset[messageKey] || form.dataset.msgFailed || '') + (suffix || '');
    }

    // "40 %" in the page's language where Intl knows it, else "40%".
    function percent(fraction) {
      try {
        return new Intl.NumberFormat(form.dataset.lang || undefined, { style: 'percent', maximumFractionDigits: 0 })
          .format(fraction);
      } catch (e) {
        return Math.round(fraction * 100) + '%';
      }
    }

    // Progress of a proof of work: data-msg-sending and the chance, after `tried` hashes, that
    // a solution would have turned up by now (1 - e^(-tried / 2^difficulty)), shown in tenths
    // and only when it moves, so the polite live region is not flooded.
    function progressReporter(difficulty) {
      var shownTenth = 0;
      return function (tried) {
        var tenth = Math.floor(10 * (1 - Math.exp(-tried / Math.pow(2, difficulty))));
        if (tenth > shownTenth && tenth < 10) {
          shownTenth = tenth;
          show('msgSending', ' ' + percent(tenth / 10));
        }
      };
    }

    function setBusy(busy) {
      buttons.forEach(function (b) { b.disabled = busy; });
      if (busy) form.setAttribute('aria-busy', 'true'); else form.removeAttribute('aria-busy');
    }

    function value(name) {
      var el = form.elements.namedItem(name);
      return el && typeof el.value === 'string' ? el.value : '';
    }

    // After a 201 only. Clears the default values too: after a no-JS error the server
    // renders the witness's text into the page, and form.reset() would bring it back.
    function clearTip() {
      ['body'].concat(FIELD_NAMES).forEach(function (name) {
        var el = form.elements.namedItem(name);
        if (!el) return;
        if (el.tagName === 'SELECT') {
          Array.prototype.forEach.call(el.options, function (o) { o.defaultSelected = false; });
          el.selectedIndex = 0;
        } else if ('defaultValue' in el) {
          el.defaultValue = '';
          el.value = '';
        }
      });
    }

    function readTip() {
      var fields = {};
      FIELD_NAMES.forEach(function (name) {
        var v = value(name);
        if (v.trim() !== '') fields[name] = v;
      });
      return { body: value('body'), fields: fields, lang: form.dataset.lang || undefined };
    }

    // GET /api/v1/key, verified (SECURITY.md §2.2) before anything is sealed to it.
    async function fetchKey() {
      var res = await fetch('/api/v1/key', FETCH_OPTIONS);
      if (res.status === 503) throw shown('msgBusy');
      if (res.status !== 200) throw shown('msgFailed');
      var text = await res.text();
      window.tipgateSeal.verifyKeyDocument(text); // throws unless self-consistent
      return text;
    }

    // GET /api/v1/keyring, verified against the page's root key (SECURITY.md §2.5) and
    // refused once expired; returns the key document of its current key. Every failure
    // throws, so nothing is sealed or sent.
    async function fetchKeyringKey(rootKeyText) {
      var seal = window.tipgateSeal;
      var rootPk = seal.base64Decode(rootKeyText);
      if (rootPk === null || rootPk.length !== 32) throw shown('msgFailed');
      var res = await fetch('/api/v1/keyring', FETCH_OPTIONS);
      if (res.status === 503) throw shown('msgBusy');
      if (res.status !== 200) throw shown('msgFailed');
      var file = new Uint8Array(await res.arrayBuffer());
      var today = seal.todayUTC(); // the browser's clock, as a UTC day
      var payload = seal.verifyKeyring(file, rootPk, today); // throws with its §2.5 code
      return seal.keyDocumentOf(seal.currentKey(payload, today));
    }

    // Keyring mode is decided by the attribute being there at all, so an emptied attribute
    // fails (as a bad root key) instead of falling back to the unsigned key.
    function keyDocument() {
      return form.hasAttribute('data-root-key')
        ? fetchKeyringKey(form.getAttribute('data-root-key'))
        : fetchKey();
    }

    // GET /api/v1/challenge (§4.6): the parsed challenge, or null from a server that has no
    // proof of work at all (404).
    async function fetchChallenge() {
      var res = await fetch('/api/v1/challenge', FETCH_OPTIONS);
      if (res.status === 404) return null;
      if (res.status === 503) throw shown('msgBusy');
      if (res.status !== 200) throw shown('msgFailed');
      return window.tipgateSeal.parseChallenge(await res.text()); // throws bad_challenge
    }

    // The worker's answer: the nonce, or null if it searched `limit` hashes in vain or the
    // `deadline` (Date.now()) passed. Rejects (and the caller solves on the page) if a worker
    // cannot be started, fails to load, or says nothing for POW_WORKER_SILENCE_MS.
    function solveInWorker(challenge, sealed, limit, deadline, onProgress) {
      return new Promise(function (resolve, reject) {
        var worker;
        var timer = null;
        var clock = null;
        function finish(fn, value) {
          clearTimeout(timer);
          clearInterval(clock);
          worker.terminate();
          fn(value);
        }
        function watch() {
          clearTimeout(timer);
          timer = setTimeout(function () { finish(reject, new Error('pow worker silent')); }, POW_WORKER_SILENCE_MS);
        }
        try {
          worker = new Worker(POW_WORKER_URL);
        } catch (e) {
          reject(e); // no worker here (a CSP or browser that refuses it)
          return;
        }
        worker.onmessage = function (event) {
          var m = event.data || {};
          if (typeof m.progress === 'number') {
            watch();
            onProgress(m.progress);
          } else if (m.nonce instanceof Uint8Array) {
            finish(resolve, m.nonce);
          } else if (m.nonce === null) {
            finish(resolve, null);
          } else {
            finish(reject, new Error('pow worker error'));
          }
        };
        worker.onerror = function (event) {
          if (event && event.preventDefault) event.preventDefault();
          finish(reject, new Error('pow worker failed'));
        };
        worker.onmessageerror = function () { finish(reject, new Error('pow worker message')); };
        watch();
        clock = setInterval(function () { if (Date.now() > deadline) finish(resolve, null); }, 1000);
        worker.postMessage({ challenge: challenge, sealed: sealed, limit: limit });
      });
    }

    // The same search on the page, in slices of POW_SLICE_MS with a timer between them.
    function solveOnPage(challenge, sealed, limit, deadline, onProgress) {
      var solver = window.tipgateSeal.powSolver(challenge, sealed);
      return new Promise(function (resolve, reject) {
        function slice() {
          try {
            var started = Date.now();
            do {
              var nonce = solver.run(Math.min(1000, limit - solver.tried()));
              if (nonce !== null) return resolve(nonce);
              if (solver.tried() >= limit || Date.now() > deadline) return resolve(null);
            } while (Date.now() - started < POW_SLICE_MS);
            onProgress(solver.tried());
            setTimeout(slice, 0);
          } catch (e) {
            reject(e);
          }
        }
        setTimeout(slice, 0);
      });
    }

    // A nonce for the challenge and these sealed bytes: from the worker if one runs (its
    // answer checked here, one hash), else found on the page. Null if none within the limit
    // or before the deadline.
    async function solve(c, sealed, deadline) {
      var seal = window.tipgateSeal;
      var limit = Math.min(Math.pow(2, c.difficulty) * POW_LIMIT_FACTOR, 4294967296);
      var onProgress = progressReporter(c.difficulty);
      if (typeof window.Worker === 'function') {
        try {
          var nonce = await solveInWorker(c.challenge, sealed, limit, deadline, onProgress);
          if (nonce === null || seal.powVerify(c.challenge, sealed, nonce)) return nonce;
        } catch (e) {
          // fall through: solve on the page
        }
      }
      if (Date.now() > deadline) return null;
      return solveOnPage(c.challenge, sealed, limit, deadline, onProgress);
    }

    // The submission to post: as sealed if the server asks for no work, else with its "pow"
    // member for a fresh challenge bound to these sealed bytes.
    async function withProof(submission, sealed) {
      var c = await fetchChallenge();
      var deadline = Date.now() + POW_TIME_LIMIT_MS;
      if (c === null || c.difficulty === 0) return submission;
      if (c.difficulty > POW_MAX_DIFFICULTY) throw shown('msgBusy');
      var nonce = await solve(c, sealed, deadline);
      if (nonce === null) throw shown(Date.now() > deadline ? 'msgBusy' : 'msgFailed');
      show('msgSending');
      return window.tipgateSeal.withPow(submission, c.challengeBase64, nonce);
    }

    // POST /api/v1/tips; returns {status, code} with the §6 error code if there is one.
    async function post(submission) {
      var res = await fetch('/api/v1/tips', withOptions({
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(submission)
      }));
      var code = null;
      try {
        var answer = await res.json();
        if (answer && typeof answer.error === 'string') code = answer.error;
      } catch (e) {
        // not JSON: the status alone decides
      }
      return { status: res.status, code: code };
    }

    // Seals and sends; resolves once the server answered 201. A 422 unknown_key or
    // key_retired means the key changed: fetch the key (or keyring) again and retry exactly
    // once. A proof-of-work refusal (POW_RETRY_CODES) fetches a new challenge for the same
    // sealed bytes and posts once more, also exactly once.
    async function deliver(tip) {
      var seal = window.tipgateSeal;
      // Check the §3.2 limits before going to the network (sealTip checks them again).
      seal.buildDocument(tip).fill(0);
      var powRetried = false;
      for (var attempt = 0; ; attempt++) {
        var key = await keyDocument();
        var submission = seal.sealTip(tip, key);
        var sealed = seal.base64Decode(submission.sealed);
        var answer;
        for (;;) {
          answer = await post(await withProof(submission, sealed));
          if (answer.status === 201) return;
          if (powRetried || POW_RETRY_CODES.indexOf(answer.code) < 0) break;
          powRetried = true;
        }
        var keyChanged = answer.status === 422 && (answer.code === 'unknown_key' || answer.code === 'key_retired');
        if (keyChanged && attempt === 0) continue;
        if (answer.status === 503) throw shown('msgBusy');
        // The server takes less than 1 MiB (its maxPaddedBytes): the tip is too long for it.
        var tooBig = answer.status === 413 ||
          (answer.code === 'invalid_sealed_length' && submission.sealed.length > SMALLEST_SEALED_BASE64);
        throw shown(tooBig ? 'msgTooLong' : 'msgFailed');
      }
    }

    async function onSubmit(event) {
      event.preventDefault(); // from here on the form is never posted in plaintext
      if (sending) return;
      var tip = readTip();
      if (tip.body.trim() === '') {
        show('msgEmpty');
        return;
      }
      sending = true;
      setBusy(true);
      show('msgSending');
      var delivered = false;
      try {
        await deliver(tip);
        delivered = true;
      } catch (err) {
        show(messageKeyFor(err));
      } finally {
        tip = null;
        if (!delivered) {
          sending = false;
          setBusy(false);
        }
      }
      if (delivered) {
        clearTip(); // so Back does not show the tip again on a shared device
        window.location.assign(form.dataset.receivedUrl || '/received');
      }
    }

    // "Leave this page" replaces this page in the history, with the tip cleared: a page kept
    // in the back/forward cache (despite no-store) would otherwise show the text again on
    // Back, on a shared device (SECURITY.md §3.7).
    var leave = document.querySelector('a.leave');
    if (leave) {
      leave.addEventListener('click', function (event) {
        event.preventDefault();
        clearTip();
        window.location.replace(leave.href);
      });
    }

    // Coming Back to a page kept in the back/forward cache: let the form be used again.
    window.addEventListener('pageshow', function (event) {
      if (event.persisted) {
        sending = false;
        setBusy(false);
      }
    });

    form.addEventListener('submit', onSubmit);
    window.tipgateReady = true;
  }

  function start() {
    var form = document.getElementById('tip-form');
    if (form && supported()) attach(form);
  }

  if (typeof document !== 'undefined') {
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', start);
    } else {
      start();
    }
  }

  // node: nothing to attach to; exposes the error-to-message mapping.
  if (typeof module !== 'undefined' && module.exports) module.exports = { messageKeyFor: messageKeyFor };
})();
