/* Kail outbox: visits saved on the phone (IndexedDB) until the server has them, exactly once.
   Shared by the pages and the service worker (no DOM here). Each item is one visit: its form fields, its
   photos as downscaled JPEG blobs, and its UUID; the server stores a UUID once however often it is sent. */
(function (global) {
  "use strict";
  var DB_NAME = "kail";
  var STORE = "outbox";
  var SYNC_TAG = "kail-outbox";

  var VERSION = 2;

  // Identifiers are minted here, on the phone, when the mentor saves: never read from a page that a cache may
  // hand out again (a second visit from the same stored form would otherwise reuse them).
  function uuid4() {
    var c = global.crypto;
    if (c && c.randomUUID) { return c.randomUUID(); }
    var b = c.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // An item stored by an older version of the app (a mentor may update with unsent visits) in today's shape.
  // Version 1 kept the photo codes among the form fields, copied from the page; they may have come from a
  // cached page and be taken already, so every photo gets a fresh code (the visit's own code stays: the server
  // may already hold the visit under it). "rejected" became "needs_fix": kept, to be corrected and sent again.
  function upgradeItem(item) {
    item.fields = (item.fields || []).filter(function (pair) { return !/^photo-\d+-uuid$/.test(pair[0]); });
    item.photos = (item.photos || []).map(function (photo) {
      return { field: photo.field, blob: photo.blob, uuid: photo.uuid || uuid4() };
    });
    if (item.state === "rejected") { item.state = "needs_fix"; }
    if (item.state === "sending") { item.state = "waiting"; }
    item.version = VERSION;
    return item;
  }

  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, VERSION);
      request.onupgradeneeded = function (event) {
        if (event.oldVersion < 1) {
          request.result.createObjectStore(STORE, { keyPath: "uuid" });
          return;
        }
        var cursor = request.transaction.objectStore(STORE).openCursor();
        cursor.onsuccess = function () {
          var at = cursor.result;
          if (!at) { return; }
          if (at.value.version !== VERSION) { at.update(upgradeItem(at.value)); }
          at["continue"]();
        };
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

  function everything() {
    return run("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.createdAt < b.createdAt ? -1 : 1; });
    });
  }
  // The visits still to send (waiting, sending, or refused and kept to be fixed).
  function all() {
    return everything().then(function (items) { return items.filter(function (i) { return i.state !== SENT; }); });
  }

  // A delivered visit leaves a small record (no answers, no photos) for DELIVERED_KEEP_MS: the outbox says
  // "Terkirim 08.12", and the kept work list moves the family out of "Terlambat dikunjungi" before the caseload
  // is refreshed. Logout forgets them with the kept pages.
  var SENT = "sent";
  var DELIVERED_KEEP_MS = 24 * 3600000;
  function delivered() {
    return everything().then(function (items) {
      var limit = Date.now() - DELIVERED_KEEP_MS;
      var old = items.filter(function (i) { return i.state === SENT && Date.parse(i.sentAt) < limit; });
      var kept = items.filter(function (i) { return i.state === SENT && Date.parse(i.sentAt) >= limit; });
      return Promise.all(old.map(function (i) { return remove(i.uuid); })).then(function () {
        return kept.sort(function (a, b) { return a.sentAt < b.sentAt ? 1 : -1; });
      });
    });
  }
  function forgetDelivered() {
    return everything().then(function (items) {
      return Promise.all(items.filter(function (i) { return i.state === SENT; }).map(function (i) {
        return remove(i.uuid);
      }));
    });
  }
  function markDelivered(item) {
    var family = /\/penerima\/(\d+)\/kunjungan\//.exec(item.url || "");
    return put({
      uuid: item.uuid, state: SENT, kind: item.kind, title: item.title, url: item.url, version: VERSION,
      recipient: family ? Number(family[1]) : null, photoCount: item.photos.length, fields: [], photos: [],
      createdAt: item.createdAt, sentAt: new Date().toISOString()
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
    if (item.kind !== "correction") { data.set("uuid", item.uuid); }
    item.photos.forEach(function (photo) {
      if (photo.sent) {
        data.append(photo.field + "-staged", "1");  // sent ahead on its own (stagePhotos)
      } else {
        data.append(photo.field, photo.blob, photo.field + ".jpg");
      }
      data.append(photo.field + "-uuid", photo.uuid);
    });
    return data;
  }

  function visitCode(item) { return item.kind === "correction" && item.visit ? item.visit : item.uuid; }

  function answerOf(request) {
    return request.then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, json: json };
      });
    }, function () { return { status: 0, json: {} }; });
  }

  // Photos travel one at a time before the visit, each in chunks (uploads.py on the server, like tus): every
  // chunk is its own request keyed by (photo code, offset), the server answers how many bytes it holds, and after
  // a drop the photo resumes from there instead of from zero. 64 KB is ~2 s at 250 kbps: a drop every 20 s loses
  // ~1 s on average, and the ~0.4 s round trip per chunk costs < 20 % (smaller chunks pay more round trips,
  // larger ones lose more at each drop). Where the phone cannot hash (no crypto.subtle: plain http), the photo
  // goes whole in one request as before.
  var CHUNK_BYTES = 64 * 1024;
  var QUIET_TRIES = 4;  // tries in a row without a byte of progress before this round gives up (next: the timer)

  function stagePhotos(item, token, onProgress) {
    var chain = Promise.resolve(null);
    item.photos.forEach(function (photo) {
      chain = chain.then(function (stop) {
        if (stop || photo.sent) { return stop; }
        var send = canChunk(photo) ? uploadPhoto(item, photo, token, onProgress, 0) : stageOne(item, photo, token, 0);
        return send.then(function (result) {
          if (result) { return result; }
          photo.sent = true;
          delete photo.held;
          return put(item).then(function () { if (onProgress) { onProgress(item); } return null; });
        });
      });
    });
    return chain;
  }

  function canChunk(photo) {
    var subtle = global.crypto && global.crypto.subtle;
    return !!(subtle && photo.blob && photo.blob.slice && photo.blob.arrayBuffer);
  }

  function sha256(blob) {
    return blob.arrayBuffer().then(function (buffer) { return global.crypto.subtle.digest("SHA-256", buffer); })
      .then(function (digest) {
        return Array.prototype.map.call(new Uint8Array(digest), function (x) { return (x + 256).toString(16).slice(1); })
          .join("");
      });
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function photoUrl(item, photo) { return "/kunjungan/" + visitCode(item) + "/foto/" + photo.uuid; }

  // One photo, chunk after chunk from what the server holds. Resolves null when the server has it all, else an
  // outcome for sendAll ({outcome: "retry"|"token"|"login"|"rejected"…}).
  function uploadPhoto(item, photo, token, onProgress, reminted) {
    var size = photo.blob.size;
    return sha256(photo.blob).then(function (digest) {
      var offset = null;  // unknown: ask first (the offset query), then trust the server's answers
      var quiet = 0;
      var restarts = 0;
      function step() {
        var request;
        if (offset === null) {
          request = answerOf(fetch(photoUrl(item, photo), {
            credentials: "same-origin", cache: "no-store", headers: { "X-Kail-Outbox": "1", "Accept": "application/json" }
          }));
        } else {
          request = answerOf(fetch(photoUrl(item, photo), {
            method: "PATCH", body: photo.blob.slice(offset, Math.min(size, offset + CHUNK_BYTES)), credentials: "same-origin",
            headers: { "X-Kail-Outbox": "1", "X-CSRFToken": token, "Accept": "application/json",
                       "Content-Type": "application/offset+octet-stream", "Upload-Offset": String(offset),
                       "Upload-Length": String(size), "Upload-Sha256": digest }
          }));
        }
        return request.then(function (answer) {
          var status = answer.status;
          var json = answer.json;
          if (status === 200) {
            if (json.status === "complete") { return null; }
            var before = offset;
            offset = Math.min(Number(json.offset) || 0, size);
            if (offset >= size) {  // all of it is there but not yet checked (a store that did not answer): again
              quiet += 1;
              if (quiet >= QUIET_TRIES) { return { outcome: "retry", message: "HTTP 200" }; }
              return wait(1000 * quiet).then(step);
            }
            if (before === null || offset > before) { quiet = 0; }
            if (offset > (photo.held || 0) || before === null) {
              photo.held = offset;
              if (onProgress) { onProgress(item); }
            }
            return step();
          }
          if (status === 0 || status >= 500 || status === 408 || status === 429) {
            quiet += 1;  // the link dropped (or the server is busy): resume from what the server says it holds
            if (quiet >= QUIET_TRIES) { return { outcome: "retry", message: "network" }; }
            offset = null;
            return wait(1000 * quiet).then(step);
          }
          if (status === 409 && (json.status === "offset_mismatch" || json.status === "checksum_mismatch")) {
            if (json.status === "checksum_mismatch") { restarts += 1; }
            if (restarts > 2) { return { outcome: "retry", message: json.message }; }
            offset = Math.max(0, Number(json.offset) || 0);
            photo.held = offset;
            return step();
          }
          if (status === 401) { return { outcome: "login" }; }
          if (status === 400 && (json.status === "csrf" || !json.status)) { return { outcome: "token" }; }
          if (status === 409 && json.status === "photo_conflict" && reminted < 3) {
            photo.uuid = uuid4();
            photo.held = 0;
            return put(item).then(function () { return uploadPhoto(item, photo, token, onProgress, reminted + 1); });
          }
          if (status === 409 && json.status === "conflict" && item.kind !== "correction" && reminted < 3) {
            return remint(item, answer).then(function () { return { outcome: "remint" }; });
          }
          if (status === 409 && json.status === "visit_closed") { return { outcome: "closed" }; }
          if (status === 422 || status === 413) {
            var message = photo.field.replace("photo-", "Foto ") + ": " + (json.message || "");
            var errors = {};
            errors[photo.field] = message;
            return { outcome: "rejected", message: message, errors: errors };
          }
          return refused(status, json);
        });
      }
      return step();
    });
  }

  function stageOne(item, photo, token, reminted) {
    var data = new FormData();
    data.append("photo", photo.blob, photo.field + ".jpg");
    return answerOf(fetch("/kunjungan/" + visitCode(item) + "/foto/" + photo.uuid, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Kail-Outbox": "1", "X-CSRFToken": token, "Accept": "application/json" }
    })).then(function (answer) {
      var status = answer.status;
      if (status === 200 || status === 201) { return null; }
      if (status === 0) { return { outcome: "retry", message: "network" }; }
      if (status === 401) { return { outcome: "login" }; }
      if (status === 400 && (answer.json.status === "csrf" || !answer.json.status)) { return { outcome: "token" }; }
      if (status === 409 && answer.json.status === "photo_conflict" && reminted < 3) {
        photo.uuid = uuid4();
        return put(item).then(function () { return stageOne(item, photo, token, reminted + 1); });
      }
      if (status === 422) {
        var message = photo.field.replace("photo-", "Foto ") + ": " + (answer.json.message || "");
        var errors = {};
        errors[photo.field] = message;
        return { outcome: "rejected", message: message, errors: errors };
      }
      return refused(status, answer.json);
    });
  }

  function post(item, token) {
    return fetch(item.url, {
      method: "POST", body: body(item), credentials: "same-origin",
      headers: { "X-Kail-Outbox": "1", "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, json: json };
      });
    }, function () { return { status: 0, json: {} }; });
  }

  // A code the server says belongs to something else: this item gets a new one (nothing of it was stored).
  function remint(item, answer) {
    if (answer.json.status === "photo_conflict") {
      var taken = answer.json.taken || [];
      item.photos.forEach(function (photo) {
        if (!taken.length || taken.indexOf(photo.uuid) >= 0) { photo.uuid = uuid4(); photo.sent = false; }
      });
      return put(item).then(function () { return true; });
    }
    if (answer.json.status === "conflict" && item.kind !== "correction") {
      var old = item.uuid;
      item.uuid = uuid4();
      item.photos.forEach(function (photo) { photo.sent = false; });  // sent ahead under the old visit code
      return put(item).then(function () { return remove(old); }).then(function () { return true; });
    }
    return Promise.resolve(false);
  }

  // Send one item; resolves to {outcome: "stored"|"duplicate"|"rejected"|"retry"|"login"|"token", ...}.
  function sendOne(item, token, reminted, onProgress) {
    return stagePhotos(item, token, onProgress).then(function (stopped) {
      if (stopped && stopped.outcome === "remint") {  // the visit code belonged to someone else: a new one
        return (reminted || 0) < 3 ? sendOne(item, token, (reminted || 0) + 1, onProgress) : refused(409, {});
      }
      // "closed": the server holds this visit already and takes nothing more for it: the visit's own request
      // says what became of it (stored: duplicate; a correction no longer wanted: its reason).
      if (stopped && stopped.outcome !== "closed") { return stopped; }
      return sendVisit(item, token, reminted, onProgress, 0);
    });
  }

  function sendVisit(item, token, reminted, onProgress, dropped) {
    return post(item, token).then(function (answer) {
      var status = answer.status;
      var json = answer.json;
      if (status === 201 || status === 200) { return { outcome: status === 201 ? "stored" : "duplicate", json: json }; }
      if (status === 0 && dropped < 2) {  // the visit itself is small: after a drop, send it again at once
        return wait(1000).then(function () { return sendVisit(item, token, reminted, onProgress, dropped + 1); });
      }
      if (status === 0) { return { outcome: "retry", message: "network" }; }
      if (status === 401) { return { outcome: "login" }; }
      if (status === 400 && (json.status === "csrf" || !json.status)) { return { outcome: "token" }; }  // new token
      if (status === 409 && json.status === "photo_missing") {  // sent ahead, yet not there: send them again
        var missing = (json.errors && json.errors.missing) || [];
        item.photos.forEach(function (photo) { if (missing.indexOf(photo.uuid) >= 0) { photo.sent = false; } });
        return put(item).then(function () { return { outcome: "retry", message: json.message }; });
      }
      if (status === 409 && (reminted || 0) < 3) {
        return remint(item, answer).then(function (changed) {
          return changed ? sendOne(item, token, (reminted || 0) + 1, onProgress) : refused(status, json);
        });
      }
      return refused(status, json);
    });
  }

  function refused(status, json) {
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return { outcome: "rejected", status: status, message: json.message || ("HTTP " + status),
        errors: json.errors || null };
    }
    return { outcome: "retry", message: "HTTP " + status };
  }

  // Someone showing the outbox (the page's panel, or the service worker telling the pages) hears of each photo.
  function progress(item) { if (api.onProgress) { api.onProgress(item); } }

  var sending = null;
  // Send every waiting item, one by one. Concurrent calls share one run.
  // One sender per phone: the page and the service worker (Background Sync) would otherwise send the same photos
  // at once, halving a thin link so that neither finishes before the next drop. Web Locks where the browser has
  // them; whoever finds the lock taken leaves the work to its holder.
  function sendAll() {
    var locks = global.navigator && global.navigator.locks;
    if (!locks) { return sendAllNow(); }
    return locks.request("kail-outbox", { ifAvailable: true }, function (lock) {
      return lock ? sendAllNow() : { sent: 0, busy: true };
    });
  }

  function sendAllNow() {
    if (sending) { return sending; }
    sending = all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state !== "needs_fix"; });
      if (!waiting.length) { return { sent: 0 }; }
      return freshToken().then(function (token) {
        var sent = 0;
        var chain = Promise.resolve();
        waiting.forEach(function (item) {
          chain = chain.then(function () {
            item.state = "sending";
            item.attempts = (item.attempts || 0) + 1;
            return put(item).then(function () { return sendOne(item, token, 0, progress); }).then(function (result) {
              if (result.outcome === "token") {
                return freshToken().then(function (newToken) { token = newToken; return sendOne(item, token, 0, progress); });
              }
              return result;
            }).then(function (result) {
              if (result.outcome === "stored" || result.outcome === "duplicate") {
                sent += 1;
                return markDelivered(item);
              }
              if (result.outcome === "login") { throw { kind: "login" }; }
              item.state = result.outcome === "rejected" ? "needs_fix" : "waiting";
              item.lastError = result.message || null;
              item.errors = result.errors || null;
              item.refusedStatus = result.status || null;  // 403/404: no form to open any more (outbox.js)
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

  var api = global.KailOutbox = { SYNC_TAG: SYNC_TAG, VERSION: VERSION, all: all, put: put, remove: remove,
                        sendAll: sendAll, sendOne: sendOne, freshToken: freshToken, uuid4: uuid4,
                        upgradeItem: upgradeItem, delivered: delivered, forgetDelivered: forgetDelivered };
})(typeof self !== "undefined" ? self : this);
