// Rubble verification page: the team panel (verifiers and their agreement, refreshed
// every TEAM_MS) and the download of verified.csv.
"use strict";

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
