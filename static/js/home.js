// Mentor home: "Terdekat" asks the phone for its position once and re-sorts the list nearest first.
(function () {
  "use strict";
  var button = document.querySelector("[data-sort-nearest]");
  var form = document.getElementById("work-filters");
  if (!button || !form || !("geolocation" in navigator)) { if (button) { button.hidden = true; } return; }
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.querySelector("[data-position=lat]").value = position.coords.latitude.toFixed(5);
      form.querySelector("[data-position=lon]").value = position.coords.longitude.toFixed(5);
      button.disabled = false;
      if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.submit(); }
    }, function () {
      button.disabled = false;
      var toast = document.getElementById("connection-message");
      if (toast) {
        toast.textContent = button.dataset.denied;
        toast.hidden = false;
        window.setTimeout(function () { toast.hidden = true; }, 6000);
      }
    }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 300000 });
  });
})();

// Install card at the top of the home during the mentor's first days (14 from the first time she sees it), until
// she installs the app or taps "Tutup" (remembered on this phone). Not shown inside the installed app.
(function () {
  "use strict";
  var card = document.getElementById("install-card");
  var DAYS = 14;
  if (!card) { return; }
  var standalone = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
  var store = window.localStorage;
  function remembered(key) { try { return store.getItem(key); } catch (e) { return null; } }
  function remember(key, value) { try { store.setItem(key, value); } catch (e) { /* private mode: not remembered */ } }
  if (standalone || remembered("kail.install.dismissed")) { return; }
  var first = Number(remembered("kail.install.firstSeen"));
  if (!first) { first = Date.now(); remember("kail.install.firstSeen", String(first)); }
  if (Date.now() - first > DAYS * 86400000) { return; }

  var button = card.querySelector("[data-install-button]");
  var deferred = null;
  if (/iphone|ipad|ipod/i.test(navigator.userAgent)) {
    card.querySelector("[data-install-ios]").hidden = false;
    card.querySelector("[data-install-other]").hidden = true;
  }
  card.hidden = false;
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();  // Kail offers it here, with a word on why
    deferred = event;
    button.hidden = false;
    card.querySelector("[data-install-other]").hidden = true;
  });
  button.addEventListener("click", function () {
    if (!deferred) { return; }
    deferred.prompt();
    deferred.userChoice.then(function (choice) {
      if (choice.outcome === "accepted") { card.hidden = true; }
    });
    deferred = null;
    button.hidden = true;
  });
  window.addEventListener("appinstalled", function () { card.hidden = true; });
  card.querySelector("[data-install-dismiss]").addEventListener("click", function () {
    remember("kail.install.dismissed", "1");
    card.hidden = true;
  });
})();

// Search and status filter on the phone when the list holds every family (the copy kept for offline use, or a
// caseload of one page): the same matching as the server (name contains, NIK starts with, status equals).
(function () {
  "use strict";
  var form = document.getElementById("work-filters");
  if (!form) { return; }
  function list() {
    var section = document.getElementById("work-list");
    return section && section.hasAttribute("data-complete") ? section : null;
  }
  function matches(card, needle, status) {
    if (status && card.dataset.status !== status) { return false; }
    if (!needle) { return true; }
    if (/^\d+$/.test(needle)) { return card.dataset.nik.indexOf(needle) === 0; }
    return card.dataset.name.indexOf(needle) !== -1;
  }
  function apply(section, q, status) {
    var needle = (q || "").trim().toLowerCase();
    var shown = 0;
    Array.prototype.forEach.call(section.querySelectorAll("li[data-name]"), function (card) {
      var ok = matches(card, needle, status);
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    Array.prototype.forEach.call(section.querySelectorAll("ul.cards"), function (group) {
      var any = !!group.querySelector("li[data-name]:not([hidden])");
      group.hidden = !any;
      var title = group.previousElementSibling;
      if (title && title.tagName === "H2") { title.hidden = !any; }
    });
    var count = section.querySelector("[data-count-template]");
    if (count) {  // "1 family" / "2 families" in English; Indonesian has one form
      count.textContent = shown === 1 && count.dataset.countOne ? count.dataset.countOne
        : count.dataset.countTemplate.replace("{n}", String(shown));
    }
    var none = section.querySelector("[data-no-match]");
    if (none) { none.hidden = shown > 0; }
  }
  function values() {
    var q = form.querySelector("[name=q]");
    var status = form.querySelector("[name=status]");
    return { q: q ? q.value : "", status: status ? status.value : "" };
  }
  form.addEventListener("htmx:beforeRequest", function (event) {
    var section = list();
    var sorting = form.querySelector("[data-position=lat]");
    if (!section || (sorting && sorting.value)) { return; }  // "Terdekat" asks the server
    event.preventDefault();
    var v = values();
    apply(section, v.q, v.status);
    var params = new URLSearchParams();
    if (v.q.trim()) { params.set("q", v.q.trim()); }
    if (v.status) { params.set("status", v.status); }
    var query = params.toString();
    history.replaceState(history.state, "", location.pathname + (query ? "?" + query : ""));
  });
  // The offline copy answers any /kunjungan/?q=…&status=… address: apply what the address asks for.
  var section = list();
  var params = new URLSearchParams(location.search);
  if (section && (params.get("q") || params.get("status"))) {
    var q = form.querySelector("[name=q]");
    var status = form.querySelector("[name=status]");
    if (q) { q.value = params.get("q") || ""; }
    if (status) { status.value = params.get("status") || ""; }
    apply(section, params.get("q"), params.get("status"));
  }
})();

// Visits delivered from this phone: on the work list (the kept copy offline, or a page opened before the visit
// arrived) the family leaves "Terlambat dikunjungi" at once, under "Baru terkirim" with the time, until the
// refreshed caseload (asked for right after the delivery) shows where the server now puts it.
(function () {
  "use strict";
  var outbox = document.getElementById("outbox");
  if (!document.getElementById("work-list") || !outbox || !window.KailOutbox || !KailOutbox.delivered) { return; }
  var OVERDUE_TITLE = "group-title--1";  // schedule.OVERDUE
  var group = null;
  function clock(time) {
    return new Date(time).toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Makassar" });
  }
  function sentGroup(after) {
    if (group) { return group; }
    var title = document.createElement("h2");
    title.className = "group-title group-title--sent";
    title.textContent = outbox.dataset.sentGroup;
    group = document.createElement("ul");
    group.className = "cards";
    after.parentNode.insertBefore(title, after.nextSibling);
    title.parentNode.insertBefore(group, title.nextSibling);
    return group;
  }
  function mark() {
    var section = document.getElementById("work-list");
    if (!section) { return; }
    if (group && !section.contains(group)) { group = null; }  // the list was swapped (search, filter)
    KailOutbox.delivered().then(function (records) {
      records.forEach(function (record) {
        if (!record.recipient) { return; }
        var link = section.querySelector('a.work-card__main[href="/penerima/' + record.recipient + '"]');
        var card = link && link.closest("li");
        var list = card && card.parentElement;
        var title = list && list.previousElementSibling;
        if (!title || !title.classList.contains(OVERDUE_TITLE)) { return; }
        var why = card.querySelector(".work-card__why");
        if (why) { why.textContent = outbox.dataset.sent.replace("{time}", clock(record.sentAt)); }
        card.classList.add("work-card--sent");
        sentGroup(list).appendChild(card);
        if (!list.querySelector("li")) { list.hidden = true; title.hidden = true; }
      });
    });
  }
  mark();
  document.addEventListener("kail:outbox-changed", mark);
  document.body.addEventListener("htmx:afterSettle", mark);
})();
