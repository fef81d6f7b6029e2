// Signal backtest: precision and recall per signal. Data comes from json_script (CSP: no inline JS).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("backtest-chart");
  const source = document.getElementById("backtest-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#1565c0", "#90caf9", "#c62828", "#ef9a9a"];
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map((d, i) => ({ ...d, backgroundColor: colours[i % colours.length] })),
    },
    options: {
      animation: false,
      indexAxis: "y",
      scales: { x: { beginAtZero: true, max: 100, title: { display: true, text: "%" } } },
    },
  });
});
