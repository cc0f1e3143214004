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
 * nacl-fast.min.js, blake2b.js, seal.js, app.js. window.tipgateReady is set to true once
 * the handler is attached.
 *
 * Nothing here writes to the console.
 */
(function () {
  'use strict';

  var FIELD_NAMES = ['where', 'when', 'kind', 'contact'];
  var FETCH_OPTIONS = { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' };
  // Base64 length of a sealed 1024-byte block: anything longer was padded to 2048 or more.
  var SMALLEST_SEALED_BASE64 = 4 * Math.ceil((1024 + 48) / 3);

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

    function show(messageKey) {
      if (!status) return;
      status.textContent = form.dataset[messageKey] || form.dataset.msgFailed || '';
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
    // once.
    async function deliver(tip) {
      // Check the §3.2 limits before going to the network (sealTip checks them again).
      window.tipgateSeal.buildDocument(tip).fill(0);
      for (var attempt = 0; ; attempt++) {
        var key = await keyDocument();
        var submission = window.tipgateSeal.sealTip(tip, key);
        var answer = await post(submission);
        if (answer.status === 201) return;
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
