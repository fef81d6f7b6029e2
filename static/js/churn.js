// Churn review: the 6-month trend chart. Data comes from json_script (CSP: no inline JS).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("churn-trend");
  const source = document.getElementById("churn-trend-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        // Two lines, two colours and two dash patterns (not told apart by colour alone).
        { type: "line", label: "At-risk accounts", data: data.at_risk, yAxisID: "accounts", borderColor: "#1565c0", backgroundColor: "#1565c0" },
        { type: "line", label: "ARR at risk ($)", data: data.arr.map(Number), yAxisID: "arr", borderColor: "#b7791f", backgroundColor: "#b7791f", borderDash: [6, 4] },
        { type: "bar", label: "Saved", data: data.saved, yAxisID: "accounts", backgroundColor: "#2e7d32" },
        { type: "bar", label: "Churned", data: data.churned, yAxisID: "accounts", backgroundColor: "#c62828" },
      ],
    },
    options: {
      animation: false,
      scales: {
        accounts: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
        arr: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
      },
    },
  });
});
