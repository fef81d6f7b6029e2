// Lead rule page: leads per month and the conversion rate against the target.
// Data comes from json_script (CSP: no inline JS).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("rule-months");
  const source = document.getElementById("rule-months-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: "Converted", data: data.converted, yAxisID: "leads", backgroundColor: "#2e7d32" },
        { type: "bar", label: "Disqualified", data: data.disqualified, yAxisID: "leads", backgroundColor: "#c62828" },
        { type: "line", label: "Raised", data: data.raised, yAxisID: "leads" },
        { type: "line", label: "Conversion %", data: data.rate, yAxisID: "rate", spanGaps: true },
        { type: "line", label: "Target %", data: data.labels.map(() => data.target), yAxisID: "rate", borderDash: [6, 4], pointRadius: 0 },
      ],
    },
    options: {
      animation: false,
      scales: {
        leads: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
        rate: { position: "right", beginAtZero: true, suggestedMax: 100, grid: { drawOnChartArea: false } },
      },
    },
  });
});
