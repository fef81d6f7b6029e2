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

// The account search from anywhere: "/" or Ctrl/Cmd+K focuses the header's box
// (not while typing in a field); Escape closes its results.
document.addEventListener("keydown", (event) => {
  const box = document.getElementById("site-search");
  if (!box) return;
  const target = event.target;
  const typing = target instanceof HTMLElement &&
    (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  const ctrlK = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k";
  if (ctrlK || (event.key === "/" && !typing && !event.altKey && !event.ctrlKey && !event.metaKey)) {
    event.preventDefault();
    box.focus();
    box.select();
  } else if (event.key === "Escape" && target === box) {
    document.getElementById("site-search-results")?.replaceChildren();
  }
});

// Every htmx action shows it is working: the element that asked is aria-busy
// (Pico draws a spinner) until the answer is in; outcomes are announced by the
// #messages live region.
document.addEventListener("htmx:beforeRequest", (event) => {
  event.detail.elt.setAttribute("aria-busy", "true");
});
document.addEventListener("htmx:afterRequest", (event) => {
  event.detail.elt.removeAttribute("aria-busy");
});

// A form marked data-explicit-save saves only from its Save button: Enter in one of
// its fields (a priority box, say) would submit it before the preview was read.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (event.key !== "Enter" || !(target instanceof HTMLInputElement)) return;
  if (["submit", "button", "reset"].includes(target.type)) return;
  if (target.form?.hasAttribute("data-explicit-save")) event.preventDefault();
});

// htmx leaves a 4xx answer unswapped; a data-explicit-save form's 400 is its own
// rows with the field errors ("Say why the adjustment changes."), and a 422 is,
// across the app, a form answered with its field errors: show them.
document.addEventListener("htmx:beforeSwap", (event) => {
  const asker = event.detail.requestConfig?.elt;  // detail.elt is the swap target
  const status = event.detail.xhr.status;
  const explicit = status === 400 && asker instanceof HTMLFormElement && asker.hasAttribute("data-explicit-save");
  if (explicit || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
