// Rubble verification page, served by `rubble serve` at /.
// Plain JS, no build step, no network access beyond this server's /api/v1.
// All text that comes from the API is set with textContent, never innerHTML.
"use strict";

const API = "/api/v1";
const POLL_MS = 2000;
const TEAM_MS = 10000;
const SVG_NS = "http://www.w3.org/2000/svg";

const state = {
  token: null,
  me: null,            // {name, role}
  model: null,         // {classes, positive, threshold, description}
  photos: new Map(),   // id -> PHOTO, every photo seen so far
  touched: new Map(),  // id -> time (ms) the page last updated that photo itself
  watermark: 0,        // every photo with id <= watermark is no longer queued
  cards: new Map(),    // id -> {el, photo, sig, urls, loaded}
  order: [],           // ids of the shown cards, in display order
  selected: null,      // id of the selected card
  generation: 0,       // bumped on sign-in/out so stale loops stop
  world: null,         // [[lon, lat], ...] rings in degrees
  view: null,          // map viewBox {x, y, w, h}; x = lon, y = -lat
  mapTouched: false,   // the user zoomed/panned: stop auto-fitting
};

const $ = (id) => document.getElementById(id);

// ---------- small helpers ----------

// Creates an element; children may be nodes or strings (text nodes, escaped).
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function percent(x) {
  return x == null ? "–" : `${Math.round(x * 100)}%`;
}

function setStatus(text, isError = false) {
  const node = $("live-status");
  node.textContent = text;
  node.classList.toggle("error", isError);
}

// ---------- API ----------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// fetch() against /api/v1 with the bearer token; returns the Response.
async function apiFetch(path, options = {}) {
  const headers = Object.assign({}, options.headers, { Authorization: `Bearer ${state.token}` });
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    try { const body = await response.json(); if (body && body.error) message = body.error; } catch (_) { /* not JSON */ }
    if (response.status === 401 && state.me) signOut(`Signed out: the server refused the token (${message}).`);
    throw new ApiError(response.status, message);
  }
  return response;
}

async function apiJSON(path, options) {
  return (await apiFetch(path, options)).json();
}

// ---------- sign in / out ----------

async function signIn(token) {
  state.token = token;
  const message = $("signin-message");
  message.textContent = "Checking the token…";
  try {
    const me = await apiJSON("/me");
    const model = await apiJSON("/model");
    sessionStorage.setItem("rubble-token", token);
    state.me = me;
    state.model = model;
    startApp();
    message.textContent = "";
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem("rubble-token");
    message.textContent = error.status === 401
      ? `This token was not accepted (401: ${error.message}). Check it and try again.`
      : `Could not sign in: ${error.message}`;
  }
}

function signOut(reason = "") {
  state.generation += 1;
  sessionStorage.removeItem("rubble-token");
  for (const id of [...state.cards.keys()]) removeCard(id);
  Object.assign(state, { token: null, me: null, model: null, watermark: 0, selected: null, order: [], mapTouched: false, view: null });
  state.photos.clear();
  state.touched.clear();
  const points = $("map").querySelector("g.point-layer");
  if (points) points.remove();
  $("app").hidden = true;
  $("signin-panel").hidden = false;
  $("signout").hidden = true;
  $("whoami").textContent = "";
  $("model-info").textContent = "";
  setStatus("");
  $("signin-message").textContent = reason;
  $("token").value = "";
  $("token").focus();
}

function startApp() {
  state.generation += 1;
  const { me, model } = state;
  $("signin-panel").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  $("whoami").textContent = `${me.name} (${me.role})`;
  $("model-info").textContent = model.description || "";
  $("positive-name").textContent = model.positive;
  const roleNote = $("role-note");
  roleNote.hidden = me.role !== "uploader";
  roleNote.textContent = "You are signed in as an uploader: you can look, but verdicts need a verifier token.";
  setupFilters();
  drawLand();
  const generation = state.generation;
  pollLoop(generation);
  teamLoop(generation);
}

// ---------- live updates ----------

