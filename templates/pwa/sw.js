/* Kail service worker {{ version }}: the app shell from cache; the mentor's whole caseload kept on the phone
   (every page listed by /offline/daftar.json, fetched again only when its version changes); pages network-first
   with that copy when there is no signal; and the visit outbox sent in the background where the browser supports
   Background Sync. */
"use strict";
importScripts("{{ url_for('static', filename='js/outbox-core.js') }}");

var VERSION = "{{ version }}";
var SHELL_CACHE = "kail-shell-" + VERSION;
var CASELOAD_CACHE = "kail-caseload";
var OLD_CACHES = ["kail-pages"];  // the 60-page cache before the caseload list
var PHOTO_CACHE = "kail-photos";
var SHELL = {{ shell|tojson }};
var OFFLINE_URL = "{{ url_for('pwa.offline') }}";
var MANIFEST_URL = "{{ url_for('pwa.caseload_manifest') }}";
var HOME_URL = "{{ url_for('visits.home') }}";
var STATE_URL = self.location.origin + "/__kail/caseload-state";
var NETWORK_TIMEOUT_MS = 6000;
var PAGES_URL = "{{ url_for('pwa.caseload_pages') }}";
var BATCH = 10;
var PARALLEL = 3;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return cache.addAll(SHELL.map(function (url) { return new Request(url, { cache: "reload" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return (key.indexOf("kail-shell-") === 0 && key !== SHELL_CACHE) || OLD_CACHES.indexOf(key) !== -1;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

// The address a page is kept under: its path, plus the kind of visit for a form (?jenis=); other parameters
// (search, filters, "saved" notices) do not make another page.
function keyFor(url) {
  var jenis = url.searchParams.get("jenis");
  return url.origin + url.pathname + (jenis ? "?jenis=" + encodeURIComponent(jenis) : "");
}

// Pages are kept gzip-compressed (a caseload is ~2 MB of HTML, ~0.5 MB compressed) where the browser can.
function pack(response, version) {
  var type = response.headers.get("Content-Type") || "text/html; charset=utf-8";
  var zip = typeof CompressionStream === "function";
  var body = zip ? response.body.pipeThrough(new CompressionStream("gzip")) : response.body;
  return new Response(body).blob().then(function (blob) {
    var headers = { "Content-Type": type, "X-Kail-Version": version, "X-Kail-Size": String(blob.size) };
    if (zip) { headers["X-Kail-Gzip"] = "1"; }
    return new Response(blob, { headers: headers });
  });
}

function unpack(stored) {
  if (!stored || stored.headers.get("X-Kail-Gzip") !== "1") { return stored; }
  return new Response(stored.body.pipeThrough(new DecompressionStream("gzip")), {
    headers: { "Content-Type": stored.headers.get("Content-Type"), "X-Kail-Offline-Copy": "1" }
  });
}

function offlineCopy(url) {
  return caches.open(CASELOAD_CACHE).then(function (cache) {
    // The installed app starts at "/?source=pwa": offline, that is the work list.
    var key = url.pathname === "/" ? url.origin + HOME_URL : keyFor(url);
    return cache.match(key).then(function (hit) {
      // "?jenis=<the first kind>" is the same form as the one "Catat kunjungan" opens.
      return hit || (url.searchParams.has("jenis") ? cache.match(url.origin + url.pathname) : undefined);
    });
  }).then(unpack);
}

// A caseload page opened with signal refreshes its kept copy (under the version the list gave it: if the page
// changed since, the next refresh sees another version and fetches it again). Only pages of the last list, or of
// the page kinds a mentor keeps while her first list is still on its way; the work list is kept whole, never
// one page of it; notices (?kunjungan=…, ?saved=…) are for that moment only.
var PAGE_PATTERNS = [/^\/penerima\/\d+$/, /^\/penerima\/\d+\/kunjungan\/baru$/, /^\/kunjungan\/\d+\/perbaiki$/,
                     /^\/bantuan$/];

function keepFresh(url, response) {
  var key = keyFor(url);
  var extra = Array.from(url.searchParams.keys()).filter(function (name) { return name !== "jenis"; });
  var home = url.pathname === HOME_URL;
  if (extra.length || !(home || PAGE_PATTERNS.some(function (p) { return p.test(url.pathname); }))) { return; }
  var copy = response.clone();
  Promise.all([readState(), caches.open(CASELOAD_CACHE), copy.text()]).then(function (all) {
    var state = all[0];
    var cache = all[1];
    var html = all[2];
    if (state && state.urls && state.urls.indexOf(key) === -1) { return null; }
    if (home && html.indexOf("data-complete") === -1) { return null; }  // one page of a longer list
    return cache.match(key).then(function (old) {
      var fresh = new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
      return pack(fresh, old ? old.headers.get("X-Kail-Version") || "" : "");
    }).then(function (packed) { return cache.put(key, packed); });
  })["catch"](function () { /* a copy not kept is fetched by the next refresh */ });
}

function page(request) {
  var url = new URL(request.url);
  var network = fetch(request);
  function answered(response) {
    if (response.ok && !response.redirected && response.type === "basic") { keepFresh(url, response); }
    if (response.status < 500) { return response; }
    return offlineCopy(url).then(function (copy) { return copy || response; });  // server down: the copy
  }
  return withTimeout(network, NETWORK_TIMEOUT_MS).then(answered).catch(function () {
    // No answer yet, or no network: the kept copy. A page the phone does not keep (the login page, a review
    // page) waits for the network as long as the browser would: a slow link still brings it, and "no connection"
    // after 6 s would be untrue (on 2G a mentor could never reach the login page).
    return offlineCopy(url).then(function (copy) {
      return copy || network.then(answered, function () { return caches.match(OFFLINE_URL); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.headers.get("HX-Request")) { return; }  // fragments: network only
  if (request.mode === "navigate") {
    event.respondWith(page(request));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (cached) {
      return cached || fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    }));
    return;
  }
  if (/^\/foto\/\d+\/kecil$/.test(url.pathname)) {  // thumbnails never change (content-addressed)
    event.respondWith(caches.open(PHOTO_CACHE).then(function (cache) {
      return cache.match(request).then(function (cached) {
        return cached || fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
      });
    }));
  }
});

/* The caseload: one request for the list of pages with their versions, then only the pages whose version
   changed, ten to a request; pages no longer listed (a family reassigned away, a corrected visit) are deleted. */
var preparing = null;

function readState() {
  return caches.open(CASELOAD_CACHE).then(function (cache) { return cache.match(STATE_URL); })
    .then(function (stored) { return stored ? stored.json() : null; });
}

function tell(message) {
  return self.clients.matchAll().then(function (clients) {
    clients.forEach(function (client) { client.postMessage(message); });
  });
}

function held(cache) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.map(function (request) {
      return cache.match(request).then(function (stored) {
        return [request.url, stored.headers.get("X-Kail-Version"), Number(stored.headers.get("X-Kail-Size") || 0)];
      });
    }));
  }).then(function (rows) {
    var map = {};
    rows.forEach(function (row) { if (row[0] !== STATE_URL) { map[row[0]] = { version: row[1], size: row[2] }; } });
    return map;
  });
}

function inTurns(items, parallel, work) {
  var next = 0;
  function worker() {
    if (next >= items.length) { return Promise.resolve(); }
    var item = items[next++];
    return work(item).then(worker);
  }
  var workers = [];
  for (var i = 0; i < Math.min(parallel, items.length); i++) { workers.push(worker()); }
  return Promise.all(workers);
}

// Pages come ten to a request (/offline/halaman): one compressed answer for pages that share their layout costs
// half the bytes of ten answers, and a tenth of the round trips.
function fetchBatch(batch) {
  var query = batch.map(function (p) { return "u=" + encodeURIComponent(p.fetch || p.url); }).join("&");
  return fetch(PAGES_URL + "?" + query, { credentials: "same-origin", cache: "no-store",
                                          headers: { "Accept": "application/json" } }).then(function (response) {
    if (!response.ok || response.redirected) { throw new Error("HTTP " + response.status); }
    return response.json();
  }).then(function (body) {
    var html = {};
    body.pages.forEach(function (page) { if (page.html !== null) { html[page.url] = page.html; } });
    return html;
  });
}

function prepare() {
  if (preparing) { return preparing; }
  var origin = self.location.origin;
  preparing = fetch(MANIFEST_URL, { credentials: "same-origin", cache: "no-store",
                                    headers: { "Accept": "application/json" } }).then(function (response) {
    if (response.redirected || response.status === 401 || response.status === 403) { throw { kind: "login" }; }
    if (!response.ok) { throw { kind: "network" }; }
    return response.json();
  }).then(function (manifest) {
    // Another person logged in on this phone (a session that ended without "Keluar"): start from nothing.
    return readState().then(function (before) {
      if (before && before.user !== manifest.user) { return caches["delete"](CASELOAD_CACHE); }
    }).then(function () { return manifest; });
  }).then(function (manifest) {
    return caches.open(CASELOAD_CACHE).then(function (cache) {
      return held(cache).then(function (have) {
        var wanted = {};
        manifest.pages.forEach(function (p) { wanted[origin + p.url] = p; });
        var gone = Object.keys(have).filter(function (url) { return !wanted[url]; });
        var todo = manifest.pages.filter(function (p) {
          var copy = have[origin + p.url];
          return !copy || copy.version !== p.v;
        });
        var failed = 0;
        var done = 0;
        tell({ type: "caseload-progress", done: 0, total: todo.length });
        var batches = [];
        for (var i = 0; i < todo.length; i += BATCH) { batches.push(todo.slice(i, i + BATCH)); }
        return Promise.all(gone.map(function (url) { return cache["delete"](url); })).then(function () {
          return inTurns(batches, PARALLEL, function (batch) {
            return fetchBatch(batch).then(function (html) {
              return Promise.all(batch.map(function (p) {
                var text = html[p.fetch || p.url];
                if (typeof text !== "string") { failed += 1; return null; }
                var page = new Response(text, { headers: { "Content-Type": "text/html; charset=utf-8" } });
                return pack(page, p.v).then(function (packed) { return cache.put(origin + p.url, packed); });
              }));
            })["catch"](function () { failed += batch.length; }).then(function () {
              done += batch.length;
              tell({ type: "caseload-progress", done: done, total: todo.length });
            });
          });
        }).then(function () { return held(cache); }).then(function (now) {
          var missing = {};
          var pages = 0;
          var bytes = 0;
          manifest.pages.forEach(function (p) {
            var copy = now[origin + p.url];
            if (!copy) { missing[p.family === undefined ? p.url : p.family] = true; return; }
            pages += 1;
            bytes += copy.size;
          });
          var families = {};
          manifest.pages.forEach(function (p) { if (p.family !== undefined) { families[p.family] = true; } });
          var state = {
            user: manifest.user,
            urls: manifest.pages.map(function (p) { return origin + p.url; }),
            families: Object.keys(families).length,
            ready: Object.keys(families).filter(function (f) { return !missing[f]; }).length,
            homeReady: !!now[origin + HOME_URL] || manifest.families === 0,
            pages: pages, bytes: bytes, fetched: todo.length - failed, failed: failed, removed: gone.length,
            complete: failed === 0 && Object.keys(missing).length === 0,
            updatedAt: failed === 0 ? Date.now() : null
          };
          return readState().then(function (before) {
            // An incomplete run keeps the time of the last complete one.
            if (!state.updatedAt) { state.updatedAt = before ? before.updatedAt : null; }
            state.checkedAt = Date.now();
            return cache.put(STATE_URL, new Response(JSON.stringify(state), {
              headers: { "Content-Type": "application/json" } }));
          }).then(function () { return state; });
        });
      });
    });
  })["catch"](function (error) {
    return readState().then(function (state) {
      return { error: (error && error.kind) || "network", previous: state };
    });
  }).then(function (result) {
    preparing = null;
    tell({ type: "caseload", state: result.error ? result.previous : result, error: result.error || null });
    return result;
  });
  return preparing;
}

self.addEventListener("sync", function (event) {
  if (event.tag === KailOutbox.SYNC_TAG) {
    event.waitUntil(KailOutbox.sendAll().then(afterSending));
  }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "send-outbox") {
    event.waitUntil(KailOutbox.sendAll().then(afterSending));
  } else if (data.type === "claim") {  // a page that loaded while this worker activated (see outbox.js)
    event.waitUntil(self.clients.claim()["catch"](function () { /* not active yet: its activation claims */ }));
  } else if (data.type === "prepare-caseload") {
    event.waitUntil(prepare());
  } else if (data.type === "caseload-state") {
    event.waitUntil(readState().then(function (state) { return tell({ type: "caseload", state: state }); }));
  } else if (data.type === "forget-pages") {  // after logout: nobody else reads this family data offline
    event.waitUntil(Promise.all([CASELOAD_CACHE, PHOTO_CACHE].concat(OLD_CACHES).map(function (name) {
      return caches["delete"](name);
    }).concat([KailOutbox.forgetDelivered()["catch"](function () { /* no outbox yet */ })]))
      .then(function () { return tell({ type: "caseload", state: null }); }));
  }
});

KailOutbox.onProgress = function () { notifyClients(); };  // "2 dari 4 foto terkirim" on the open pages

// Delivered in the background: the pages hear of it, and the kept caseload is refreshed at once (the family's
// page and the work list change), not at the next 15-minute check.
function afterSending(result) {
  return notifyClients().then(function () { if (result && result.sent) { return prepare(); } });
}

function notifyClients() {
  return self.clients.matchAll().then(function (clients) {
    clients.forEach(function (client) { client.postMessage({ type: "outbox-changed" }); });
  });
}
