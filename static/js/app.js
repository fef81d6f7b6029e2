// revopsweb: behaviour shared by every page. Kept tiny; htmx does the rest.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("messages");
  if (!box) return;
  const p = document.createElement("p");
  p.className = "message message-error";
  p.setAttribute("role", "alert");
  p.textContent = `That did not work (${event.detail.xhr.status}). Nothing was changed; please try again.`;
  box.replaceChildren(p);
});