// Fetches every photo with id > watermark (following `next`), stores them and
// advances the watermark past the leading run of photos that are no longer
// queued. Photos may finish out of order; the ones after the first queued
// photo are fetched again next time, so their status stays current.
async function pollPhotosOnce() {
  const startedAt = Date.now();
  let cursor = state.watermark;
  const fetched = [];
  for (let pages = 0; pages < 100; pages++) {
    const body = await apiJSON(`/photos?after=${cursor}&limit=500`);
    for (const photo of body.photos) fetched.push(photo);
    if (body.next == null) break;
    cursor = body.next;
  }
  fetched.sort((a, b) => a.id - b.id);
  let watermark = state.watermark;
  let blocked = false;
  for (const photo of fetched) {
    // A verdict given while this poll was under way is newer than its copy.
    if ((state.touched.get(photo.id) || 0) <= startedAt) state.photos.set(photo.id, photo);
    if (!blocked && photo.status !== "queued") watermark = photo.id;
    else blocked = true;
  }
  state.watermark = watermark;
}

async function pollLoop(generation) {
  while (generation === state.generation) {
    try {
      await pollPhotosOnce();
      if (generation !== state.generation) return;
      render();
      setStatus(`live · updated ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      if (generation !== state.generation) return;
      setStatus(`update failed: ${error.message} (retrying)`, true);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

// Re-reads one photo (after a verdict) so its card shows the server's view.
async function refreshPhoto(id) {
  const photo = await apiJSON(`/photos/${id}`);
  state.photos.set(id, photo);
  state.touched.set(id, Date.now());
  render();
}

// ---------- filters ----------

function setupFilters() {
  const labelSelect = $("filter-label");
  labelSelect.replaceChildren(el("option", { value: "" }, "all"));
  for (const name of state.model.classes) labelSelect.append(el("option", { value: name }, name));
  resetFilters();
}

function resetFilters() {
  $("filter-label").value = "";
  $("filter-threshold").value = String(state.model ? state.model.threshold : 0.5);
  $("filter-verified").value = "all";
  $("filter-source").value = "";
  $("filter-since").value = "";
  $("filter-until").value = "";
  render();
}

function currentFilters() {
  const time = (id) => { const v = $(id).value; return v ? new Date(v).getTime() : null; };
  return {
    label: $("filter-label").value,
    threshold: Number($("filter-threshold").value),
    verified: $("filter-verified").value,
    source: $("filter-source").value,
    since: time("filter-since"),
    until: time("filter-until"),
  };
}

function positiveProbability(photo) {
  return photo.probabilities ? photo.probabilities[state.model.positive] : null;
}

function matchesFilters(photo, f) {
  if (f.label && photo.label !== f.label) return false;
  const p = positiveProbability(photo);
  if (p != null && p < f.threshold) return false;
  if (f.verified === "verified" && !photo.verdict) return false;
  if (f.verified === "unverified" && photo.verdict) return false;
  if (f.source && photo.source !== f.source) return false;
  const added = new Date(photo.added_at).getTime();
  if (f.since != null && added < f.since) return false;
  if (f.until != null && added > f.until) return false;
  return true;
}

// Keeps the source dropdown in step with the sources seen so far.
function updateSourceOptions() {
  const select = $("filter-source");
  const have = new Set([...select.options].map((o) => o.value));
  const sources = new Set();
  for (const photo of state.photos.values()) if (photo.source) sources.add(photo.source);
  for (const source of [...sources].sort()) {
    if (!have.has(source)) select.append(el("option", { value: source }, source));
  }
}

// ---------- gallery ----------

function render() {
  if (!state.model) return;
  $("threshold-value").textContent = Number($("filter-threshold").value).toFixed(2);
  updateSourceOptions();
  const filters = currentFilters();
  const flagged = [...state.photos.values()].filter((p) => p.flagged).sort((a, b) => a.id - b.id);
  const shown = flagged.filter((p) => matchesFilters(p, filters));
  const shownIds = new Set(shown.map((p) => p.id));

  // Keep the selection at the same place when its card goes away.
  const oldIndex = state.order.indexOf(state.selected);
  for (const id of [...state.cards.keys()]) if (!shownIds.has(id)) removeCard(id);

  const gallery = $("gallery");
  let previous = null;
  for (const photo of shown) {
    let card = state.cards.get(photo.id);
    const sig = JSON.stringify(photo);
    if (!card) {
      card = { el: null, photo, sig: "", urls: [], loaded: false };
      state.cards.set(photo.id, card);
    }
    if (card.sig !== sig) {
      const fresh = buildCard(photo);
      if (card.el) {
        if (card.loaded && card.photo.has_gradcam === photo.has_gradcam) {
          // Keep the images already loaded.
          fresh.querySelector(".images").replaceWith(card.el.querySelector(".images"));
        } else {
          imageObserver.unobserve(card.el);
          for (const url of card.urls) URL.revokeObjectURL(url);
          card.urls = [];
          card.loaded = false;
        }
        card.el.replaceWith(fresh);
      }
      card.el = fresh;
      card.photo = photo;
      card.sig = sig;
      if (!card.loaded) imageObserver.observe(fresh);
    }
    // Keep DOM order equal to the id order.
    const expectedNext = previous ? previous.nextSibling : gallery.firstChild;
    if (expectedNext !== card.el) gallery.insertBefore(card.el, expectedNext);
    previous = card.el;
  }
  state.order = shown.map((p) => p.id);
  if (state.selected != null && !shownIds.has(state.selected)) {
    state.selected = state.order.length ? state.order[Math.min(Math.max(oldIndex, 0), state.order.length - 1)] : null;
  }
  for (const [id, card] of state.cards) card.el.classList.toggle("selected", id === state.selected);

  gallery.dataset.count = String(shown.length);
  $("gallery-empty").hidden = shown.length > 0;
  $("counts").textContent = `${shown.length} of ${flagged.length} flagged shown · ${state.photos.size} photos received`;
  drawPoints(shown);
}

// The newest entry of photo.verdicts (by created_at; the later one on a tie).
function latestVerdict(photo) {
  let latest = null;
  for (const v of photo.verdicts || []) {
    if (!latest || new Date(v.created_at) >= new Date(latest.created_at)) latest = v;
  }
  return latest;
}

// Builds the card element for one photo (images are filled in lazily).
function buildCard(photo) {
  const model = state.model;
  const p = positiveProbability(photo);
  const canJudge = state.me.role !== "uploader";
  const images = el("div", { class: "images" },
    el("img", { class: "photo", alt: `photo ${photo.id}` }),
    photo.has_gradcam ? el("img", { class: "gradcam", alt: `Grad-CAM of photo ${photo.id}` }) : null);

  const facts = el("dl", { class: "facts" });
  const fact = (name, value) => { if (value != null && value !== "") facts.append(el("dt", {}, name), el("dd", {}, value)); };
  fact("model", `${photo.label ?? "–"} · P(${model.positive}) ${percent(p)}`);
  if (photo.severity != null) fact("severity", photo.severity.toFixed(2));
  fact("source", photo.source);
  fact("taken", formatTime(photo.taken_at));
  fact("added", formatTime(photo.added_at));
  if (photo.latitude != null && photo.longitude != null) {
    const lat = photo.latitude, lon = photo.longitude;
    const link = el("a", {
      href: `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`,
      target: "_blank", rel: "noopener noreferrer", class: "osm",
    }, "OpenStreetMap");
    facts.append(el("dt", {}, "place"), el("dd", {}, `${lat.toFixed(4)}, ${lon.toFixed(4)} `, link));
  }

  const latest = latestVerdict(photo);
  const verdict = el("div", { class: "verdict" + (photo.verdict ? " given" : "") },
    latest ? `verdict: ${latest.label} by ${latest.verifier}` : photo.verdict ? `verdict: ${photo.verdict}` : "no verdict yet");
  if (photo.verdicts && photo.verdicts.length > 1) {
    verdict.title = photo.verdicts.map((v) => `${v.label} by ${v.verifier} at ${formatTime(v.created_at)}`).join("\n");
  }

  const actions = el("div", { class: "actions" });
  if (canJudge) {
    actions.append(
      el("button", { type: "button", class: "confirm", title: "c or y", onclick: () => actOn(photo.id, "confirm") }, "Confirm"),
      el("button", { type: "button", class: "reject", title: "x or n", onclick: () => actOn(photo.id, "reject") }, "Reject"));
    model.classes.forEach((name, index) => {
      actions.append(el("button", { type: "button", class: "relabel", title: `key ${index + 1}`,
        onclick: () => actOn(photo.id, "relabel", index) }, `${index + 1} ${name}`));
    });
  }

  const card = el("article", { class: "card", "data-id": String(photo.id), tabindex: "-1",
    onclick: (event) => { if (!event.target.closest("button, a")) select(photo.id, false); } },
    el("header", { class: "card-head" }, el("span", { class: "card-id" }, `#${photo.id}`),
      el("span", { class: "badge label-" + (photo.label === model.positive ? "positive" : "negative") }, photo.label ?? "")),
    images, facts, verdict, actions);
  return card;
}

// Fetches an authorised image into an object URL, remembered for revoking.
async function loadImage(card, img, path) {
  try {
    const blob = await (await apiFetch(path)).blob();
    if (!state.cards.has(card.photo.id)) return; // card went away meanwhile
    const url = URL.createObjectURL(blob);
    card.urls.push(url);
    img.src = url;
  } catch (error) {
    img.alt = `${img.alt} (not loaded: ${error.message})`;
    img.classList.add("broken");
  }
}

// Loads the images of a card when it first comes near the viewport.
const imageObserver = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    imageObserver.unobserve(entry.target);
    const card = state.cards.get(Number(entry.target.dataset.id));
    if (!card || card.loaded) continue;
    card.loaded = true;
    const id = card.photo.id;
    loadImage(card, card.el.querySelector("img.photo"), `/photos/${id}/image`);
    const gradcam = card.el.querySelector("img.gradcam");
    if (gradcam) loadImage(card, gradcam, `/photos/${id}/gradcam`);
  }
}, { rootMargin: "400px" });

