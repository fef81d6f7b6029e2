// revopsweb: revenue and quota charts. Data comes from json_script blocks in the
// page; htmx swaps of #revenue-body bring new data, so charts redraw after swaps.
(function () {
  "use strict";
  const charts = {};
  const COLORS = {
    new: "#2e7d32",
    reactivated: "#66bb6a",
    expansion: "#1e88e5",
    contraction: "#fb8c00",
    churned: "#c62828",
  };
  const LABELS = {
    new: "New",
    reactivated: "Reactivated",
    expansion: "Expansion",
    contraction: "Contraction",
    churned: "Churned",
  };
  const LINE_COLORS = { 3: "#1e88e5", 6: "#8e24aa", 12: "#00897b" };

  function readData(id) {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function draw(canvasId, config) {
    const canvas = document.getElementById(canvasId);
    if (!canvas || typeof Chart === "undefined") return;
    if (charts[canvasId]) charts[canvasId].destroy();
    charts[canvasId] = new Chart(canvas, config);
  }

  const dollars = (value) =>
    value === null ? "–" : "$" + Math.round(value).toLocaleString("en-US");

  function drawRevenue() {
    const data = readData("revenue-chart-data");
    if (!data) return;
    draw("revenue-waterfall", {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: Object.keys(LABELS).map((key) => ({
          label: LABELS[key],
          data: data.components[key],
          backgroundColor: COLORS[key],
          stack: "mrr",
        })),
      },
      options: {
        animation: false,
        plugins: { tooltip: { callbacks: { label: (c) => c.dataset.label + ": " + dollars(c.raw) } } },
        scales: {
          x: { stacked: true },
          y: { stacked: true, ticks: { callback: (v) => dollars(v) } },
        },
      },
    });
    const lines = [];
    for (const base of ["3", "6", "12"]) {
      lines.push({ label: "NDR " + base + "m", data: data.ndr[base], borderColor: LINE_COLORS[base], spanGaps: true });
      lines.push({ label: "GDR " + base + "m", data: data.gdr[base], borderColor: LINE_COLORS[base], borderDash: [5, 4], spanGaps: true });
    }
    draw("revenue-retention", {
      type: "line",
      data: { labels: data.labels, datasets: lines },
      options: { animation: false, scales: { y: { ticks: { callback: (v) => v + "%" } } } },
    });
  }

  function drawQuota() {
    const data = readData("quota-chart-data");
    if (!data) return;
    const canvas = document.getElementById("quota-chart");
    if (canvas) {
      // Bars of a readable thickness whatever the number of TAMs.
      canvas.parentNode.style.position = "relative";
      canvas.parentNode.style.height = 60 + data.labels.length * 44 + "px";
    }
    draw("quota-chart", {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Attainment", data: data.attainment, backgroundColor: "#1e88e5" },
          { label: "Quota", data: data.quota, backgroundColor: "#b0bec5" },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, indexAxis: "y", scales: { x: { ticks: { callback: (v) => dollars(v) } } } },
    });
  }

  function drawAll() {
    drawRevenue();
    drawQuota();
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
})();
