// Kail: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Buttons that only matter without JavaScript (e.g. "Cari" next to a live search) hide once JS runs.
  document.documentElement.classList.add("js");

  // After an htmx swap, move focus to the first invalid field so screen readers announce its error.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); }
  });

  // A failed htmx request must not fail silently: say so in Indonesian (texts come from the page).
  var toast = document.getElementById("connection-message");
  function say(kind) {
    if (!toast) { return; }
    toast.textContent = toast.dataset[kind];
    toast.hidden = false;
    window.setTimeout(function () { toast.hidden = true; }, 6000);
  }
  // "Print / save as PDF" buttons (the printable report); no inline handlers under the CSP.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) { window.print(); }
  });

  // Menus (<details data-menu>: the main menu's "Lainnya", the account menu) close on a tap elsewhere and on
  // Escape, which puts focus back on the menu's button.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.open = false; }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var menu = event.target.closest && event.target.closest("details[data-menu][open]");
    if (menu) { menu.open = false; menu.querySelector("summary").focus(); }
  });

  document.addEventListener("htmx:sendError", function () { say("offline"); });
  document.addEventListener("htmx:responseError", function () { say("failed"); });
})();

// The caseload on the phone: whenever Kail is open with signal (login, opening a page more than 5 minutes after
// the last check, every 15 minutes while open, the "Perbarui data offline" button) the service worker fetches the
// list of the mentor's pages with their versions and keeps every page whose version changed.
(function () {
  "use strict";
  var logout = document.querySelectorAll("form[data-logout]");
  var CHECKED = "kail.caseload.checkedAt";
  if (!logout.length) {  // logged out (the login page): whoever logs in next gets a preparation at once
    try { localStorage.removeItem(CHECKED); } catch (e) { /* private mode */ }
    return;
  }
  if (!("serviceWorker" in navigator) || !("caches" in window)) { return; }
  var ON_OPEN_MS = 5 * 60000;
  var EVERY_MS = 15 * 60000;
  var CACHES = ["kail-caseload", "kail-photos", "kail-pages"];
  var panel = document.getElementById("offline-ready");
  var text = panel ? panel.querySelector("[data-offline-ready-text]") : null;
  var running = 0;  // when the running preparation was asked for (a worker stopped mid-way never answers)

  function remembered() { try { return Number(localStorage.getItem(CHECKED)) || 0; } catch (e) { return 0; } }
  function remember(value) {
    try { if (value) { localStorage.setItem(CHECKED, String(value)); } else { localStorage.removeItem(CHECKED); } }
    catch (e) { /* private mode */ }
  }
  function worker() {
    return navigator.serviceWorker.ready.then(function (registration) { return registration.active; });
  }
  function post(message) { return worker().then(function (active) { if (active) { active.postMessage(message); } }); }

  function busy() { return running && Date.now() - running < 3 * 60000; }

  function prepare() {
    if (!navigator.onLine) { return; }
    remember(Date.now());
    running = Date.now();
    post({ type: "prepare-caseload" });
  }

  function wita(time) {
    var when = new Date(time);
    var options = { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Makassar" };
    var sameDay = when.toLocaleDateString("id-ID", { timeZone: "Asia/Makassar" }) ===
      new Date().toLocaleDateString("id-ID", { timeZone: "Asia/Makassar" });
    if (!sameDay) { options.day = "numeric"; options.month = "short"; }
    return when.toLocaleString("id-ID", options);
  }

  function show(state, error) {
    if (!panel) { return; }
    panel.hidden = false;
    panel.classList.remove("offline-ready--partial");
    var d = panel.dataset;
    if (state && String(state.user) !== d.user) { state = null; }  // kept for someone else: being replaced
    if (!state || !state.updatedAt && !state.ready) {
      text.textContent = error === "login" ? d.login : (error ? d.failed : d.never);
      panel.classList.add("offline-ready--partial");
      return;
    }
    if (state.ready < state.families || !state.homeReady) {
      panel.classList.add("offline-ready--partial");
      text.textContent = d.partial.replace("{ready}", state.ready).replace("{n}", state.families)
        .replace("{missing}", state.families - state.ready);
      return;
    }
    text.textContent = d.ready.replace("{n}", state.families).replace("{time}", wita(state.updatedAt || state.checkedAt));
    if (error === "login") { text.textContent += " · " + d.login; }
  }

  navigator.serviceWorker.addEventListener("message", function (event) {
    var data = event.data || {};
    if (data.type === "caseload") {
      running = 0;
      show(data.state, data.error);
      if (data.state && data.state.complete && navigator.storage && navigator.storage.persist) {
        navigator.storage.persist();  // ask the browser not to evict the caseload under storage pressure
      }
    } else if (data.type === "caseload-progress" && panel && data.total) {
      panel.hidden = false;
      text.textContent = panel.dataset.running.replace("{done}", data.done).replace("{total}", data.total);
    }
  });
  if (panel) {
    post({ type: "caseload-state" });
    panel.querySelector("[data-offline-refresh]").addEventListener("click", function () {
      if (!navigator.onLine) { show(null, "network"); return; }
      if (!busy()) { prepare(); }
    });
  }
  if (Date.now() - remembered() > ON_OPEN_MS) { prepare(); }
  window.setInterval(function () { if (!busy()) { prepare(); } }, EVERY_MS);
  window.addEventListener("online", function () { if (Date.now() - remembered() > ON_OPEN_MS) { prepare(); } });

  // Logging out: unsent visits are named and need a confirmation; then nothing of the caseload stays on the phone
  // (the outbox only after that confirmation). The server must end the session first: without signal, or when the
  // request fails, nothing is deleted and the mentor is told (a logout that never reached the server used to delete
  // the unsent visits and leave her logged in, on the browser's own error page).
  Array.prototype.forEach.call(logout, function (form) {
    function text(name) {
      return form.dataset[name] || (document.querySelector("form[data-logout][data-" + name + "]") || form).dataset[name];
    }
    form.addEventListener("submit", function (event) {
      if (!window.fetch) { return; }  // a plain post (a browser with a service worker has fetch)
      event.preventDefault();
      event.stopImmediatePropagation();
      if (!navigator.onLine) { window.alert(text("offline")); return; }
      var button = form.querySelector("button[type=submit]");
      var held = window.KailOutbox ? window.KailOutbox.all() : Promise.resolve([]);
      held.catch(function () { return []; }).then(function (items) {
        if (items.length && !window.confirm(text("unsent").replace("{n}", items.length))) { return; }
        if (button) { button.disabled = true; }
        return fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok) { throw { failed: true }; }
            remember(0);
            post({ type: "forget-pages" });
            return Promise.all(CACHES.map(function (name) { return caches["delete"](name); }).concat(
              items.map(function (item) { return window.KailOutbox.remove(item.uuid); }))).then(function () {
              window.location.assign(response.url);
            });
          }, function () { throw { offline: true }; });
      }).catch(function (problem) {
        if (button) { button.disabled = false; }
        window.alert(text(problem && problem.failed ? "failed" : "offline"));
      });
    }, true);
  });
})();

// The account page: how much this phone keeps for Kail, and whether the browser promised to keep it.
(function () {
  "use strict";
  var box = document.getElementById("storage-use");
  if (!box || !navigator.storage || !navigator.storage.estimate) { return; }
  navigator.storage.estimate().then(function (estimate) {
    var mb = (estimate.usage || 0) / 1048576;
    var used = mb.toLocaleString("id-ID", { maximumFractionDigits: 1, minimumFractionDigits: 1 }) + " MB";
    box.querySelector("[data-storage-used]").textContent = box.dataset.used.replace("{used}", used);
    box.hidden = false;
    return navigator.storage.persisted ? navigator.storage.persisted() : false;
  }).then(function (persisted) {
    box.querySelector("[data-storage-persisted]").textContent =
      persisted ? box.dataset.persisted : box.dataset.notPersisted;
  });
})();