function removeCard(id) {
  const card = state.cards.get(id);
  if (!card) return;
  imageObserver.unobserve(card.el);
  for (const url of card.urls) URL.revokeObjectURL(url);
  card.el.remove();
  state.cards.delete(id);
}

// ---------- selection, keys and verdicts ----------

function select(id, scroll = true) {
  state.selected = id;
  for (const [cardId, card] of state.cards) card.el.classList.toggle("selected", cardId === id);
  const card = state.cards.get(id);
  if (card && scroll) card.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
  highlightPoint(id);
  // Photos below the watermark are not polled again: re-read the selected
  // one so that teammates' verdicts show up (at most every 5 s per photo).
  const now = Date.now();
  if (card && now - (card.refreshedAt || 0) > 5000) {
    card.refreshedAt = now;
    refreshPhoto(id).catch(() => {});
  }
}

function moveSelection(step) {
  if (!state.order.length) return;
  const index = state.order.indexOf(state.selected);
  const next = index < 0 ? 0 : Math.min(Math.max(index + step, 0), state.order.length - 1);
  select(state.order[next]);
}

// action: "confirm" (model's label), "reject" (the other class, or relabel
// buttons when there are more than two), "relabel" (class number index).
function actOn(id, action, index) {
  const card = state.cards.get(id);
  if (!card || state.me.role === "uploader") return;
  const { classes } = state.model;
  const modelLabel = card.photo.label;
  let label = null;
  if (action === "confirm") label = modelLabel;
  else if (action === "relabel") label = classes[index];
  else if (action === "reject") {
    const others = classes.filter((c) => c !== modelLabel);
    if (others.length === 1) label = others[0];
    else { card.el.classList.add("relabel-open"); card.el.querySelector(".verdict").textContent = "relabel: press 1…9 or click a class"; return; }
  }
  if (!label) return;
  giveVerdict(id, label);
}

