// Rubble verification page: the shared basics, loaded first (classic scripts, one global scope).
// Constants, the small DOM and formatting helpers, and apiFetch/apiJSON for /api/v1
// (bearer token, 401 signs out, one retry after a 429). No network access beyond this server.
// All text that comes from the API is set with textContent, never innerHTML.
"use strict";

const API = "/api/v1";
const POLL_MS = 2000;
const TEAM_MS = 10000;
const SVG_NS = "http://www.w3.org/2000/svg";
const RETRY_DEFAULT_S = 2;  // wait after a 429 without a usable Retry-After
const RETRY_MAX_S = 30;     // longest wait after a 429

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

// Seconds to wait after a 429: its Retry-After (whole seconds), else 2; at most 30.
function retryAfterSeconds(response) {
  const value = (response.headers.get("Retry-After") || "").trim();
  const seconds = /^\d+$/.test(value) ? Number(value) : RETRY_DEFAULT_S;
  return Math.min(seconds, RETRY_MAX_S);
}

// fetch() against /api/v1 with the bearer token; returns the Response.
// A 429 (the account's rate) is retried once after its Retry-After, unless the
// user signed out or in again meanwhile; a second 429 fails like any other error.
async function apiFetch(path, options = {}) {
  const token = state.token;
  const send = () => {
    const headers = Object.assign({}, options.headers, { Authorization: `Bearer ${token}` });
    return fetch(API + path, Object.assign({}, options, { headers }));
  };
  let response = await send();
  if (response.status === 429) {
    await new Promise((resolve) => setTimeout(resolve, retryAfterSeconds(response) * 1000));
    if (state.token === token) response = await send();
  }
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
