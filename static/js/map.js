// Kail: small Leaflet maps, made from <div class="map" data-lat data-lon ...> (see templates/_map.html).
// Plain ES5, no inline script or style attributes: safe under "script-src 'self'; style-src 'self'".
// Leaflet sets element.style from JS (CSSOM), which that policy allows.
(function () {
  "use strict";
  // The macro may put this file on a page more than once; set the listeners up only once.
  if (window.KailMap) { return; }

  var SELECTOR = ".map[data-lat][data-lon]";
  var DONE = "data-map-ready"; // "1" once made, "error" when the data was unusable
  var SECOND_COLOUR = "#e8590c"; // orange circle, next to Leaflet's blue marker

  function coord(el, name, limit) {
    var raw = el.getAttribute(name);
    if (raw === null || raw.replace(/\s+/g, "") === "") { return NaN; }
    var value = Number(raw);
    return isFinite(value) && Math.abs(value) <= limit ? value : NaN;
  }

  function escapeHtml(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  // Popup content as a DOM node with textContent: labels are user data and never parsed as HTML.
  function popupNode(text) {
    var node = document.createElement("span");
    node.textContent = text;
    return node;
  }

  function build(el) {
    var L = window.L;
    var lat = coord(el, "data-lat", 90);
    var lon = coord(el, "data-lon", 180);
    if (isNaN(lat) || isNaN(lon)) { el.setAttribute(DONE, "error"); return; }
    el.setAttribute(DONE, "1");

    var zoom = parseInt(el.getAttribute("data-zoom"), 10);
    if (isNaN(zoom) || zoom < 1 || zoom > 19) { zoom = 16; }
    var tiles = (el.getAttribute("data-tiles") || "").replace(/^\s+|\s+$/g, "");
    var icons = el.getAttribute("data-icons") || "";
    if (icons && icons.charAt(icons.length - 1) !== "/") { icons += "/"; }
    // Leaflet's own guess of the icon folder (from CSS) fails with some setups: tell it.
    if (icons) { L.Icon.Default.imagePath = icons; }

    var map = L.map(el, {
      center: [lat, lon],
      zoom: zoom,
      minZoom: 1,
      maxZoom: 19,
      scrollWheelZoom: false, // page scrolling must not get trapped in the map; tap, drag and pinch stay
      keyboard: false, // role="img": not a tab stop; the text line below the map has the same facts and a link
      attributionControl: !!tiles
    });

    if (tiles) {
      L.tileLayer(tiles, {
        maxZoom: 19,
        attribution: escapeHtml(el.getAttribute("data-attribution") || "")
      }).addTo(map);
    }

    var label = el.getAttribute("data-label") || "";
    var marker = L.marker([lat, lon], { keyboard: false, alt: label }).addTo(map);
    if (label) { marker.bindPopup(popupNode(label)); }

    var lat2 = coord(el, "data-lat2", 90);
    var lon2 = coord(el, "data-lon2", 180);
    if (!isNaN(lat2) && !isNaN(lon2)) {
      var second = L.circleMarker([lat2, lon2], {
        radius: 9, weight: 3, color: "#ffffff", fillColor: SECOND_COLOUR, fillOpacity: 1
      }).addTo(map);
      var label2 = el.getAttribute("data-label2") || "";
      if (label2) { second.bindPopup(popupNode(label2)); }
      map.fitBounds(L.latLngBounds([[lat, lon], [lat2, lon2]]), {
        // room above for the 41px-tall pin icon
        paddingTopLeft: [32, 52], paddingBottomRight: [32, 20], maxZoom: zoom
      });
    }

    // A map made while hidden (e.g. inside a closed <details>) has no size: redraw when it gets one.
    if (window.ResizeObserver) {
      var observer = new window.ResizeObserver(function () { map.invalidateSize(); });
      observer.observe(el);
      el.kailMapObserver = observer;
    }
    el.kailMap = map;
  }

  function mapsIn(root) {
    var found = [];
    if (!root || root.nodeType !== 1 && root.nodeType !== 9) { return found; }
    if (root.nodeType === 1 && root.matches && root.matches(SELECTOR)) { found.push(root); }
    var inner = root.querySelectorAll(SELECTOR);
    for (var i = 0; i < inner.length; i++) { found.push(inner[i]); }
    return found;
  }

  // leaflet.js may still be loading (e.g. scripts that arrived in an htmx swap run async): wait a while for it.
  function whenLeaflet(callback, tries) {
    if (window.L && window.L.map) { callback(); return; }
    if ((tries || 0) >= 200) { return; } // about 10 s; the text line below the map still works
    window.setTimeout(function () { whenLeaflet(callback, (tries || 0) + 1); }, 50);
  }

  // Leaflet on demand: a map that names its Leaflet files (templates/_map.html) loads them only when it comes
  // near the screen, so a page whose map sits below the fold does not pay ~45 KB up front.
  var loading = false;
  function loadLeaflet(el) {
    if (loading || (window.L && window.L.map)) { return; }
    loading = true;
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = el.getAttribute("data-leaflet-css");
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = el.getAttribute("data-leaflet");
    document.head.appendChild(script);
  }

  function whenNear(el, callback) {
    if (!el.hasAttribute("data-leaflet") || (window.L && window.L.map)) { callback(); return; }
    if (!("IntersectionObserver" in window)) { loadLeaflet(el); callback(); return; }
    var observer = new window.IntersectionObserver(function (entries) {
      if (!entries.some(function (entry) { return entry.isIntersecting; })) { return; }
      observer.disconnect();
      loadLeaflet(el);
      callback();
    }, { rootMargin: "100px" });
    observer.observe(el);
  }

  function init(root) {
    var maps = mapsIn(root || document);
    for (var i = 0; i < maps.length; i++) {
      if (!maps[i].hasAttribute(DONE)) { whenNear(maps[i], buildLater(maps[i])); }
    }
  }

  function buildLater(el) {
    return function () { buildAll([el]); };
  }

  function buildAll(todo) {
    whenLeaflet(function () {
      for (var j = 0; j < todo.length; j++) {
        if (todo[j].hasAttribute(DONE) || !document.documentElement.contains(todo[j])) { continue; }
        try {
          build(todo[j]);
        } catch (error) {
          todo[j].setAttribute(DONE, "error");
          if (window.console) { window.console.error("map:", error); }
        }
      }
    });
  }

  // Free a map whose element htmx is about to remove.
  function cleanUp(el) {
    if (!el || !el.kailMap) { return; }
    if (el.kailMapObserver) { el.kailMapObserver.disconnect(); el.kailMapObserver = null; }
    el.kailMap.remove();
    el.kailMap = null;
  }

  window.KailMap = { init: init };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (event) {
    init(event.detail && event.detail.elt ? event.detail.elt : event.target);
  });
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    cleanUp(event.detail && event.detail.elt ? event.detail.elt : event.target);
  });
})();
