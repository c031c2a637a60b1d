/* Kail service worker {{ version }}: the app shell from cache, pages network-first with an offline copy,
   and the visit outbox sent in the background where the browser supports Background Sync. */
"use strict";
importScripts("{{ url_for('static', filename='js/outbox-core.js') }}");

var VERSION = "{{ version }}";
var SHELL_CACHE = "kail-shell-" + VERSION;
var PAGE_CACHE = "kail-pages";
var PHOTO_CACHE = "kail-photos";
var SHELL = {{ shell|tojson }};
var OFFLINE_URL = "{{ url_for('pwa.offline') }}";
var NETWORK_TIMEOUT_MS = 6000;
// Pages a mentor needs in the field, kept for offline reading.
var PAGE_PATTERNS = [/^\/$/, /^\/kunjungan\/$/, /^\/penerima\/\d+$/, /^\/penerima\/\d+\/kunjungan\/baru$/];
var MAX_PAGES = 60;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) {
    return cache.addAll(SHELL.map(function (url) { return new Request(url, { cache: "reload" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("kail-shell-") === 0 && key !== SHELL_CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function cacheable(url) {
  return PAGE_PATTERNS.some(function (pattern) { return pattern.test(url.pathname); });
}

function trimPages(cache) {
  return cache.keys().then(function (keys) {
    return Promise.all(keys.slice(0, Math.max(0, keys.length - MAX_PAGES)).map(function (key) {
      return cache.delete(key);
    }));
  });
}

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

function page(request) {
  var url = new URL(request.url);
  return withTimeout(fetch(request), NETWORK_TIMEOUT_MS).then(function (response) {
    // A page saying "saved" (?kunjungan=…, ?saved=1) is for this moment only, never the offline copy.
    var oneOff = url.searchParams.has("kunjungan") || url.searchParams.has("saved");
    if (response.ok && !response.redirected && cacheable(url) && !oneOff) {
      var copy = response.clone();
      caches.open(PAGE_CACHE).then(function (cache) {
        // One copy per path: a query string (search, filters) does not make a new offline page.
        return cache.put(url.origin + url.pathname, copy).then(function () { return trimPages(cache); });
      });
    }
    return response;
  }).catch(function () {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(url.origin + url.pathname);
    }).then(function (cached) {
      return cached || caches.match(OFFLINE_URL);
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

self.addEventListener("sync", function (event) {
  if (event.tag === KailOutbox.SYNC_TAG) {
    event.waitUntil(KailOutbox.sendAll().then(notifyClients));
  }
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "send-outbox") {
    event.waitUntil(KailOutbox.sendAll().then(notifyClients));
  } else if (data.type === "forget-pages") {  // after logout: nobody else reads this family data offline
    event.waitUntil(Promise.all([caches.delete(PAGE_CACHE), caches.delete(PHOTO_CACHE)]));
  }
});

function notifyClients() {
  return self.clients.matchAll().then(function (clients) {
    clients.forEach(function (client) { client.postMessage({ type: "outbox-changed" }); });
  });
}
