// The review map: many points from a JSON block (visits coloured by review state, registered businesses).
(function () {
  "use strict";
  var COLORS = { menunggu: "#1d4ed8", disetujui: "#0b6e4f", perbaikan: "#d97706", ditolak: "#b42318" };

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

  function build() {
    var el = document.getElementById("points-map");
    var data = document.getElementById("points-data");
    if (!el || !data || !window.L || el.dataset.mapReady) { return false; }
    el.dataset.mapReady = "1";
    var points = JSON.parse(data.textContent);
    var labels = JSON.parse(el.dataset.labels || "{}");
    var map = L.map(el, { scrollWheelZoom: false, preferCanvas: true });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    var bounds = [];
    points.families.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 5, color: "#4f5b66", weight: 2, fillColor: "#ffffff", fillOpacity: 1 })
        .bindPopup(popup(p, labels, labels.usaha)).addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    points.visits.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { radius: 7, color: "#ffffff", weight: 2, fillColor: COLORS[p.state] || "#333",
        fillOpacity: 0.95 }).bindPopup(popup(p, labels, p.when + " · " + p.mentor + " · " + (labels[p.state] || p.state)))
        .addTo(map);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 }); }
    else { map.setView([parseFloat(el.dataset.centerLat), parseFloat(el.dataset.centerLon)], 7); }
    return true;
  }

  function start(tries) {
    if (!build() && tries > 0) { window.setTimeout(function () { start(tries - 1); }, 100); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(100); });
  } else { start(100); }
})();
