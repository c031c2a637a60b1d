// Kail on every page: service worker, online/offline state, the outbox panel ("menunggu dikirim").
(function () {
  "use strict";
  var panel = document.getElementById("outbox");
  var netStatus = document.getElementById("net-status");
  var offlineNote = document.getElementById("offline-note");
  var sentPanel = document.getElementById("outbox-sent");  // "Terkirim": what arrived lately, with the time
  var text = panel ? panel.dataset : {};

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* the app works without */ });
    // A worker that activates while this page is still loading (the first page after logging in, say) does not
    // take it over: Chromium's clients.claim() skips documents not yet ready. Ask once the worker is there, or this
    // page would miss the worker's "sent" messages until the next page.
    navigator.serviceWorker.ready.then(function (registration) {
      if (!navigator.serviceWorker.controller && registration.active) {
        registration.active.postMessage({ type: "claim" });
      }
    });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox-changed") { render(); }
    });
  }

  function showNetwork() {
    var online = navigator.onLine;
    if (netStatus) {
      netStatus.textContent = online ? netStatus.dataset.online : netStatus.dataset.offline;
      netStatus.classList.toggle("net--offline", !online);
    }
    if (offlineNote) { offlineNote.hidden = online; }
  }

  function stateLabel(item) {
    if (item.state === "needs_fix") { return text.rejected + (item.lastError ? ": " + item.lastError : ""); }
    var sent = item.photos.filter(function (photo) { return photo.sent; }).length;
    if (sent) {
      return text.progress.replace("{sent}", String(sent)).replace("{n}", String(item.photos.length));
    }
    if (item.state === "sending") { return text.sending; }
    return item.attempts ? text.retrying : text.waiting;
  }

  // A delivered visit stays in the panel for SHOW_SENT_MS as "Terkirim 08.12" (the phone's own record of it).
  var SHOW_SENT_MS = 2 * 3600000;
  function clock(time) {
    return new Date(time).toLocaleTimeString("id-ID", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Makassar" });
  }

  function row(item, label) {
    var li = document.createElement("li");
    li.className = "outbox__item outbox__item--" + item.state;
    var title = document.createElement("strong");
    title.textContent = item.title || item.uuid;
    var meta = document.createElement("span");
    var count = item.state === "sent" ? item.photoCount : item.photos.length;
    meta.textContent = new Date(item.createdAt).toLocaleString("id-ID", {
      day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) + " · " + count +
      " " + text.photos + " · " + label;
    li.appendChild(title);
    li.appendChild(meta);
    return li;
  }

  function render() {
    if (!panel || !window.KailOutbox) { return Promise.resolve(); }
    return Promise.all([KailOutbox.all(), KailOutbox.delivered ? KailOutbox.delivered() : []]).then(function (both) {
      var items = both[0];
      var recent = both[1].filter(function (record) {
        return !record.dismissed && Date.now() - Date.parse(record.sentAt) < SHOW_SENT_MS;
      });
      panel.hidden = items.length === 0;
      panel.querySelector("[data-outbox-count]").textContent = String(items.length);
      var list = panel.querySelector("[data-outbox-list]");
      list.textContent = "";
      items.forEach(function (item) {
        var li = row(item, stateLabel(item));
        if (item.state === "needs_fix") {
          // Refused by the server: kept whole, opened in its form to fix and send again. Deleting is a choice.
          // A family or visit no longer hers (404) or a role that may no longer record (403) has no form to open:
          // the server's reason says whom to ask; the visit stays until she deletes it.
          if (item.refusedStatus !== 403 && item.refusedStatus !== 404) {
            var kind = (item.fields || []).filter(function (pair) { return pair[0] === "kind"; })[0];
            var fix = document.createElement("a");
            fix.className = "button button--primary";
            fix.href = item.url + "?" + (kind ? "jenis=" + encodeURIComponent(kind[1]) + "&" : "") +
              "dari-outbox=" + encodeURIComponent(item.uuid);
            fix.textContent = text.fix;
            li.appendChild(fix);
          }
          var drop = document.createElement("button");
          drop.type = "button";
          drop.className = "button button--secondary";
          drop.textContent = text.remove;
          drop.addEventListener("click", function () {
            if (window.confirm(text.confirmRemove)) { KailOutbox.remove(item.uuid).then(render); }
          });
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
      if (sentPanel) {
        sentPanel.hidden = recent.length === 0;
        var sentList = sentPanel.querySelector("[data-outbox-sent-list]");
        sentList.textContent = "";
        recent.forEach(function (record) {
          sentList.appendChild(row(record, text.sent.replace("{time}", clock(record.sentAt))));
        });
      }
      document.dispatchEvent(new CustomEvent("kail:outbox-changed"));  // the work list marks what was delivered
    });
  }

  // Something arrived: the kept caseload (work list, family page) is refreshed now, not at the next 15-minute
  // check, so the family leaves "Terlambat dikunjungi" on the phone (home.js marks it meanwhile).
  function refreshCaseload() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (registration) {
      if (registration.active) { registration.active.postMessage({ type: "prepare-caseload" }); }
    });
  }

  // While anything waits, keep trying on a timer — not only on "online" or app start, which a link that comes
  // and goes may never fire — backing off (15 s doubling to 1 min) with jitter, so phones do not retry in step.
  var RETRY_FIRST_MS = 15000;
  var RETRY_MAX_MS = 60000;
  var failures = 0;
  var timer = null;
  function scheduleRetry(result) {
    if (timer) { window.clearTimeout(timer); timer = null; }
    return KailOutbox.all().then(function (items) {
      var waiting = items.filter(function (item) { return item.state !== "needs_fix"; }).length;
      if (!waiting || (result && result.error === "login")) { failures = 0; return; }
      failures = result && (result.sent || result.busy) ? 0 : failures + 1;
      var delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * Math.pow(2, Math.max(0, failures - 1)));
      timer = window.setTimeout(sendNow, delay * (0.5 + Math.random()));
    });
  }

  function sendNow() {
    if (!window.KailOutbox) { return Promise.resolve(); }
    return KailOutbox.sendAll().then(function (result) {
      if (result && result.sent) { refreshCaseload(); }
      if (result && result.error === "login" && panel) {
        panel.querySelector("[data-outbox-note]").textContent = text.login;
      }
      return scheduleRetry(result).then(render);
    });
  }

  if (window.KailOutbox) { KailOutbox.onProgress = function () { render(); }; }

  window.KailApp = {
    render: render,
    sendNow: sendNow,
    requestSync: function () {
      if (!("serviceWorker" in navigator)) { return; }
      navigator.serviceWorker.ready.then(function (registration) {
        if (registration.sync) { return registration.sync.register(KailOutbox.SYNC_TAG); }
      }).catch(function () { /* no Background Sync (iOS): the online event and the next start send it */ });
    }
  };

  if (panel) {
    panel.querySelector("[data-outbox-send]").addEventListener("click", sendNow);
  }
  if (sentPanel) {  // "Tutup": seen; the records stay (the work list still uses them) but leave the panel
    sentPanel.querySelector("[data-outbox-sent-close]").addEventListener("click", function () {
      KailOutbox.delivered().then(function (records) {
        return Promise.all(records.map(function (record) { record.dismissed = true; return KailOutbox.put(record); }));
      }).then(render);
    });
  }
  window.addEventListener("online", function () { showNetwork(); sendNow(); });
  window.addEventListener("offline", showNetwork);
  showNetwork();
  render().then(function () { if (navigator.onLine) { sendNow(); } });  // every time the app opens
})();
