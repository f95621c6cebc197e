// Rubble verification page, served by `rubble serve` at /; loaded last, after api.js,
// gallery.js, map.js and team.js. The page state, sign in/out, live updates (polling
// /photos) and the start (`main`). Plain JS, no build step.
"use strict";

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
