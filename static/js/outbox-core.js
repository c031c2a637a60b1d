/* Kail outbox: visits saved on the phone (IndexedDB) until the server has them, exactly once.
   Shared by the pages and the service worker (no DOM here). Each item is one visit: its form fields, its
   photos as downscaled JPEG blobs, and its UUID; the server stores a UUID once however often it is sent. */
(function (global) {
  "use strict";
  var DB_NAME = "kail";
  var STORE = "outbox";
  var SYNC_TAG = "kail-outbox";

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore(STORE, { keyPath: "uuid" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all() {
    return run("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
    });
  }
  function put(item) { return run("readwrite", function (store) { store.put(item); }); }
  function remove(uuid) { return run("readwrite", function (store) { store["delete"](uuid); }); }

  function freshToken() {
    return fetch("/csrf-token", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401) { throw { kind: "login" }; }
        if (!response.ok) { throw { kind: "network" }; }
        return response.json();
      }).then(function (body) { return body.token; });
  }

  function body(item) {
    var data = new FormData();
    item.fields.forEach(function (pair) {
      if (pair[0] !== "csrf_token") { data.append(pair[0], pair[1]); }  // a fresh token goes in the header
    });
    item.photos.forEach(function (photo) {
      data.append(photo.field, photo.blob, photo.field + ".jpg");
    });
    return data;
  }

  // Send one item; resolves to {outcome: "stored"|"duplicate"|"rejected"|"retry"|"login", ...}.
  function sendOne(item, token) {
    return fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin",
      headers: { "X-Kail-Outbox": "1", "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (response) {
      var status = response.status;
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (status === 201 || status === 200) { return { outcome: status === 201 ? "stored" : "duplicate", json: json }; }
        if (status === 401) { return { outcome: "login" }; }
        if (status === 400 && (json.status === "csrf" || !json.status)) { return { outcome: "token" }; }  // new token
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          return { outcome: "rejected", message: json.message || ("HTTP " + status) };
        }
        return { outcome: "retry", message: "HTTP " + status };
      });
    }, function () { return { outcome: "retry", message: "network" }; });
  }

  var sending = null;
  // Send every waiting item, one by one. Concurrent calls share one run.
  function sendAll() {
    if (sending) { return sending; }
    sending = all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state !== "rejected"; });
      if (!waiting.length) { return { sent: 0 }; }
      return freshToken().then(function (token) {
        var sent = 0;
        var chain = Promise.resolve();
        waiting.forEach(function (item) {
          chain = chain.then(function () {
            item.state = "sending";
            item.attempts = (item.attempts || 0) + 1;
            return put(item).then(function () { return sendOne(item, token); }).then(function (result) {
              if (result.outcome === "token") {
                return freshToken().then(function (newToken) { token = newToken; return sendOne(item, token); });
              }
              return result;
            }).then(function (result) {
              if (result.outcome === "stored" || result.outcome === "duplicate") {
                sent += 1;
                return remove(item.uuid);
              }
              if (result.outcome === "login") { throw { kind: "login" }; }
              item.state = result.outcome === "rejected" ? "rejected" : "waiting";
              item.lastError = result.message || null;
              return put(item);
            });
          });
        });
        return chain.then(function () { return { sent: sent }; });
      }).catch(function (error) {
        // Not sent now (no network, or logged out): everything stays waiting for the next chance.
        return all().then(function (items) {
          return Promise.all(items.filter(function (i) { return i.state === "sending"; }).map(function (i) {
            i.state = "waiting";
            return put(i);
          }));
        }).then(function () { return { sent: 0, error: (error && error.kind) || "network" }; });
      });
    }).then(function (result) { sending = null; return result; }, function (error) { sending = null; throw error; });
    return sending;
  }

  global.KailOutbox = { SYNC_TAG: SYNC_TAG, all: all, put: put, remove: remove, sendAll: sendAll,
                        sendOne: sendOne, freshToken: freshToken };
})(typeof self !== "undefined" ? self : this);
