/* Home page: this year's progress of the user's pairings against their agreement targets
 * (DESIGN.md D11: no inline script; the data comes from a json_script element named in
 * data-source, one [data-progress-chart] element per pairing, indexed by its position). */
(function () {
  "use strict";

  function readData(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : [];
  }

  function draw(el) {
    if (!window.echarts) { return; }
    var pairing = readData(el.dataset.source)[Number(el.dataset.progressChart)];
    if (!pairing || !pairing.items.length) { return; }
    var items = pairing.items.slice().reverse(); // first figure on top
    // Set through the CSSOM, which the style-src policy allows (a style attribute it would not).
    el.style.height = (3 + 2.2 * items.length) + "em";
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 48, top: 8, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var item = items[p.dataIndex];
          var div = document.createElement("div");
          div.textContent = item.label + ": " + item.total + " / " + item.target + " " + item.unit +
            " (" + item.percent + "%)";
          return div.innerHTML;
        }
      },
      xAxis: { type: "value", max: function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); },
               axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: items.map(function (i) { return i.label; }) },
      series: [{
        type: "bar",
        name: el.dataset.labelPercent,
        data: items.map(function (i) {
          return { value: i.percent, itemStyle: { color: i.percent >= 100 ? "#2e7d32" : "#1f5fa8" } };
        }),
        label: { show: true, position: "right", formatter: "{c}%" },
        markLine: { silent: true, symbol: "none", data: [{ xAxis: 100 }], lineStyle: { color: "#d9622b" } }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.setAttribute("data-chart-ready", "1");
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-progress-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
