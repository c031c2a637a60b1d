// Visit form: location fix with live accuracy, photo previews and slots, Rupiah formatting, visit time.
// The form works without this file (no location: the mentor picks a reason; photos still upload).
(function () {
  "use strict";
  var form = document.querySelector("[data-visit-form]");
  if (!form) { return; }

  function fill(template, metres) { return template.replace("{m}", String(Math.round(metres))); }

  // --- Location: watch the position for up to 30 s, keep the most accurate fix, stop early at <= 20 m.
  var geo = form.querySelector("[data-geo]");
  var button = geo.querySelector("[data-geo-button]");
  var status = geo.querySelector("[data-geo-status]");
  var fields = {
    lat: geo.querySelector("[data-geo-lat]"),
    lon: geo.querySelector("[data-geo-lon]"),
    accuracy: geo.querySelector("[data-geo-accuracy]"),
    at: form.querySelector("input[name=location_fixed_at]")
  };
  var reason = form.querySelector("select[name=no_location_reason]");
  var watchId = null;
  var best = null;
  var GOOD_ENOUGH_M = 20;
  var WATCH_MS = 30000;

  function stop() {
    if (watchId !== null) { navigator.geolocation.clearWatch(watchId); watchId = null; }
    button.disabled = false;
  }
  function keep(position) {
    var c = position.coords;
    if (best && best.coords.accuracy <= c.accuracy) { return; }
    best = position;
    fields.lat.value = c.latitude.toFixed(7);
    fields.lon.value = c.longitude.toFixed(7);
    fields.accuracy.value = c.accuracy.toFixed(1);
    fields.at.value = new Date(position.timestamp).toISOString();
    if (reason) { reason.value = ""; }
    status.textContent = fill(geo.dataset[c.accuracy <= GOOD_ENOUGH_M ? "msgGood" : "msgAccuracy"], c.accuracy);
    if (c.accuracy <= GOOD_ENOUGH_M) { stop(); }
  }
  function fail(error) {
    if (best) { stop(); return; }
    status.textContent = geo.dataset[error && error.code === 1 ? "msgDenied" : "msgUnavailable"];
    if (reason && !reason.value) { reason.value = error && error.code === 1 ? "izin_ditolak" : "sinyal_lemah"; }
    stop();
  }
  button.addEventListener("click", function () {
    if (!("geolocation" in navigator)) {
      status.textContent = geo.dataset.msgUnsupported;
      if (reason && !reason.value) { reason.value = "gps_mati"; }
      return;
    }
    best = null;
    button.disabled = true;
    status.textContent = geo.dataset.msgWait;
    watchId = navigator.geolocation.watchPosition(keep, fail,
      { enableHighAccuracy: true, timeout: WATCH_MS, maximumAge: 0 });
    window.setTimeout(function () { if (watchId !== null) { if (best) { stop(); } else { fail(null); } } }, WATCH_MS);
  });

  // --- Photos: preview each chosen photo; show one empty slot at a time.
  var slots = Array.prototype.slice.call(form.querySelectorAll("[data-photo-slot]"));
  function refreshSlots() {
    var shownEmpty = false;
    slots.forEach(function (slot) {
      var input = slot.querySelector("input[type=file]");
      var hasFile = input.files && input.files.length > 0;
      var invalid = slot.classList.contains("field--invalid");
      var show = hasFile || invalid || !shownEmpty;
      if (!hasFile && !invalid) { shownEmpty = true; }
      slot.hidden = !show;
    });
  }
  slots.forEach(function (slot) {
    var input = slot.querySelector("input[type=file]");
    var preview = slot.querySelector("[data-photo-preview]");
    input.addEventListener("change", function () {
      if (preview.src) { URL.revokeObjectURL(preview.src); }
      if (input.files && input.files[0]) {
        preview.src = URL.createObjectURL(input.files[0]);
        preview.hidden = false;
      } else {
        preview.removeAttribute("src");
        preview.hidden = true;
      }
      refreshSlots();
    });
  });
  refreshSlots();

  // --- One tap when every package item is there and in use (the common case); each can still be changed.
  Array.prototype.forEach.call(form.querySelectorAll("[data-all-items]"), function (button) {
    button.addEventListener("click", function () {
      Array.prototype.forEach.call(form.querySelectorAll("select[name^='item-']"), function (select) {
        select.value = button.dataset.allItems;
      });
    });
  });

  // --- Rupiah: thousands separators while typing; the server keeps only the digits.
  Array.prototype.forEach.call(form.querySelectorAll("[data-rupiah]"), function (input) {
    input.addEventListener("input", function () {
      var digits = input.value.replace(/\D/g, "").replace(/^0+(?=\d)/, "");
      input.value = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    });
  });

  // --- The time of the visit is when the mentor saves it, on the phone's clock (checked by the server).
  form.addEventListener("submit", function () {
    var visitedAt = form.querySelector("input[name=visited_at]");
    if (visitedAt && !visitedAt.value) { visitedAt.value = new Date().toISOString(); }
  });
})();