async function giveVerdict(id, label) {
  const card = state.cards.get(id);
  const verdictNode = card.el.querySelector(".verdict");
  verdictNode.textContent = `verdict: ${label} by ${state.me.name} (sending…)`;
  verdictNode.className = "verdict pending";
  // Move on to the next card at once; the verdict is sent in the background.
  const index = state.order.indexOf(id);
  if (id === state.selected && index >= 0 && index < state.order.length - 1) select(state.order[index + 1]);
  try {
    const body = await apiJSON(`/photos/${id}/verdicts`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ label }),
    });
    const photo = Object.assign({}, state.photos.get(id));
    photo.verdict = body.label;
    photo.verdicts = [...(photo.verdicts || []), { label: body.label, verifier: body.verifier, created_at: body.created_at }];
    state.photos.set(id, photo);
    state.touched.set(id, Date.now());
    render();
    refreshPhoto(id).catch(() => {});
    refreshTeam().catch(() => {});
  } catch (error) {
    const current = state.cards.get(id);
    if (current) {
      const node = current.el.querySelector(".verdict");
      node.textContent = `verdict not saved: ${error.message}`;
      node.className = "verdict failed";
      current.sig = ""; // rebuild on the next render
    }
    setStatus(`verdict for #${id} failed: ${error.message}`, true);
  }
}

