// Visit form: location fix with live accuracy, photo previews and slots, Rupiah formatting, visit time.
// The form works without this file (no location: the mentor picks a reason; photos still upload).
(function () {
  "use strict";
  var form = document.querySelector("[data-visit-form]");
  if (!form) { return; }

  function fill(template, metres) { return template.replace("{m}", String(Math.round(metres))); }

  // Everything inside the form is (re)wired here: the form's content is replaced when the server shows errors.
  function wire() {
    // --- Location: watch the position for up to 30 s, keep the most accurate fix, stop early at <= 20 m.
    var geo = form.querySelector("[data-geo]") || document.createElement("div");  // absent when correcting
    var button = geo.querySelector("[data-geo-button]") || document.createElement("button");
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
    function showPreview(input, preview) {
      if (preview.src) { URL.revokeObjectURL(preview.src); }
      if (input.files && input.files[0]) {
        preview.src = URL.createObjectURL(input.files[0]);
        preview.hidden = false;
      } else {
        preview.removeAttribute("src");
        preview.hidden = true;
      }
    }
    slots.forEach(function (slot) {
      var input = slot.querySelector("input[type=file]");
      var preview = slot.querySelector("[data-photo-preview]");
      input.addEventListener("change", function () { showPreview(input, preview); refreshSlots(); });
      // A form shown again with errors, its photos put back (or a stored visit reopened): previews too, so
      // nobody retakes a photo the form still holds.
      if (input.files && input.files.length) { showPreview(input, preview); }
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
        // Only a plain amount is regrouped; anything else ("1,5 juta") stays as typed for the server to refuse.
        if (!/^[\d.\s]*$/.test(input.value)) { return; }
        var digits = input.value.replace(/\D/g, "").replace(/^0+(?=\d)/, "");
        input.value = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
      });
    });
  }
  wire();

  var uuidField = form.querySelector("input[name=uuid]");
  var correction = !!form.dataset.correction;  // "Perbaiki kunjungan": the same outbox, the visit's own code

  // --- EXIF DateTimeOriginal from the original file (downscaling on a canvas drops all metadata).
  function exifTime(file) {
    return file.slice(0, 131072).arrayBuffer().then(function (buffer) {
      var view = new DataView(buffer);
      if (view.byteLength < 4 || view.getUint16(0) !== 0xFFD8) { return null; }
      var offset = 2;
      while (offset + 4 < view.byteLength) {
        var marker = view.getUint16(offset);
        var size = view.getUint16(offset + 2);
        if (marker === 0xFFE1 && view.getUint32(offset + 4) === 0x45786966) { return readTiff(view, offset + 10); }
        if ((marker & 0xFF00) !== 0xFF00) { return null; }
        offset += 2 + size;
      }
      return null;
    }).catch(function () { return null; });
  }
  function readTiff(view, tiff) {
    var little = view.getUint16(tiff) === 0x4949;
    var u16 = function (o) { return view.getUint16(tiff + o, little); };
    var u32 = function (o) { return view.getUint32(tiff + o, little); };
    function findTag(ifd, tag) {
      var count = u16(ifd);
      for (var i = 0; i < count; i++) {
        var entry = ifd + 2 + i * 12;
        if (u16(entry) === tag) { return entry; }
      }
      return null;
    }
    function ascii(entry) {
      var length = u32(entry + 4);
      var at = length > 4 ? u32(entry + 8) : entry + 8;
      var out = "";
      for (var i = 0; i < length - 1 && tiff + at + i < view.byteLength; i++) {
        out += String.fromCharCode(view.getUint8(tiff + at + i));
      }
      return out;
    }
    try {
      var ifd0 = u32(4);
      var exifPointer = findTag(ifd0, 0x8769);
      var original = exifPointer ? findTag(u32(exifPointer + 8), 0x9003) : null;
      var entry = original || findTag(ifd0, 0x0132);
      return entry ? ascii(entry) : null;
    } catch (e) { return null; }
  }

  // --- Photos leave the phone small: longest side 1600 px, JPEG quality 0.8 (a 4 MB photo becomes ~300 KB).
  var MAX_SIDE = 1600;
  function downscale(file) {
    if (!window.createImageBitmap) { return Promise.resolve(file); }
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.8);
      });
    }).catch(function () { return file; });  // not decodable here: the server judges the original
  }

  // --- The server's rules, exported into the page (visits/forms.client_rules): the phone refuses to queue what
  // the server would refuse, with the server's words. `fields` are [name, value] pairs, `photos` {field, blob};
  // `opened` (a correction's answers as the page opened, see answersKey) makes "nothing corrected" a refusal too.
  function check(rules, fields, photos, opened) {
    var errors = {};
    function all(name) {
      return fields.filter(function (pair) { return pair[0] === name; }).map(function (pair) { return pair[1]; });
    }
    function one(name) { var values = all(name); return values.length ? String(values[0]).trim() : ""; }
    function add(key, message) { if (!errors[key]) { errors[key] = message; } }

    Object.keys(rules.lengths || {}).forEach(function (name) {
      var limit = rules.lengths[name];
      if (all(name).length && String(all(name)[0]).length > limit[0]) { add(name, limit[1]); }
    });
    if (rules.turnover) {
      var text = one("turnover");
      var match = text && new RegExp(rules.turnover.pattern, "i").exec(text);
      if (text && !match) { add("turnover", rules.turnover.format); }
      if (match && Number(match[1].replace(/\D/g, "")) > rules.turnover.max) { add("turnover", rules.turnover.tooLarge); }
    }
    if (rules.location && !one("lat") && !one("lon") && !one("no_location_reason")) {
      add("no_location_reason", rules.location);
    }
    (rules.required || []).forEach(function (rule) {
      if (rule.unless && one(rule.unless[0]) === rule.unless[1]) { return; }
      if (!all(rule.field).some(function (v) { return String(v).trim() !== ""; })) { add(rule.field, rule.message); }
    });
    (rules.items || []).forEach(function (rule) { if (!one(rule.field)) { add(rule.field, rule.message); } });
    var status = one("status");
    if (rules.concluding && rules.concluding.accepted.indexOf(status) < 0) { add("status", rules.concluding.message); }
    if (status && rules.reasonFor && rules.reasonFor[status] && !one("reason")) { add("reason", rules.reasonFor[status]); }

    var p = rules.photos;
    var tags = (p.existingTags || []).slice();
    var slotProblem = false;
    photos.forEach(function (photo) {
      var slot = photo.field.replace(/^photo-/, "");
      var tag = one("tag-" + slot);
      if (p.tags.indexOf(tag) < 0) { add("tag-" + slot, p.tagMessage.replace("{n}", slot)); slotProblem = true; return; }
      if (photo.blob && photo.blob.size > p.maxBytes) {
        add(photo.field, p.tooLarge.replace("{n}", slot));
        slotProblem = true;
        return;
      }
      tags.push(tag);
    });
    if (!tags.length && !slotProblem) {
      add("photos", p.minOne);
    } else if (p.requiredTag && tags.length && tags.indexOf(p.requiredTag) < 0) {
      add("photos", p.requiredTagMessage);
    }
    if (rules.unchanged && opened && !photos.length && !Object.keys(errors).length && answersKey(fields) === opened) {
      add("photos", rules.unchanged);
    }
    return errors;
  }

  function rulesOf(root) {
    var block = root.querySelector("#visit-rules");
    try { return block ? JSON.parse(block.textContent) : null; } catch (e) { return null; }
  }

  function each(selector, action) { Array.prototype.forEach.call(form.querySelectorAll(selector), action); }

  // Messages next to their fields and a summary on top, as the server's page shows them.
  function showMessages(errors) {
    each(".field__error, .error-summary", function (el) { el.remove(); });
    each(".field--invalid", function (el) { el.classList.remove("field--invalid"); });
    each("[aria-invalid]", function (el) { el.removeAttribute("aria-invalid"); });
    var keys = Object.keys(errors);
    if (!keys.length) { return null; }
    var summary = document.createElement("div");
    summary.className = "alert alert--error error-summary";
    summary.setAttribute("role", "alert");
    var intro = document.createElement("p");
    intro.textContent = form.dataset.msgInvalid;
    var list = document.createElement("ul");
    summary.appendChild(intro);
    summary.appendChild(list);
    keys.forEach(function (key) {
      var input = form.querySelector("[name='" + key + "']:not([type=hidden])");
      var group = document.getElementById(key);
      var box;
      if (key === "photos") { box = form.querySelector("#sec-photos").parentNode; }
      else if (group && group.tagName === "FIELDSET") { box = group; }
      else if (input) { box = input.closest(".photo-slot, .item-row, .field"); }
      box = box || form;
      var message = document.createElement("p");
      message.className = "field__error";
      message.id = key + "-error";
      message.setAttribute("role", "alert");
      message.textContent = errors[key];
      if (key === "photos") { box.querySelector("h2").insertAdjacentElement("afterend", message); }
      else { box.appendChild(message); }
      if (box.classList.contains("field") || box.classList.contains("photo-slot")) { box.classList.add("field--invalid"); }
      if (input) { input.setAttribute("aria-invalid", "true"); }
      var label = box.querySelector(".field__label");
      var named = label && box !== form && !/^(item-|photo-|tag-|photos$)/.test(key);
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + (key === "photos" ? "sec-photos" : (input && input.id) || key);
      link.textContent = (named ? label.textContent.replace(/[?*]/g, "").trim() + ": " : "") + errors[key];
      li.appendChild(link);
      list.appendChild(li);
    });
    form.insertBefore(summary, form.querySelector("section"));
    return summary;
  }

  // --- Saving: into the phone's outbox first (nothing is lost if the tab closes), then sent.
  var saving = false;
  var status = document.getElementById("save-status");
  function say(message) { if (status) { status.textContent = message; status.hidden = !message; } }

  function collect() {
    var fields = [];
    var photos = [];
    var jobs = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return; }
      if (el.type === "file") {
        if (el.files && el.files[0]) {
          var file = el.files[0];
          jobs.push(Promise.all([downscale(file), exifTime(file)]).then(function (result) {
            photos.push({ field: el.name, blob: result[0], uuid: KailOutbox.uuid4() });
            if (result[1]) { fields.push([el.name + "-taken", result[1]]); }
          }));
        }
        return;
      }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      if (el.tagName === "BUTTON") { return; }
      if (el.name === "uuid" || /^photo-\d+-uuid$/.test(el.name)) { return; }  // minted below, never from the page
      fields.push([el.name, el.value]);
    });
    return Promise.all(jobs).then(function () {
      photos.sort(function (a, b) { return a.field < b.field ? -1 : 1; });
      return { fields: fields, photos: photos };
    });
  }

  // A correction must change something (the server refuses one that adds no photo and changes no answer): the
  // answers as the page opened, before the mentor touched anything. Fields that are not answers are left out.
  var NOT_ANSWERS = /^(csrf_token|visited_at|round|tag-\d+|photo-\d+-taken)$/;
  function answersKey(fields) {
    return JSON.stringify(fields.filter(function (pair) { return !NOT_ANSWERS.test(pair[0]); }));
  }
  var opened = null;
  if (correction) { collect().then(function (parts) { opened = answersKey(parts.fields); }); }

  function formData(item) {
    var data = new FormData();
    item.fields.forEach(function (pair) { data.append(pair[0], pair[1]); });
    data.set("uuid", item.uuid);
    item.photos.forEach(function (p) {
      data.append(p.field, p.blob, p.field + ".jpg");
      data.append(p.field + "-uuid", p.uuid);
    });
    return data;
  }

  // The server's answer with field errors: show it in place, with the chosen photos put back in their slots.
  function showErrors(html, item) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("visit-form");
    if (!fresh) { return false; }
    form.innerHTML = fresh.innerHTML;
    item.photos.forEach(function (p) {
      var input = form.querySelector("input[name='" + p.field + "']");
      if (!input || !window.DataTransfer) { return; }
      var transfer = new DataTransfer();
      transfer.items.add(new File([p.blob], p.field + ".jpg", { type: "image/jpeg" }));
      input.files = transfer.files;
    });
    wire();
    var dropped = form.querySelector("[data-photos-dropped]");
    if (dropped && window.DataTransfer) { dropped.hidden = true; }
    var first = form.querySelector("[aria-invalid='true']") || form.querySelector(".alert--error");
    if (first) { first.focus(); first.scrollIntoView({ block: "center" }); }
    return true;
  }

  form.addEventListener("submit", function (event) {
    // The time of the visit is when the mentor saves it, on the phone's clock (checked by the server).
    var visitedAt = form.querySelector("input[name=visited_at]");
    if (visitedAt && !visitedAt.value) { visitedAt.value = new Date().toISOString(); }
    if (!window.KailOutbox || !window.indexedDB || !window.fetch) { return; }  // a plain post
    event.preventDefault();
    if (saving) { return; }
    saving = true;
    var submit = form.querySelector("button[type=submit]");
    if (submit) { submit.disabled = true; }
    say(form.dataset.msgPreparing);
    collect().then(function (parts) {
      var rules = rulesOf(form);
      var errors = rules ? check(rules, parts.fields, parts.photos, opened) : {};
      if (Object.keys(errors).length) {
        var summary = showMessages(errors);
        summary.scrollIntoView({ block: "start" });
        summary.setAttribute("tabindex", "-1");
        summary.focus();
        throw { invalid: true };
      }
      showMessages({});
      // Pressing save makes a new visit: its code is minted now (a correction keeps the visit's own code).
      var item = {
        // A correction's outbox key names the visit and the round it corrects: one correction per round waits.
        uuid: correction ? "perbaikan-" + uuidField.value + "-" + form.dataset.round : KailOutbox.uuid4(),
        url: form.action, version: KailOutbox.VERSION, kind: correction ? "correction" : "visit",
        visit: correction ? uuidField.value : null, title: form.dataset.title || "", createdAt: new Date().toISOString(),
        fields: parts.fields, photos: parts.photos, state: "waiting", attempts: 0
      };
      return KailOutbox.put(item).then(function () {
        // The fixed visit replaces the refused one (nothing of that was stored: the server refused it).
        return editing && editing !== item.uuid ? KailOutbox.remove(editing) : null;
      }).then(function () { editing = null; return item; });
    }).then(function (item) {
      if (!navigator.onLine) { throw { offline: true }; }
      say(form.dataset.msgSending);
      return fetch(form.action, { method: "POST", body: formData(item), credentials: "same-origin",
                                  headers: { "X-Kail-Outbox": "page" } })
        .then(function (response) {
          if (response.status === 201 || response.status === 200) {
            return response.json().then(function (json) {
              return KailOutbox.remove(item.uuid).then(function () { window.location.assign(json.url); });
            });
          }
          if (response.status === 422) {
            return response.text().then(function (html) {
              return KailOutbox.remove(item.uuid).then(function () {
                saving = false;
                say("");  // the swapped-in form has a fresh, enabled button
                if (!showErrors(html, item)) { throw { offline: true }; }
              });
            });
          }
          throw { offline: true };  // anything else: the outbox keeps it and retries (new token, later)
        }, function () { throw { offline: true }; });
    }).catch(function (problem) {
      if (!problem || !problem.offline) { throw problem; }
      if (window.KailApp) { KailApp.requestSync(); }
      say(form.dataset.msgQueued);
      window.setTimeout(function () { window.location.assign(form.dataset.home || "/"); }, 1500);
    }).catch(function (problem) {
      saving = false;
      if (submit) { submit.disabled = false; }
      say(problem && problem.invalid ? "" : form.dataset.msgFailed);
    });
  });

  // --- A visit the server refused, opened from the outbox ("Perbaiki"): everything as it was saved — answers,
  // location, photos — with the server's messages next to the fields. Saving it queues the fixed visit in its place.
  var editing = null;
  function restore(item) {
    var names = {};
    item.fields.forEach(function (pair) { names[pair[0]] = true; });
    Array.prototype.forEach.call(form.elements, function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && names[el.name]) { el.checked = false; }
    });
    item.fields.forEach(function (pair) {
      if (pair[0] === "csrf_token" || pair[0] === "uuid" || pair[0] === "round") { return; }
      Array.prototype.forEach.call(form.querySelectorAll("[name='" + pair[0] + "']"), function (el) {
        if (el.type === "checkbox" || el.type === "radio") {
          if (el.value === String(pair[1])) { el.checked = true; }
        } else if (el.type !== "file") {
          el.value = pair[1];
        }
      });
    });
    var lat = form.querySelector("[data-geo-lat]");
    var geoStatus = form.querySelector("[data-geo-status]");
    var geo = form.querySelector("[data-geo]");
    var accuracy = form.querySelector("[data-geo-accuracy]");
    if (lat && lat.value && geoStatus && geo) {
      geoStatus.textContent = geo.dataset.msgGood.replace("{m}", String(Math.round(Number(accuracy.value) || 0)));
    }
    item.photos.forEach(function (photo) {
      var input = form.querySelector("input[name='" + photo.field + "']");
      if (!input || !window.DataTransfer) { return; }
      var transfer = new DataTransfer();
      transfer.items.add(new File([photo.blob], photo.field + ".jpg", { type: "image/jpeg" }));
      input.files = transfer.files;
      input.dispatchEvent(new Event("change"));
    });
    showMessages(item.errors || (item.lastError ? { photos: item.lastError } : {}));
    editing = item.uuid;
  }
  var fromOutbox = new URLSearchParams(window.location.search).get("dari-outbox");
  if (fromOutbox && window.KailOutbox) {
    KailOutbox.all().then(function (items) {
      var item = items.filter(function (i) { return i.uuid === fromOutbox; })[0];
      if (item) { restore(item); }
    });
  }

  // For the outbox (a stored visit checked again) and for tests that compare these rules with the server's answer.
  window.KailVisitForm = {
    check: check, collect: collect, rules: function () { return rulesOf(form); }, opened: function () { return opened; }
  };

  // Switching the kind of visit loads another form: ask first when something was already filled in.
  var dirty = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  Array.prototype.forEach.call(document.querySelectorAll(".segmented__option"), function (link) {
    link.addEventListener("click", function (event) {
      if (dirty && !window.confirm(form.dataset.msgLeave)) { event.preventDefault(); }
    });
  });
})();
