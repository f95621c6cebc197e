// Rubble verification page: the gallery. Filters, the cards (built from the photos in
// `state`), their lazily loaded images, selection, keyboard shortcuts and verdicts.
"use strict";

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
