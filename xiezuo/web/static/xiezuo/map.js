/* Pairing flow maps (DESIGN.md D11, D14): helper → helped lines on the demo base map.
 * Each [data-map] element names its data in data-source (a json_script element) and the
 * GeoJSON in data-geojson; the map is registered as 'china' so ECharts adds the 南海诸岛 inset. */
(function () {
  "use strict";

  var HELPER = "#1f5fa8";
  var HELPED = "#d9622b";
  var geoPromise = null;

  function loadGeo(url) {
    if (!geoPromise) {
      geoPromise = fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error("map shapes: HTTP " + response.status); }
          return response.json();
        })
        .then(function (geoJson) {
          window.echarts.registerMap("china", geoJson);
        });
    }
    return geoPromise;
  }

  function readData(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : { flows: [], points: [] };
  }

  function escapeText(text) {
    var div = document.createElement("div");
    div.textContent = String(text);
    return div.innerHTML;
  }

  function option(data, compact, labels) {
    // Translated labels come from the template (data-label-helper / data-label-helped).
    var helperName = labels.helper;
    var helpedName = labels.helped;
    var points = data.points.map(function (p) {
      var role = p.helper >= p.helped ? "helper" : "helped";
      return { name: p.name, value: p.value, role: role, itemStyle: { color: role === "helper" ? HELPER : HELPED } };
    });
    var lines = data.flows.map(function (f) {
      return { coords: f.coords, fromName: f.from, toName: f.to, pairing: f.pairing, url: f.url };
    });
    return {
      animation: !compact || lines.length < 50,
      tooltip: {
        trigger: "item",
        formatter: function (params) {
          if (params.seriesType === "lines") {
            return escapeText(params.data.fromName) + " → " + escapeText(params.data.toName) +
              "<br>" + escapeText(params.data.pairing);
          }
          if (params.seriesType === "effectScatter" || params.seriesType === "scatter") {
            return escapeText(params.name) + " · " + (params.data.role === "helper" ? helperName : helpedName);
          }
          return escapeText(params.name || "");
        }
      },
      legend: compact ? undefined : {
        left: 10, bottom: 10, orient: "vertical",
        data: [helperName, helpedName]
      },
      geo: {
        map: "china",
        roam: true,
        zoom: compact ? 1.15 : 1.2,
        center: [104.5, 36],
        label: { show: false },
        itemStyle: { areaColor: "#eef2f6", borderColor: "#9aa8b8" },
        emphasis: { label: { show: !compact }, itemStyle: { areaColor: "#dbe5ef" } }
      },
      series: [
        {
          name: "flows",
          type: "lines",
          coordinateSystem: "geo",
          // No trail: ECharts' motion blur copies a layer canvas, which fails while it has no size.
          effect: { show: true, period: 5, trailLength: 0, symbol: "arrow", symbolSize: 6, color: HELPED },
          lineStyle: { color: HELPER, width: 1.2, opacity: 0.6, curveness: 0.2 },
          emphasis: { lineStyle: { width: 3, opacity: 1 } },
          data: lines
        },
        {
          name: helperName,
          type: "effectScatter",
          coordinateSystem: "geo",
          symbolSize: compact ? 8 : 6,
          rippleEffect: { scale: 2.5, brushType: "stroke" },
          itemStyle: { color: HELPER },
          label: { show: compact, position: "right", formatter: "{b}", fontSize: 11 },
          data: points.filter(function (p) { return p.role === "helper"; })
        },
        {
          name: helpedName,
          type: "effectScatter",
          coordinateSystem: "geo",
          symbolSize: compact ? 8 : 6,
          rippleEffect: { scale: 2.5, brushType: "stroke" },
          itemStyle: { color: HELPED },
          label: { show: compact, position: "right", formatter: "{b}", fontSize: 11 },
          data: points.filter(function (p) { return p.role === "helped"; })
        }
      ]
    };
  }

  function draw(el) {
    if (!window.echarts) { return; }
    var data = readData(el.dataset.source);
    var compact = el.dataset.compact === "1";
    loadGeo(el.dataset.geojson).then(function () {
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(data, compact, { helper: el.dataset.labelHelper, helped: el.dataset.labelHelped }));
      chart.on("click", function (params) {
        if (params.seriesType === "lines" && params.data && params.data.url) {
          window.location.href = params.data.url;
        }
      });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-map-ready", "1");
    }).catch(function (error) {
      el.textContent = String(error);
      el.setAttribute("data-map-error", "1");
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
