// The dependency graph on the project page: zoom and fit, find, a ticket's blockers and dependants lit up,
// an area filter, Enter opens a ticket, and a list view of the same graph for screen readers and small screens.
(function () {
  "use strict";

  const page = window.dtgPage;
  const $ = page.$;
  const ZOOM_MIN = 0.2;
  const ZOOM_MAX = 2;
  let zoom = 1;

  function svg() { return $("#dtg-graph-picture svg"); }

  function setZoom(next) {
    const picture = svg();
    if (!picture) { return; }
    zoom = Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, next));
    picture.setAttribute("width", String(Math.round(Number(picture.dataset.width) * zoom)));
    picture.setAttribute("height", String(Math.round(Number(picture.dataset.height) * zoom)));
  }

  // Fit: the whole graph in the box; on opening, its whole width (the lanes then scroll up and down).
  function fit(widthOnly) {
    const picture = svg();
    const box = $("#dtg-graph-picture");
    if (!picture || !box) { return; }
    const byWidth = (box.clientWidth - 4) / Number(picture.dataset.width);
    const byHeight = (box.clientHeight - 4) / Number(picture.dataset.height);
    setZoom(widthOnly ? Math.min(byWidth, 1) : Math.min(byWidth, byHeight));
  }

  function nodes() { return document.querySelectorAll("#dtg-graph-picture .dtg-node"); }

  function titleOf(key) {
    const node = $("#dtg-graph-picture .dtg-node[data-key='" + CSS.escape(key) + "']");
    return node ? node.getAttribute("aria-label") : key;
  }

  // Lights up one ticket, the tickets it waits for and those waiting for it; the rest fade.
  function highlight(key) {
    const picture = svg();
    if (!picture) { return; }
    const blockers = [];
    const dependants = [];
    picture.querySelectorAll(".dtg-edge").forEach(function (edge) {
      const near = edge.dataset.from === key || edge.dataset.to === key;
      edge.classList.toggle("dtg-near", Boolean(key) && near);
      if (key && edge.dataset.to === key) { blockers.push(edge.dataset.from); }
      if (key && edge.dataset.from === key) { dependants.push(edge.dataset.to); }
    });
    const lit = new Set([key].concat(blockers, dependants));
    picture.classList.toggle("dtg-focusing", Boolean(key));
    nodes().forEach(function (node) { node.classList.toggle("dtg-near", Boolean(key) && lit.has(node.dataset.key)); });
    const out = $("#dtg-graph-focus");
    if (out) {
      out.textContent = key ? titleOf(key) + ": blocked by " + (blockers.map(titleOf).join("; ") || "nothing") +
        ". Blocks " + (dependants.map(titleOf).join("; ") || "nothing") + "." : "";
    }
  }

  function find(text) {
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    let first = null;
    let count = 0;
    nodes().forEach(function (node) {
      const match = words.length > 0 && words.every(function (word) { return node.dataset.title.includes(word); });
      node.classList.toggle("dtg-match", match);
      if (match) { count += 1; first = first || node; }
    });
    const out = $("#dtg-graph-found");
    out.textContent = words.length ? (count ? count + (count === 1 ? " ticket found" : " tickets found") : "No ticket has that title") : "";
    if (first) { dtg.reveal($("#dtg-graph-picture"), first, true); highlight(first.dataset.key); }
  }

  function filterArea(area) {
    nodes().forEach(function (node) { node.classList.toggle("dtg-other-area", Boolean(area) && node.dataset.area !== area); });
    document.querySelectorAll("#dtg-graph-list tbody tr").forEach(function (row) { row.hidden = Boolean(area) && row.dataset.area !== area; });
    const lane = area && Array.prototype.find.call(document.querySelectorAll("#dtg-graph-picture .dtg-lane text"),
      function (text) { return area.startsWith(text.textContent); });
    if (lane) { dtg.reveal($("#dtg-graph-picture"), lane, true); }
  }

  Object.assign(page.actions, {
    "graph-zoom": function (el) { if (el.dataset.zoom === "fit") { fit(false); } else { setZoom(zoom * Number(el.dataset.zoom)); } },
    "graph-view": function (el) {
      const listing = el.getAttribute("aria-pressed") !== "true";
      el.setAttribute("aria-pressed", String(listing));
      el.textContent = listing ? "Picture view" : "List view";
      $("#dtg-graph-list").hidden = !listing;
      $("#dtg-graph-picture").hidden = listing;
    },
  });

  document.addEventListener("dtg:panel", function (event) {
    if (event.detail.tab === "graph") { zoom = 1; fit(true); }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "dtg-graph-find") { find(event.target.value); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "dtg-graph-area") { filterArea(event.target.value); }
  });

  ["focusin", "mouseover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      const node = event.target.closest && event.target.closest("#dtg-graph-picture .dtg-node");
      if (node) { highlight(node.dataset.key); }
    });
  });

  // Enter or Space on a ticket opens it, as a click does.
  document.addEventListener("keydown", function (event) {
    const node = event.target.closest && event.target.closest("#dtg-graph-picture .dtg-node");
    if (!node || (event.key !== "Enter" && event.key !== " ")) { return; }
    event.preventDefault();
    node.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  });
})();