function onKeyDown(event) {
  if (!state.me || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, select, textarea")) return;
  const key = event.key;
  const handled = () => event.preventDefault();
  if (key === "j" || key === "ArrowDown" || key === "ArrowRight") { moveSelection(1); handled(); return; }
  if (key === "k" || key === "ArrowUp" || key === "ArrowLeft") { moveSelection(-1); handled(); return; }
  if (state.selected == null) return;
  if (key === "c" || key === "y") { actOn(state.selected, "confirm"); handled(); }
  else if (key === "x" || key === "n") { actOn(state.selected, "reject"); handled(); }
  else if (/^[1-9]$/.test(key) && Number(key) <= state.model.classes.length) {
    actOn(state.selected, "relabel", Number(key) - 1); handled();
  }
}

// ---------- team panel ----------

async function refreshTeam() {
  const body = await apiJSON("/verifiers");
  const rows = $("team-verifiers");
  rows.replaceChildren(...body.verifiers.map((v) => el("tr", {},
    el("td", {}, v.name), el("td", {}, v.verdicts), el("td", {}, v.photos),
    el("td", {}, `${v.agree_with_model} (${percent(v.photos ? v.agree_with_model / v.photos : null)})`))));
  if (!body.verifiers.length) rows.append(el("tr", {}, el("td", { colspan: "4", class: "muted" }, "no verdicts yet")));
  const pairs = $("team-agreement");
  const fixed = (x) => (x == null ? "–" : Number(x).toFixed(2));
  pairs.replaceChildren(...body.agreement.map((a) => el("tr", {},
    el("td", {}, `${a.a} · ${a.b}`), el("td", {}, a.photos), el("td", {}, a.agreed),
    el("td", {}, percent(a.rate)), el("td", {}, fixed(a.kappa)))));
  if (!body.agreement.length) pairs.append(el("tr", {}, el("td", { colspan: "5", class: "muted" }, "no photo judged by two verifiers yet")));
  $("team-status").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

async function teamLoop(generation) {
  while (generation === state.generation) {
    try { await refreshTeam(); } catch (error) {
      if (generation === state.generation) $("team-status").textContent = `team update failed: ${error.message}`;
    }
    await new Promise((resolve) => setTimeout(resolve, TEAM_MS));
  }
}

async function downloadCSV() {
  try {
    const blob = await (await apiFetch("/export/verified.csv")).blob();
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: "verified.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    $("team-status").textContent = `download failed: ${error.message}`;
  }
}

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

// ---------- start ----------

function main() {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (token) signIn(token);
  });
  $("signout").addEventListener("click", () => signOut("Signed out."));
  for (const id of ["filter-label", "filter-threshold", "filter-verified", "filter-source", "filter-since", "filter-until"]) {
    $(id).addEventListener("input", render);
  }
  $("filter-reset").addEventListener("click", resetFilters);
  $("download-csv").addEventListener("click", downloadCSV);
  document.addEventListener("keydown", onKeyDown);
  setupMapControls();
  loadWorld().then(() => { if (state.me) drawLand(); }).catch((error) => {
    $("map").append(svg("text", { x: "0", y: "0" }));
    setStatus(`map outlines not loaded: ${error.message}`, true);
  });
  const saved = sessionStorage.getItem("rubble-token");
  if (saved) signIn(saved);
}

main();
