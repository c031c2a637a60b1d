// The review map: visits coloured by review state and registered businesses, fetched for the area on screen
// (data-src, ?bbox=west,south,east,north) each time the map settles, so a national map stays as light as a
// regency's. The status line under the map says how many points show and when zooming in would show more.
(function () {
  "use strict";
  var COLORS = { menunggu: "#1d4ed8", disetujui: "#0b6e4f", perbaikan: "#d97706", ditolak: "#b42318" };
  var SETTLE_MS = 300;

  function popup(point, labels, extra) {
    var box = document.createElement("div");
    var strong = document.createElement("strong");
    strong.textContent = point.name;
    box.appendChild(strong);
    box.appendChild(document.createElement("br"));
    box.appendChild(document.createTextNode(extra));
    box.appendChild(document.createElement("br"));
    var link = document.createElement("a");
    link.href = point.url;
    link.textContent = labels.open;
    box.appendChild(link);
    return box;
  }

  function draw(layer, data, labels) {
    layer.clearLayers();
    var bounds = [];
    data.families.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 5, color: "#4f5b66", weight: 2, fillColor: "#ffffff", fillOpacity: 1 })
        .bindPopup(popup(p, labels, labels.usaha)).addTo(layer);
      bounds.push([p.lat, p.lon]);
    });
    // Oldest first, so the newest visit of a place is drawn on top and opens when tapped.
    data.visits.slice().reverse().forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 7, color: "#ffffff", weight: 2, fillColor: COLORS[p.state] || "#333",
        fillOpacity: 0.95 }).bindPopup(popup(p, labels, p.when + " · " + p.mentor + " · " + (labels[p.state] || p.state)))
        .addTo(layer);
      bounds.push([p.lat, p.lon]);
    });
    return bounds;
  }

  function build() {
    var el = document.getElementById("points-map");
    if (!el || !window.L || el.dataset.mapReady) { return false; }
    el.dataset.mapReady = "1";
    var status = document.getElementById("points-status");
    var labels = JSON.parse(el.dataset.labels || "{}");
    var map = L.map(el, { scrollWheelZoom: false, preferCanvas: true });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var layer = L.layerGroup().addTo(map);
    var pending = null;
    var timer = null;

    function center() {
      map.setView([parseFloat(el.dataset.centerLat), parseFloat(el.dataset.centerLon)], 7);
    }

    // Attached after the first fit: that move must not ask again. While a popup is open (opening one pans the
    // map to fit it) the points are not redrawn, or the popup would vanish with its marker; closing it catches up.
    var popupOpen = false;
    var moved = false;
    function reload() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { load(map.getBounds().toBBoxString(), false); }, SETTLE_MS);
    }
    function watch() {
      map.on("popupopen", function () { popupOpen = true; });
      map.on("popupclose", function () {
        popupOpen = false;
        if (moved) { moved = false; reload(); }
      });
      map.on("moveend", function () {
        if (popupOpen) { moved = true; return; }
        reload();
      });
    }

    function load(bbox, first) {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      var url = el.dataset.src + (el.dataset.src.indexOf("?") < 0 ? "?" : "&") + (bbox ? "bbox=" + bbox : "");
      el.setAttribute("aria-busy", "true");
      return fetch(url, { credentials: "same-origin", signal: pending.signal, headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) {
          var bounds = draw(layer, data, labels);
          if (status) { status.textContent = data.summary; }
          el.removeAttribute("aria-busy");
          if (first) {
            if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 }); } else { center(); }
            watch();
          }
        })
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          el.removeAttribute("aria-busy");
          if (status) { status.textContent = labels.error; }
          if (first) { center(); watch(); }
        });
    }

    load("", true);
    return true;
  }

  function start(tries) {
    if (!build() && tries > 0) { window.setTimeout(function () { start(tries - 1); }, 100); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(100); });
  } else { start(100); }
})();
