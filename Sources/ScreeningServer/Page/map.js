// Rubble verification page: the map (SVG, world outlines from /world.json, one point per
// geotagged photo shown in the gallery), with zoom, pan and fit.
"use strict";

// ---------- map ----------
// Equirectangular: SVG x = longitude, y = -latitude (degrees).

async function loadWorld() {
  const body = await (await fetch("/world.json")).json();
  const scale = body.scale || 10;
  state.world = body.rings.map((ring) => {
    let x = ring[0], y = ring[1];
    const points = [[x / scale, y / scale]];
    for (let i = 2; i + 1 < ring.length; i += 2) {
      x += ring[i]; y += ring[i + 1];
      points.push([x / scale, y / scale]);
    }
    return points;
  });
}

function drawLand() {
  const map = $("map");
  if (!state.world) return;
  if (!map.querySelector("path.land")) {
    const layer = svg("g", { class: "land-layer" });
    for (const ring of state.world) {
      const d = "M" + ring.map(([lon, lat]) => `${lon},${-lat}`).join("L") + "Z";
      layer.append(svg("path", { class: "land", d }));
    }
    map.prepend(layer);
  }
  if (!state.view) setView({ x: -180, y: -90, w: 360, h: 180 });
}

// Sets the viewBox, widened to the SVG's aspect ratio.
function setView(view) {
  const map = $("map");
  const box = map.getBoundingClientRect();
  const aspect = box.width && box.height ? box.width / box.height : 1.6;
  let { x, y, w, h } = view;
  if (w / h < aspect) { const nw = h * aspect; x -= (nw - w) / 2; w = nw; }
  else { const nh = w / aspect; y -= (nh - h) / 2; h = nh; }
  state.view = { x, y, w, h };
  map.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
  resizePoints();
}

function fitToPoints(photos) {
  const geo = photos.filter((p) => p.latitude != null && p.longitude != null);
  if (!geo.length) { setView({ x: -180, y: -90, w: 360, h: 180 }); return; }
  const xs = geo.map((p) => p.longitude), ys = geo.map((p) => -p.latitude);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const w = Math.max(maxX - minX, 4) * 1.3, h = Math.max(maxY - minY, 3) * 1.3;
  setView({ x: (minX + maxX) / 2 - w / 2, y: (minY + maxY) / 2 - h / 2, w, h });
}

function drawPoints(photos) {
  const map = $("map");
  let layer = map.querySelector("g.point-layer");
  if (!layer) { layer = svg("g", { class: "point-layer" }); map.append(layer); }
  const geo = photos.filter((p) => p.latitude != null && p.longitude != null);
  layer.replaceChildren(...geo.map((photo) => {
    const label = photo.verdict || photo.label;
    const circle = svg("circle", {
      class: `point ${label === state.model.positive ? "positive" : "negative"}${photo.verdict ? " verified" : ""}${photo.id === state.selected ? " selected" : ""}`,
      "data-id": String(photo.id), cx: String(photo.longitude), cy: String(-photo.latitude), r: "1",
    });
    const title = svg("title");
    title.textContent = `#${photo.id} ${label ?? ""}${photo.verdict ? " (verified)" : ""}`;
    circle.append(title);
    circle.addEventListener("click", () => select(photo.id));
    return circle;
  }));
  if (!state.mapTouched && geo.length && layer.dataset.fitted !== String(geo.length)) {
    layer.dataset.fitted = String(geo.length);
    fitToPoints(geo);
  }
  resizePoints();
}

// Keeps points at a constant size on screen whatever the zoom.
function resizePoints() {
  const map = $("map");
  if (!state.view) return;
  const width = map.getBoundingClientRect().width || 400;
  const unit = state.view.w / width; // degrees per pixel
  for (const circle of map.querySelectorAll("circle.point")) {
    circle.setAttribute("r", String(unit * (circle.classList.contains("selected") ? 7 : 5)));
  }
}

function highlightPoint(id) {
  for (const circle of $("map").querySelectorAll("circle.point")) {
    circle.classList.toggle("selected", Number(circle.dataset.id) === id);
  }
  resizePoints();
}

function zoomMap(factor, centre) {
  const v = state.view;
  if (!v) return;
  state.mapTouched = true;
  const cx = centre ? centre[0] : v.x + v.w / 2, cy = centre ? centre[1] : v.y + v.h / 2;
  const w = Math.min(Math.max(v.w * factor, 0.05), 720), h = v.h * (w / v.w);
  setView({ x: cx - (cx - v.x) * (w / v.w), y: cy - (cy - v.y) * (h / v.h), w, h });
}

// Mouse position in map (viewBox) coordinates.
function mapPoint(event) {
  const box = $("map").getBoundingClientRect();
  const v = state.view;
  return [v.x + (event.clientX - box.left) / box.width * v.w, v.y + (event.clientY - box.top) / box.height * v.h];
}

function setupMapControls() {
  const map = $("map");
  map.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoomMap(event.deltaY > 0 ? 1.25 : 0.8, mapPoint(event));
  }, { passive: false });
  let drag = null;
  map.addEventListener("pointerdown", (event) => {
    if (event.target.classList.contains("point")) return;
    drag = { x: event.clientX, y: event.clientY, view: Object.assign({}, state.view) };
    map.setPointerCapture(event.pointerId);
  });
  map.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const box = map.getBoundingClientRect();
    const dx = (event.clientX - drag.x) / box.width * drag.view.w, dy = (event.clientY - drag.y) / box.height * drag.view.h;
    if (Math.abs(dx) + Math.abs(dy) > 0) state.mapTouched = true;
    setView({ x: drag.view.x - dx, y: drag.view.y - dy, w: drag.view.w, h: drag.view.h });
  });
  map.addEventListener("pointerup", () => { drag = null; });
  $("map-zoom-in").addEventListener("click", () => zoomMap(0.5));
  $("map-zoom-out").addEventListener("click", () => zoomMap(2));
  $("map-fit").addEventListener("click", () => {
    state.mapTouched = false;
    fitToPoints(state.order.map((id) => state.photos.get(id)));
  });
  window.addEventListener("resize", () => { if (state.view) setView(state.view); });
}
