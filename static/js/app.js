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
// #messages live region (filled in place by the server's out-of-band messages).
document.addEventListener("htmx:beforeRequest", (event) => {
  event.detail.elt.setAttribute("aria-busy", "true");
  // An action's outcome replaces the last one's, so a stale message is never
  // taken for this action's (reads, such as a search or a sort, leave it).
  if (event.detail.requestConfig?.verb !== "get") document.getElementById("messages")?.replaceChildren();
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

// htmx leaves a 4xx answer unswapped; a 422 is, across the app, a form answered
// with its field errors (the tracker's row: "Say why the adjustment changes."): show
// them. Never a 400 for that: with DEBUG on, django-htmx's script replaces the whole
// page with a 400's body, to show Django's error pages.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Focus after an htmx swap. htmx keeps focus on a focused element whose id is in
// the new content; any other focused control (a step's button, a task action) is
// replaced with its region and focus falls to <body>, sending keyboard and screen
// reader users back to the top. Move it to the first field with an error, else
// the control that replaced the one used (same form action, same label), else the
// result itself. A form answered with errors (422) and no message announces so.
let usedBeforeSwap = null;
document.addEventListener("htmx:beforeSwap", () => {
  const active = document.activeElement;
  usedBeforeSwap = active && active !== document.body ? {
    action: active.form?.getAttribute("action") ?? null,
    label: active.textContent.trim(),
    tag: active.tagName,
  } : null;
});
document.addEventListener("htmx:afterSettle", (event) => {
  const used = usedBeforeSwap;
  usedBeforeSwap = null;
  const target = event.detail.target;
  const result = target?.isConnected ? target : (target?.id && document.getElementById(target.id));
  if (!(result instanceof HTMLElement) || result.id === "site-search-results") return;
  const invalid = result.querySelector("[aria-invalid=true]");
  if (invalid instanceof HTMLElement) {
    invalid.focus();
    const box = document.getElementById("messages");
    if (box && event.detail.xhr?.status === 422 && !box.textContent.trim()) {
      const count = result.querySelectorAll("[aria-invalid=true]").length;
      const p = document.createElement("p");
      p.className = "message message-error";
      p.textContent = `Not saved: ${count} field${count === 1 ? "" : "s"} to fix.`;
      box.replaceChildren(p);
    }
    return;
  }
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return;
  if (!used) return;
  const same = [...result.querySelectorAll(used.tag)].find((el) =>
    el.textContent.trim() === used.label && (el.form?.getAttribute("action") ?? null) === used.action);
  if (same instanceof HTMLElement) {
    same.focus();
    return;
  }
  if (!result.hasAttribute("tabindex")) result.setAttribute("tabindex", "-1");
  result.focus();
});

// A data table that scrolls inside its panel (narrow panels, phone width) is
// reachable by keyboard, so it can be scrolled without a mouse (WCAG 2.1.1;
// axe's scrollable-region-focusable). Checked on load, after swaps and resizes.
function markScrollingTables() {
  for (const table of document.querySelectorAll("main table.data")) {
    if (table.scrollWidth > table.clientWidth + 1) {
      table.setAttribute("tabindex", "0");
    } else if (table.getAttribute("tabindex") === "0") {
      table.removeAttribute("tabindex");
    }
  }
}
document.addEventListener("DOMContentLoaded", markScrollingTables);
document.addEventListener("htmx:afterSettle", markScrollingTables);
window.addEventListener("resize", markScrollingTables);
