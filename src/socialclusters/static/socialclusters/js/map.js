/* The small map of organisation and region pages.
 *
 * No tile server and no third-party request: the base is the country outlines from our own API
 * (/api/v1/regions.geojson?level=0), the region is its NUTS polygon (/api/v1/regions/{code}),
 * and the point is drawn as a circle. Everything the map shows is also written in its caption.
 * Data arrive through data-* attributes on the map element (the CSP forbids inline script).
 */
(function () {
  "use strict";

  function asGeoJSON(payload) {
    // The region endpoint may answer with a Feature, a bare geometry, or a record holding one.
    if (!payload) { return null; }
    if (payload.type === "Feature" || payload.type === "FeatureCollection") { return payload; }
    if (payload.type && payload.coordinates) { return { type: "Feature", geometry: payload, properties: {} }; }
    if (payload.geometry) { return asGeoJSON(payload.geometry); }
    return null;
  }

  function fetchJSON(url) {
    return fetch(url, { headers: { Accept: "application/json, application/geo+json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(url + " answered " + response.status); }
        return response.json();
      });
  }

  function draw(element) {
    if (typeof L === "undefined") { return; }
    var data = element.dataset;
    var lat = data.lat !== undefined ? parseFloat(data.lat) : NaN;
    var lon = data.lon !== undefined ? parseFloat(data.lon) : NaN;
    var hasPoint = !isNaN(lat) && !isNaN(lon);

    element.textContent = "";
    var map = L.map(element, {
      attributionControl: true,
      zoomControl: true,
      keyboard: true,
      scrollWheelZoom: false,
      minZoom: 2,
      maxZoom: 12,
      zoomSnap: 0.25
    });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(data.attribution || "");
    // Leaflet makes the container focusable for its arrow-key and +/- handling; give it a name.
    element.setAttribute("role", "region");
    element.setAttribute("aria-label", data.label || "Map");

    var point = hasPoint ? L.latLng(lat, lon) : null;
    map.setView(point || L.latLng(50, 10), point ? 7 : 4);

    map.createPane("countries").style.zIndex = 350;
    fetchJSON(data.countriesUrl).then(function (collection) {
      L.geoJSON(collection, { pane: "countries", interactive: false, className: "map-country" }).addTo(map);
    }).catch(function () { /* The outline is decoration; the caption still tells where it is. */ });

    var pointLayer = null;
    if (point) {
      pointLayer = L.circleMarker(point, { radius: 7, className: "map-point", keyboard: false }).addTo(map);
      if (data.pointLabel) { pointLayer.bindTooltip(data.pointLabel); }
    }

    if (data.regionUrl) {
      fetchJSON(data.regionUrl).then(function (payload) {
        var feature = asGeoJSON(payload);
        if (!feature) { return; }
        var layer = L.geoJSON(feature, { className: "map-region", interactive: false }).addTo(map);
        if (pointLayer) { pointLayer.bringToFront(); }
        var bounds = layer.getBounds();
        if (bounds.isValid()) {
          if (point) { bounds.extend(point); }
          map.fitBounds(bounds, { padding: [40, 40], maxZoom: 7 });
        }
      }).catch(function () { /* Keep the point-centred view. */ });
    }
  }

  function start() {
    var maps = document.querySelectorAll(".map[data-countries-url]");
    for (var i = 0; i < maps.length; i += 1) { draw(maps[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
