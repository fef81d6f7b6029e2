// Account page: MRR by product, data passed with json_script (CSP: no inline scripts).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("mrr-by-product");
  const canvas = document.getElementById("mrr-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map((d) => ({ label: d.label, data: d.data.map(Number) })),
    },
    options: { responsive: true, scales: { x: { stacked: true }, y: { stacked: true } } },
  });
});
