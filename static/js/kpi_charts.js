// The KPI home's charts, drawn by Apache ECharts (static/vendor/, brought by scripts/vendor.py)
// from the JSON the page carries (#kpi-chart-data). Every chart's numbers are in a table beside it,
// so the page says the same without scripts. Instances are kept on window.kpiCharts.
(function () {
  "use strict";
  var source = document.getElementById("kpi-chart-data");
  if (!source || typeof window.echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var labels = data.labels;
  var narrow = window.matchMedia("(max-width: 640px)").matches;
  var grid = { left: 48, right: 16, top: 36, bottom: narrow ? 56 : 32, containLabel: true };
  var legend = { top: 0 };

  var options = {
    refund_cycle: function () {
      return {
        tooltip: { trigger: "axis" }, legend: legend, grid: grid,
        xAxis: { type: "category", data: data.refund_cycle.days },
        yAxis: { type: "value" },
        series: [
          { name: labels.median, type: "line", connectNulls: true, data: data.refund_cycle.median },
          { name: labels.p90, type: "line", connectNulls: true, data: data.refund_cycle.p90 }
        ]
      };
    },
    volume: function () {
      return {
        tooltip: { trigger: "axis" }, legend: legend, grid: grid,
        xAxis: { type: "category", data: data.volume.days },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: labels.opened, type: "bar", data: data.volume.opened },
          { name: labels.resolved, type: "bar", data: data.volume.resolved }
        ]
      };
    },
    sla: function () {
      return {
        tooltip: { trigger: "axis" }, legend: legend, grid: grid,
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.sla.targets },
        series: [
          { name: labels.met, type: "bar", stack: "sla", data: data.sla.met, itemStyle: { color: "#2e7d32" } },
          { name: labels.breached, type: "bar", stack: "sla", data: data.sla.breached, itemStyle: { color: "#c62828" } }
        ]
      };
    },
    backlog: function () {
      return {
        tooltip: { trigger: "axis" }, legend: legend, grid: grid,
        xAxis: { type: "category", data: data.backlog.ages },
        yAxis: { type: "value", minInterval: 1 },
        series: data.backlog.series.map(function (row) {
          return { name: row.name, type: "bar", stack: "backlog", data: row.counts };
        })
      };
    },
    skus: function () {
      return {
        tooltip: { trigger: "axis" }, grid: grid,
        xAxis: { type: "category", data: data.skus.skus, axisLabel: { rotate: narrow ? 45 : 0 } },
        yAxis: { type: "value", name: labels.rate },
        series: [{ name: labels.rate, type: "bar", data: data.skus.rate }]
      };
    },
    technicians: function () {
      return {
        tooltip: { trigger: "axis" }, legend: legend, grid: grid,
        xAxis: { type: "category", data: data.technicians.names, axisLabel: { rotate: narrow ? 45 : 0 } },
        yAxis: { type: "value", name: "%", max: 100 },
        series: [
          { name: labels.first_time_fix, type: "bar", data: data.technicians.first_time_fix },
          { name: labels.on_time, type: "bar", data: data.technicians.on_time },
          { name: labels.csat_percent, type: "bar", data: data.technicians.csat }
        ]
      };
    },
    reasons: function () {
      return {
        tooltip: { trigger: "item" },
        series: [{ name: labels.returned, type: "pie", radius: narrow ? "55%" : "65%", data: data.reasons }]
      };
    }
  };

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var build = options[element.getAttribute("data-chart")];
    if (!build) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(build());
    charts.push(chart);
  });
  window.kpiCharts = charts;
  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
