/* The map page: choropleths of /api/v1/map/layer over /api/v1/map/geometry, points, a region panel and a
 * comparison of up to five regions. The view lives in the URL (history.replaceState), so a link shares it.
 *
 * No tile server and no third-party request. The page is complete without this script (legend and table
 * come from the server); the script only adds the interactive map. The CSP forbids inline script, so
 * everything arrives through data-* attributes and the API.
 */
(function () {
  "use strict";

  var FIELDS = ["indicator", "level", "family", "sector", "year", "urban_rural", "points", "patterns"];
  var MAX_COMPARED = 5;
  var root = document.getElementById("atlas");
  if (!root || typeof L === "undefined") { return; }
  var text = root.dataset;
  var api = text.api.replace(/\/$/, "");
  var form = document.getElementById("atlas-form");
  var state = readState();
  var geometryCache = {};
  var layerData = null;
  var regionLayer = null;
  var pointLayer = null;
  var byCode = {};
  var firstShow = document.querySelector(".select-region");
  var showLabel = firstShow ? firstShow.textContent : "";

  function readState() {
    var params = new URLSearchParams(window.location.search);
    var result = {};
    FIELDS.forEach(function (name) { result[name] = params.get(name) || ""; });
    result.region = (params.get("region") || "").toUpperCase();
    result.compare = (params.get("compare") || "").toUpperCase().split(",").filter(Boolean).slice(0, MAX_COMPARED);
    result.z = params.get("z");
    result.lat = params.get("lat");
    result.lon = params.get("lon");
    if (!result.indicator) { result.indicator = form.elements.indicator.value; }
    if (!result.level) { result.level = form.elements.level.value; }
    if (!result.points) { result.points = form.elements.points.value; }
    return result;
  }

  function layerParams() {
    var params = new URLSearchParams();
    ["indicator", "level", "family", "sector", "year", "urban_rural"].forEach(function (name) {
      if (state[name]) { params.set(name, state[name]); }
    });
    return params;
  }

  function writeState() {
    var params = layerParams();
    if (state.points) { params.set("points", state.points); }
    if (state.patterns) { params.set("patterns", "1"); }
    if (state.region) { params.set("region", state.region); }
    if (state.compare.length) { params.set("compare", state.compare.join(",")); }
    if (map) {
      var centre = map.getCenter();
      params.set("z", String(map.getZoom()));
      params.set("lat", centre.lat.toFixed(3));
      params.set("lon", centre.lng.toFixed(3));
    }
    history.replaceState(null, "", window.location.pathname + "?" + params.toString());
    updateDownloads();
  }

  function updateDownloads() {
    var query = layerParams();
    var marked = state.compare.slice();
    if (state.region && marked.indexOf(state.region) < 0) { marked.push(state.region); }
    var images = new URLSearchParams(query);
    if (marked.length) { images.set("highlight", marked.join(",")); }
    setHref("download-csv", api + "/layer.csv?" + query);
    setHref("download-geojson", api + "/layer.geojson?" + query);
    setHref("download-json", api + "/layer?" + query);
    setHref("download-png", api + "/layer.png?" + images);
    setHref("download-svg", api + "/layer.svg?" + images);
  }

  function setHref(id, href) {
    var link = document.getElementById(id);
    if (link) { link.href = href; }
  }

  function fetchJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            var error = new Error(body.detail || (url + " answered " + response.status));
            error.field = body.field;
            throw error;
          }
          return body;
        });
      });
  }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attributes[key]; } else { node.setAttribute(key, attributes[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function formatValue(value) {
    if (value === null || value === undefined) { return text.textNoData; }
    return Number(value).toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: 2 });
  }

  // --- the map -------------------------------------------------------------------------------------------

  var mapElement = document.getElementById("atlas-map");
  mapElement.textContent = "";
  var map = L.map(mapElement, { keyboard: true, zoomSnap: 0.5, minZoom: 2, maxZoom: 12, attributionControl: true,
                                preferCanvas: false });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(text.attribution);
  if (state.z && state.lat && state.lon) {
    map.setView([parseFloat(state.lat), parseFloat(state.lon)], parseFloat(state.z));
  } else {
    map.setView([52, 12], 3.5);
  }

  function addPatterns() {
    // Hatching per class, for reading the map without colour (and in grey print).
    var svg = mapElement.querySelector(".leaflet-overlay-pane svg");
    if (!svg || svg.querySelector("defs.atlas-patterns")) { return; }
    var ns = "http://www.w3.org/2000/svg";
    var defs = document.createElementNS(ns, "defs");
    defs.setAttribute("class", "atlas-patterns");
    var spacing = [0, 10, 8, 6, 4.5, 3.5, 2.8];
    for (var i = 1; i < spacing.length; i++) {
      var pattern = document.createElementNS(ns, "pattern");
      pattern.setAttribute("id", "atlas-pattern-" + i);
      pattern.setAttribute("patternUnits", "userSpaceOnUse");
      pattern.setAttribute("width", String(spacing[i]));
      pattern.setAttribute("height", String(spacing[i]));
      pattern.setAttribute("patternTransform", "rotate(45)");
      var line = document.createElementNS(ns, "line");
      line.setAttribute("x1", "0"); line.setAttribute("y1", "0");
      line.setAttribute("x2", "0"); line.setAttribute("y2", String(spacing[i]));
      line.setAttribute("stroke", "#1d2a33"); line.setAttribute("stroke-width", "1.2");
      pattern.appendChild(line);
      defs.appendChild(pattern);
    }
    svg.insertBefore(defs, svg.firstChild);
  }

  function styleFor(feature) {
    var row = byCode[feature.id];
    var cls = row ? row["class"] : -1;
    var colours = layerData ? layerData.classes.colours : [];
    var selected = feature.id === state.region || state.compare.indexOf(feature.id) >= 0;
    return {
      color: selected ? "#c2410c" : "#ffffff",
      weight: selected ? 3 : 0.6,
      fillColor: cls >= 0 ? colours[cls] : "#d9d9d9",
      fillOpacity: 0.9,
      className: "atlas-region atlas-class-" + cls
    };
  }

  function drawRegions(geometry) {
    if (regionLayer) { map.removeLayer(regionLayer); }
    regionLayer = L.geoJSON(geometry, {
      style: styleFor,
      onEachFeature: function (feature, layer) {
        layer.on("click", function () { selectRegion(feature.id); });
        layer.bindTooltip(function () {
          var row = byCode[feature.id];
          return feature.id + " " + feature.properties.name + ": " + formatValue(row ? row.value : null);
        }, { sticky: true });
      }
    }).addTo(map);
    addPatterns();
    applyPatterns();
  }

  function applyPatterns() {
    mapElement.classList.toggle("atlas-with-patterns", Boolean(state.patterns));
  }

  function restyle() {
    if (regionLayer) { regionLayer.setStyle(styleFor); }
  }

  function paintLegend() {
    var legend = document.getElementById("atlas-legend");
    if (!legend || !layerData) { return; }
    legend.textContent = "";
    if (layerData.note) { legend.appendChild(element("p", { "class": "notice", role: "status", text: layerData.note })); }
    var list = element("ol", { "class": "legend-list" });
    layerData.classes.labels.forEach(function (label, index) {
      var swatch = element("span", { "class": "swatch swatch-" + index, "aria-hidden": "true" });
      swatch.style.background = layerData.classes.colours[index];
      list.appendChild(element("li", {}, [swatch, element("span", { "class": "legend-class", text: String(index + 1) }),
                                          document.createTextNode(" " + label)]));
    });
    var none = element("span", { "class": "swatch swatch-none", "aria-hidden": "true" });
    list.appendChild(element("li", {}, [none, element("span", { "class": "legend-class", text: "–" }),
                                        document.createTextNode(" " + text.textNoData)]));
    legend.appendChild(list);
    legend.appendChild(element("p", { "class": "legend-method", text: layerData.label + " · n = " + layerData.n +
      " · " + (layerData.source || "") }));
    legend.appendChild(element("p", { "class": "legend-description", text: layerData.description }));
    document.getElementById("legend-heading").textContent = layerData.label;
  }

  function paintTable() {
    var body = document.getElementById("atlas-rows");
    if (!body || !layerData) { return; }
    var rows = layerData.items.slice().sort(function (a, b) {
      if (a.value === null) { return b.value === null ? a.code.localeCompare(b.code) : 1; }
      if (b.value === null) { return -1; }
      return b.value - a.value || a.code.localeCompare(b.code);
    });
    body.textContent = "";
    var template = text.regionPage;
    rows.forEach(function (row) {
      var link = element("a", { href: template.replace("CODE", row.code) },
                         [element("span", { "class": "code", text: row.code }), document.createTextNode(" " + row.name)]);
      var button = element("button", { type: "button", "class": "button button-small button-ghost select-region",
                                       "data-code": row.code, text: showLabel });
      body.appendChild(element("tr", { "data-code": row.code }, [
        element("th", { scope: "row" }, [link]),
        element("td", { "class": "number", text: formatValue(row.value) }),
        element("td", { text: row["class"] >= 0 ? String(row["class"] + 1) : "–" }),
        element("td", {}, [button])
      ]));
    });
  }

  function showError(error) {
    var legend = document.getElementById("atlas-legend");
    legend.textContent = "";
    legend.appendChild(element("p", { "class": "form-error", role: "alert",
                                      text: (error.field ? error.field + ": " : "") + error.message }));
  }

  var loads = 0;  // only the latest request may paint: an earlier one can answer after it

  function load() {
    var ticket = ++loads;
    var level = state.level;
    var geometry = geometryCache[level] ? Promise.resolve(geometryCache[level])
      : fetchJSON(api + "/geometry?level=" + level).then(function (body) { geometryCache[level] = body; return body; });
    mapElement.setAttribute("aria-busy", "true");
    return Promise.all([geometry, fetchJSON(api + "/layer?" + layerParams())]).then(function (results) {
      if (ticket !== loads) { return; }
      layerData = results[1];
      byCode = {};
      layerData.items.forEach(function (row) { byCode[row.code] = row; });
      drawRegions(results[0]);
      paintLegend();
      paintTable();
      mapElement.setAttribute("aria-busy", "false");
      mapElement.dataset.ready = "1";
      writeState();
    }).catch(function (error) {
      if (ticket !== loads) { return; }
      mapElement.setAttribute("aria-busy", "false");
      showError(error);
    });
  }

  // --- points --------------------------------------------------------------------------------------------

  function loadPoints() {
    if (pointLayer) { map.removeLayer(pointLayer); pointLayer = null; }
    if (!state.points || state.points === "none") { return; }
    var zoom = Math.round(map.getZoom());
    fetchJSON(api + "/points?kind=" + encodeURIComponent(state.points) + "&zoom=" + zoom).then(function (body) {
      if (pointLayer) { map.removeLayer(pointLayer); }
      pointLayer = L.layerGroup();
      body.items.forEach(function (point) {
        var marker;
        if (point.count > 1) {
          var size = 18 + Math.min(22, Math.round(Math.log(point.count) * 5));
          marker = L.marker([point.lat, point.lon], {
            icon: L.divIcon({ className: "atlas-cell", html: String(point.count), iconSize: [size, size] }),
            keyboard: true, title: point.count + " " + text.textOrganisations
          });
          marker.on("click", function () { map.setView([point.lat, point.lon], Math.min(map.getZoom() + 2, 12)); });
        } else {
          marker = L.circleMarker([point.lat, point.lon], { radius: 5, className: "atlas-point atlas-point-" +
                                                            (body.kind === "clusters" ? "cluster" : "organisation") });
          marker.bindTooltip(point.name);
        }
        pointLayer.addLayer(marker);
      });
      pointLayer.addTo(map);
    }).catch(showError);
  }

  // --- the region panel and the comparison ---------------------------------------------------------------

  function selectRegion(code) {
    state.region = code;
    restyle();
    writeState();
    var panel = document.getElementById("atlas-panel");
    var body = document.getElementById("atlas-panel-body");
    panel.hidden = false;
    body.textContent = text.textLoading;
    fetchJSON(api + "/regions/" + encodeURIComponent(code)).then(function (region) {
      body.textContent = "";
      document.getElementById("panel-heading").textContent = region.code + " " + region.name;
      var row = byCode[region.code];
      var facts = element("dl", { "class": "facts compact" });
      function fact(term, value) {
        facts.appendChild(element("dt", { text: term }));
        facts.appendChild(element("dd", { text: value }));
      }
      fact("NUTS", region.nuts_version + " · " + region.level);
      if (region.urban_rural_label) { fact(text.textUrbanRural, region.urban_rural_label); }
      if (layerData) { fact(layerData.label, formatValue(row ? row.value : null)); }
      fact(text.textOrganisationsLabel, String(region.organisations));
      fact(text.textSocialEconomy, String(region.se_organisations));
      fact(text.textClusterMembers, String(region.cluster_members));
      fact(text.textClusters, String(region.cluster_count));
      body.appendChild(facts);
      if (region.top_sectors.length) {
        var table = element("table", { "class": "data-table compact" }, [
          element("caption", { text: text.textTopSectors + " (" + region.top_sectors[0].year + ")" }),
          element("thead", {}, [element("tr", {}, [element("th", { scope: "col", text: "NACE" }),
                                                   element("th", { scope: "col", text: "LQ" }),
                                                   element("th", { scope: "col", text: text.textStars })])])
        ]);
        var tbody = element("tbody");
        region.top_sectors.forEach(function (sector) {
          var stars = "★".repeat(sector.stars) + "☆".repeat(3 - sector.stars);
          tbody.appendChild(element("tr", {}, [element("th", { scope: "row", text: sector.sector }),
                                               element("td", { "class": "number", text: formatValue(sector.lq) }),
                                               element("td", { text: stars + " (" + sector.stars + "/3)" })]));
        });
        table.appendChild(tbody);
        body.appendChild(table);
      }
      if (region.clusters.length) {
        var list = element("ul", { "class": "plain-list" });
        region.clusters.forEach(function (cluster) { list.appendChild(element("li", { text: cluster.name })); });
        body.appendChild(list);
      }
      var actions = element("p", { "class": "panel-actions" });
      var compareButton = element("button", { type: "button", "class": "button button-small", id: "compare-add",
                                              text: text.textAdd });
      compareButton.addEventListener("click", function () { addCompared(region.code); });
      actions.appendChild(compareButton);
      actions.appendChild(document.createTextNode(" "));
      actions.appendChild(element("a", { href: text.regionPage.replace("CODE", region.code), text: text.textOpen }));
      body.appendChild(actions);
      panel.focus();
    }).catch(function (error) { body.textContent = error.message; });
  }

  function addCompared(code) {
    if (state.compare.indexOf(code) >= 0) { return; }
    if (state.compare.length >= MAX_COMPARED) { window.alert(text.textFull); return; }
    state.compare.push(code);
    restyle();
    writeState();
    loadComparison();
  }

  function removeCompared(code) {
    state.compare = state.compare.filter(function (other) { return other !== code; });
    restyle();
    writeState();
    loadComparison();
  }

  function loadComparison() {
    var section = document.getElementById("atlas-compare");
    var body = document.getElementById("atlas-compare-body");
    if (!state.compare.length) { section.hidden = true; body.textContent = ""; return; }
    section.hidden = false;
    fetchJSON(api + "/compare?codes=" + encodeURIComponent(state.compare.join(","))).then(function (result) {
      body.textContent = "";
      var head = element("tr", {}, [element("th", { scope: "col", text: "" })]);
      result.items.forEach(function (region) {
        var remove = element("button", { type: "button", "class": "button button-small button-ghost",
                                         text: text.textRemove + " " + region.code });
        remove.addEventListener("click", function () { removeCompared(region.code); });
        head.appendChild(element("th", { scope: "col" }, [element("span", { text: region.code + " " + region.name }),
                                                         element("br"), remove]));
      });
      var rows = [
        [text.textUrbanRural, function (r) { return r.urban_rural_label || "–"; }],
        [layerData ? layerData.label : "", function (r) { var row = byCode[r.code]; return formatValue(row ? row.value : null); }],
        [text.textOrganisationsLabel, function (r) { return String(r.organisations); }],
        [text.textSocialEconomy, function (r) { return String(r.se_organisations); }],
        [text.textClusterMembers, function (r) { return String(r.cluster_members); }],
        [text.textClusters, function (r) { return String(r.cluster_count); }],
        [text.textTopSector, function (r) { return r.top_sectors.length ? r.top_sectors[0].sector + " (" +
                                            formatValue(r.top_sectors[0].lq) + ")" : "–"; }]
      ];
      var tbody = element("tbody");
      rows.forEach(function (spec) {
        var tr = element("tr", {}, [element("th", { scope: "row", text: spec[0] })]);
        result.items.forEach(function (region) { tr.appendChild(element("td", { text: spec[1](region) })); });
        tbody.appendChild(tr);
      });
      body.appendChild(element("table", { "class": "data-table", id: "compare-table" }, [element("thead", {}, [head]), tbody]));
    }).catch(function (error) { body.textContent = error.message; });
  }

  // --- controls ------------------------------------------------------------------------------------------

  function syncOptions() {
    var option = form.elements.indicator.selectedOptions[0];
    root.querySelectorAll(".atlas-option").forEach(function (box) {
      var needed = { family: option.dataset.hasFamily, sector: option.dataset.needsSector,
                     year: option.dataset.needsYear }[box.dataset.for];
      box.hidden = needed !== "1" && !(box.dataset.for === "sector" && option.value === "se_lq");
    });
  }

  function readForm() {
    ["indicator", "level", "family", "sector", "year", "urban_rural", "points"].forEach(function (name) {
      var field = form.elements[name];
      var box = field.closest(".atlas-option");
      state[name] = box && box.hidden ? "" : field.value;
    });
    state.patterns = form.elements.patterns.checked ? "1" : "";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    readForm();
    load();
    loadPoints();
  });
  form.addEventListener("change", function (event) {
    syncOptions();
    if (event.target.name === "sector") { return; }  // typed: wait for Show or Enter
    readForm();
    if (event.target.name === "patterns") { applyPatterns(); writeState(); return; }
    if (event.target.name === "points") { loadPoints(); writeState(); return; }
    load();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".select-region") : null;
    if (!button) { return; }
    var code = button.dataset.code;
    var feature = null;
    if (regionLayer) {
      regionLayer.eachLayer(function (layer) { if (layer.feature.id === code) { feature = layer; } });
    }
    if (feature) { map.fitBounds(feature.getBounds(), { maxZoom: 8 }); }
    selectRegion(code);
    mapElement.scrollIntoView({ block: "nearest" });
  });
  var find = document.getElementById("atlas-find");
  if (find) {
    find.addEventListener("input", function () {
      var term = find.value.trim().toLowerCase();
      document.querySelectorAll("#atlas-rows tr").forEach(function (row) {
        row.hidden = term !== "" && row.textContent.toLowerCase().indexOf(term) < 0;
      });
    });
  }
  map.on("moveend", writeState);
  map.on("zoomend", loadPoints);

  syncOptions();
  load().then(function () {
    loadPoints();
    if (state.region) { selectRegion(state.region); }
    if (state.compare.length) { loadComparison(); }
  });
}());
