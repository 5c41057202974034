// Passkeys (WebAuthn): adds a passkey on the account page (#passkey-add) and
// signs in with one on the sign-in page (#passkey-login). Without
// JavaScript or WebAuthn both forms stay hidden; the password still works.
// The server keeps each ceremony's state; this script only carries the
// options to the browser and the authenticator's answer back, as JSON with
// the page's CSRF token.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBuffer(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var e = new Error((j.error && j.error.message) || ("HTTP " + r.status));
          e.server = true;
          throw e;
        }
        return j;
      });
    });
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBuffer(c.id); });
    return { publicKey: pk };
  }

  function registration(c) {
    var out = {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        attestationObject: toB64url(c.response.attestationObject),
        clientDataJSON: toB64url(c.response.clientDataJSON)
      },
      extensions: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
    };
    if (c.response.getTransports) out.response.transports = c.response.getTransports();
    return out;
  }

  function assertion(c) {
    return {
      id: c.id,
      rawId: toB64url(c.rawId),
      type: c.type,
      response: {
        authenticatorData: toB64url(c.response.authenticatorData),
        clientDataJSON: toB64url(c.response.clientDataJSON),
        signature: toB64url(c.response.signature),
        userHandle: c.response.userHandle ? toB64url(c.response.userHandle) : null
      },
      extensions: c.getClientExtensionResults ? c.getClientExtensionResults() : {}
    };
  }

  function drive(form, ceremony) {
    var status = form.querySelector("[aria-live]");
    var button = form.querySelector("button[type=submit]");
    form.hidden = false;
    var note = document.getElementById("passkey-needs-js");
    if (note) note.hidden = true;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      button.disabled = true;
      status.textContent = form.dataset.working;
      var csrf = form.dataset.csrf;
      post(form.dataset.start, { csrf: csrf })
        .then(function (start) {
          return ceremony(start.options).then(function (credential) {
            var body = { csrf: csrf, ceremony: start.ceremony, credential: credential };
            var name = form.querySelector("input[name=name]");
            if (name) body.name = name.value;
            if (form.dataset.next) body.next = form.dataset.next;
            return post(form.dataset.finish, body);
          });
        })
        .then(function (done) {
          var to = new URL(done.next || "/account", window.location.href);
          if (to.pathname + to.search === window.location.pathname + window.location.search) {
            // Only the fragment differs: assigning would not load the page again.
            window.location.hash = to.hash;
            window.location.reload();
          } else {
            window.location.assign(to.href);
          }
        })
        .catch(function (e) {
          button.disabled = false;
          status.textContent = e.server ? e.message : form.dataset.cancelled;
        });
    });
  }

  var add = document.getElementById("passkey-add");
  if (add) {
    drive(add, function (options) {
      return navigator.credentials.create(creationOptions(options)).then(registration);
    });
  }
  var login = document.getElementById("passkey-login");
  if (login) {
    drive(login, function (options) {
      return navigator.credentials.get(requestOptions(options)).then(assertion);
    });
  }
})();
