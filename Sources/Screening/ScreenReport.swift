import AtomicFiles
import Digest
import Foundation
import Markup

/// `report.html`: the flagged photos for a human to verify.
///
/// One self-contained file (CSS and JavaScript inline, no network access, works from
/// `file://`). Images are *referenced relatively*, not embedded: each card shows its Grad-CAM
/// panel `gradcam/<stem>_gradcam.png` (the photo beside one heat-map overlay per class) and
/// links the original photo by its path relative to the report. Embedding would make the page
/// grow by ~100 KB per flagged photo and be rewritten whole as the run proceeds; keep the
/// output folder together (report.html + gradcam/ + segment/) when moving it.
///
/// With ``assessesSeverity`` (a run with a ``DamageAssessor``), each card also shows the
/// photo's damage severity and the assessor's summary line, with a thumbnail of and a link to
/// its panel `segment/<stem>_segment.png`, and carries `data-severity` (6 decimals; empty when
/// no structure was in view or the assessment failed); the header gives how many flagged
/// photos were scored and their mean.
///
/// The cards are plain HTML (`<article class="card" data-path data-name data-p data-label>`,
/// then `data-severity` with an assessor), so the page lists every flagged photo even without
/// JavaScript; the script adds:
/// - sorting by positive-class probability, by name, or (with an assessor) by severity (photos
///   without one last),
/// - filtering by predicted label, by verification mark, and by a probability slider
///   (from the run's threshold up to 1),
/// - a Confirm / Reject mark per photo (a rejected photo gets the other class, or with more
///   than two classes a chosen one), kept in the browser's localStorage so a reload (the page
///   is rewritten as new photos arrive) keeps them,
/// - a download link (a Blob URL) for `verified_labels.csv`: `path,predicted,verified_label`,
///   one row per marked photo, to feed retraining.
/// When the script has run, `<main id="gallery">` carries `data-ready="1"` and
/// `data-shown="N"` (the number of cards shown).
///
/// Markup safety (photo names and class names come from outside: a downloaded file, a weights
/// file): every text and attribute goes through one HTML escaper (Markup's `markupEscape`), the
/// one JSON block inside `<script>` through ``ScriptJSON`` (`<`, `>`, `&`, U+2028, U+2029 as
/// `\uXXXX`), and links are only ever relative paths (`./…`, `../…`) to the photos and to the
/// panels the tool wrote, or `file:` URLs of photos it screened (``link(toPath:)``). A
/// Content-Security-Policy meta tag allows the page's own inline script (by its SHA-256) and
/// style, and images from files; nothing else (no other script, no network, no forms, no
/// `<base>`).
public struct ScreenReport {
    public static let fileName = "report.html"

    public struct Item: Sendable {
        public var path: String
        public var probabilities: [Float]
        public var label: String
        /// Positive-class probability.
        public var score: Float
        /// Grad-CAM panel relative to the report (`gradcam/<stem>_gradcam.png`), if written;
        /// any other value is not linked.
        public var panel: String?
        /// The link to the original photo, made by ``ScreenReport/link(toPath:)``: `./…`,
        /// `../…` or `file:///…`; any other value is not linked.
        public var original: String
        /// Damage severity in [0, 1] (nil: no structure in view, or not assessed).
        public var severity: Double?
        /// The assessor's one-line summary (nil: not assessed).
        public var severitySummary: String?
        /// The assessor's panel relative to the report (`segment/<stem>_segment.png`), if
        /// written; any other value is not linked.
        public var severityPanel: String?

        public init(path: String, probabilities: [Float], label: String, score: Float, panel: String?, original: String,
                    severity: Double? = nil, severitySummary: String? = nil, severityPanel: String? = nil) {
            self.path = path
            self.probabilities = probabilities
            self.label = label
            self.score = score
            self.panel = panel
            self.original = original
            self.severity = severity
            self.severitySummary = severitySummary
            self.severityPanel = severityPanel
        }
    }

    public var title = "Rubble screen"
    public var directory: String
    public var classNames: [String]
    public var positive: Int
    public var threshold: Float
    public var model: String
    public var items: [Item] = []
    public var summary = ScreenSummary()
    public var running = true
    /// Whether the run assesses damage severity: cards show it, and it can be sorted by.
    public var assessesSeverity = false

    public init(directory: String, classNames: [String], positive: Int, threshold: Float, model: String) {
        self.directory = directory
        self.classNames = classNames
        self.positive = positive
        self.threshold = threshold
        self.model = model
    }

    public func write(to url: URL) throws {
        try AtomicFile.write(html(), to: url)
    }

    /// A URL reference to the file at `path` (bytes; relative to the report, or absolute):
    /// every byte but `A-Z a-z 0-9 - . _ ~` and "/" percent-encoded (so `:`, `?`, `#`, `%` and
    /// names that are not UTF-8 cannot change what the link means); a relative path starts
    /// with `./` or `../` (never a scheme such as `javascript:`), an absolute one becomes a
    /// `file://` URL.
    public static func link(toPath path: [UInt8]) -> String {
        var encoded = ""
        for byte in path {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        if path.first == UInt8(ascii: "/") { return "file://" + encoded }
        if encoded.hasPrefix("../") || encoded.hasPrefix("./") { return encoded }
        return "./" + encoded
    }

    /// ``link(toPath:)`` of a path given as text.
    public static func link(toPath path: String) -> String { link(toPath: Array(path.utf8)) }

    /// Whether `link` is one that ``link(toPath:)`` makes: `./`, `../` or `file:///` and
    /// nothing but unreserved characters, "/" and percent escapes.
    static func isSafeLink(_ link: String) -> Bool {
        guard link.hasPrefix("./") || link.hasPrefix("../") || link.hasPrefix("file:///") else { return false }
        let rest = link.hasPrefix("file:///") ? link.dropFirst(7) : Substring(link)
        return rest.unicodeScalars.allSatisfy { c in
            c.isASCII && (CharacterSet.alphanumerics.contains(c) || "-._~/%".unicodeScalars.contains(c))
        }
    }

    /// The `href`/`src` value for the original photo (nil: not linked).
    static func originalHref(_ item: Item) -> String? {
        isSafeLink(item.original) ? markupEscape(item.original) : nil
    }

    /// The `href`/`src` value for a panel the tool wrote in `folder` (`gradcam` or `segment`;
    /// nil: not linked).
    static func panelHref(_ panel: String, folder: String = "gradcam") -> String? {
        guard panel.hasPrefix(folder + "/"), !panel.contains("/../"), !panel.hasSuffix("/..") else { return nil }
        return markupEscape(link(toPath: panel))
    }

    /// The severity line and panel thumbnail of a card (empty without an assessor).
    func severityMarkup(_ item: Item, name: String, lazy: String) -> (attribute: String, html: String) {
        guard assessesSeverity else { return ("", "") }
        let attribute = " data-severity=\"\(item.severity.map { String(format: "%.6f", $0) } ?? "")\""
        let value = item.severity.map { "severity <b>\(String(format: "%.3f", $0))</b>" } ?? "severity <b>&ndash;</b>"
        let summary = item.severitySummary.map { $0.isEmpty ? "" : " · \(markupEscape($0))" } ?? " · not assessed"
        guard let panel = item.severityPanel.flatMap({ Self.panelHref($0, folder: "segment") }) else {
            return (attribute, "<div class=\"severity\">\(value)<span class=\"small\">\(summary)</span></div>\n")
        }
        return (attribute, """
            <div class="severity"><a class="seg" href="\(panel)" target="_blank" rel="noopener"><img src="\(panel)" \
            alt="Segmentation of \(markupEscape(name))"\(lazy)></a><span>\(value)<span class="small">\(summary) · \
            <a href="\(panel)" target="_blank" rel="noopener">segmentation</a></span></span></div>

            """)
    }

    /// The Content-Security-Policy of the page: its own inline script (by hash) and style,
    /// images from files (panels, photos); nothing else.
    static var contentSecurityPolicy: String {
        let digest = SHA256.hash(Data(scriptElementBody.utf8))
        return "default-src 'none'; script-src 'sha256-\(Data(digest.bytes).base64EncodedString())'; "
            + "style-src 'unsafe-inline'; img-src 'self' file:; base-uri 'none'; form-action 'none'"
    }

    /// Exactly what stands between `<script>` and `</script>` (what the CSP hash covers).
    static var scriptElementBody: String { "\n" + script + "\n" }

    public func html() -> String {
        let positiveName = classNames[positive]
        let s = summary
        var cards = ""
        for (i, item) in items.enumerated() {
            let name = (item.path as NSString).lastPathComponent
            let others = item.probabilities.enumerated().filter { $0.offset != positive }
                .map { "\(markupEscape(classNames[$0.offset])) \(String(format: "%.3f", $0.element))" }.joined(separator: " · ")
            let lazy = i >= 24 ? " loading=\"lazy\"" : ""
            let original = Self.originalHref(item)
            let picture: String
            if let panel = item.panel.flatMap({ Self.panelHref($0) }) {
                picture = "<a class=\"pic\" href=\"\(panel)\" target=\"_blank\" rel=\"noopener\"><img src=\"\(panel)\" "
                    + "alt=\"Grad-CAM of \(markupEscape(name))\"\(lazy)></a>"
            } else if let original {
                picture = "<a class=\"pic\" href=\"\(original)\" target=\"_blank\" rel=\"noopener\"><img src=\"\(original)\" "
                    + "alt=\"\(markupEscape(name))\"\(lazy)></a>"
            } else {
                picture = "<div class=\"pic\"></div>"
            }
            let originalLink = original.map { " · <a href=\"\($0)\" target=\"_blank\" rel=\"noopener\">original</a>" } ?? ""
            let severity = severityMarkup(item, name: name, lazy: lazy)
            cards += """
            <article class="card" data-path="\(markupEscape(item.path))" data-name="\(markupEscape(name))" \
            data-p="\(String(format: "%.6f", item.score))" data-label="\(markupEscape(item.label))"\(severity.attribute)>
            \(picture)
            <div class="meta">
            <div class="name" title="\(markupEscape(item.path))">\(markupEscape(name))</div>
            <div class="prob"><span class="bar"><span style="width:\(String(format: "%.1f", item.score * 100))%"></span></span>
            p(\(markupEscape(positiveName))) = <b>\(String(format: "%.3f", item.score))</b></div>
            <div class="small">label <b>\(markupEscape(item.label))</b>\(others.isEmpty ? "" : " · " + others)\(originalLink)</div>
            \(severity.html)<div class="small path">\(markupEscape(item.path))</div>
            <div class="verify"><button type="button" class="confirm">✓ Confirm</button>\
            <button type="button" class="reject">✗ Reject</button>\
            <select class="correct" hidden></select>\
            <button type="button" class="clear" hidden>undo</button>\
            <span class="state">not verified</span></div>
            </div>
            </article>

            """
        }
        let classOptions = classNames.map { "<option value=\"\(markupEscape($0))\">\(markupEscape($0))</option>" }.joined()
        let classesJSON = ScriptJSON.encode(classNames)
        let generated = ISO8601DateFormatter().string(from: Date())
        let thresholdText = String(format: "%.2f", threshold)
        let severityCounts = !assessesSeverity ? ""
            : " · <b>\(s.scored)</b> of <b>\(s.flagged)</b> flagged scored for severity"
                + (s.meanSeverity.map { " (mean <b>\(String(format: "%.3f", $0))</b>)" } ?? "")
        let severitySort = assessesSeverity ? "<option value=\"s-desc\">severity, high first</option>" : ""
        let severityNote = !assessesSeverity ? ""
            : " Severity: 0 = all structure in view intact, 1 = all debris (&ndash; when no structure is in view); "
                + "its thumbnail shows the photo beside its segmentation."
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="\(markupEscape(Self.contentSecurityPolicy))">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="rubble screen">
        <title>\(markupEscape(title)): \(s.flagged) flagged of \(s.images)</title>
        <style>
        :root { --bg:#15161a; --panel:#1f2127; --text:#e8e8ea; --dim:#a0a3ad; --accent:#ffbe00; --ok:#3ecf6e; --bad:#ff5a5a; }
        * { box-sizing: border-box; }
        body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--text); }
        header { padding:14px 20px 8px; background:#0e0f12; border-bottom:1px solid #2c2f37; }
        h1 { margin:0 0 4px; font-size:20px; }
        h1 .hl { color:var(--accent); }
        .counts { color:var(--dim); }
        .counts b { color:var(--text); }
        .controls { position:sticky; top:0; z-index:2; display:flex; flex-wrap:wrap; gap:14px; align-items:center;
                    padding:10px 20px; background:#1a1c21; border-bottom:1px solid #2c2f37; }
        .controls label { color:var(--dim); }
        select, button { font:inherit; background:#2a2d35; color:var(--text); border:1px solid #3a3e48; border-radius:4px; padding:3px 8px; }
        button { cursor:pointer; }
        input[type=range] { width:180px; vertical-align:middle; }
        #export { color:#111; background:var(--accent); padding:5px 12px; border-radius:4px; text-decoration:none; font-weight:600; }
        #shown { font-weight:600; }
        main { display:grid; grid-template-columns:repeat(auto-fill, minmax(440px, 1fr)); gap:16px; padding:16px 20px 40px; }
        .card { background:var(--panel); border:2px solid #2c2f37; border-radius:8px; overflow:hidden; display:flex; flex-direction:column; }
        .card.confirmed { border-color:var(--ok); }
        .card.rejected { border-color:var(--bad); }
        .card[hidden] { display:none; }
        .pic { display:block; background:#000; }
        .pic img { display:block; width:100%; height:auto; min-height:60px; }
        .meta { padding:8px 10px 10px; display:flex; flex-direction:column; gap:3px; }
        .name { font-weight:600; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
        .small { color:var(--dim); font-size:12px; }
        .small b { color:var(--text); }
        .path { overflow-wrap:anywhere; }
        .meta a { color:#8cb4ff; }
        .severity { display:flex; gap:8px; align-items:center; }
        .severity b { color:var(--accent); }
        .seg img { display:block; height:72px; width:auto; max-width:200px; border-radius:3px; }
        .prob b { color:var(--accent); font-size:15px; }
        .bar { display:inline-block; width:120px; height:8px; background:#333743; border-radius:4px; margin-right:8px; vertical-align:middle; overflow:hidden; }
        .bar span { display:block; height:100%; background:linear-gradient(90deg, #ffd54a, #ff5a1f); }
        .verify { display:flex; gap:6px; align-items:center; margin-top:4px; flex-wrap:wrap; }
        .verify .confirm:hover, .card.confirmed .confirm { background:var(--ok); color:#111; }
        .verify .reject:hover, .card.rejected .reject { background:var(--bad); color:#111; }
        .state { color:var(--dim); font-size:12px; }
        .empty { padding:30px 20px; color:var(--dim); }
        footer { padding:0 20px 20px; color:var(--dim); font-size:12px; }
        </style>
        </head>
        <body>
        <header>
        <h1>Flagged photos: <span class="hl">\(s.flagged)</span> with p(\(markupEscape(positiveName))) &ge; \(thresholdText)</h1>
        <div class="counts"><b>\(s.images)</b> photos screened in <b>\(markupEscape(directory))</b>: <b>\(s.classified)</b> classified, \
        <b>\(s.exactDuplicates)</b> exact and <b>\(s.nearDuplicates)</b> near duplicates dropped, <b>\(s.tooSmall)</b> too small, \
        <b>\(s.unreadable)</b> unreadable\(s.nonFinite > 0 ? ", <b>\(s.nonFinite)</b> with non-finite model output" : "")\(severityCounts) · model \(markupEscape(model)) · \(running ? "run in progress (reload for new photos)" : "run finished") · \(generated)</div>
        </header>
        <nav class="controls">
        <span><label for="sort">Sort</label> <select id="sort">
        <option value="p-desc">probability, high first</option><option value="p-asc">probability, low first</option>
        <option value="name-asc">name A-Z</option><option value="name-desc">name Z-A</option>\(severitySort)</select></span>
        <span><label for="label-filter">Label</label> <select id="label-filter"><option value="">all</option>\(classOptions)</select></span>
        <span><label for="mark-filter">Marks</label> <select id="mark-filter"><option value="">all</option>
        <option value="none">not verified</option><option value="confirmed">confirmed</option><option value="rejected">rejected</option></select></span>
        <span><label for="threshold">p(\(markupEscape(positiveName))) &ge;</label> <input type="range" id="threshold" min="\(thresholdText)" max="1" step="0.01" value="\(thresholdText)">
        <output id="threshold-value">\(thresholdText)</output></span>
        <span id="shown">\(items.count) of \(items.count) shown</span>
        <span id="marked" class="small">0 marked</span>
        <a id="export" href="#" download="verified_labels.csv">Download corrected labels (CSV)</a>
        </nav>
        <main id="gallery" data-count="\(items.count)">
        \(cards)</main>
        \(items.isEmpty ? "<p class=\"empty\">No photo flagged yet.</p>" : "")
        <footer>Each panel: the photo, then one Grad-CAM heat map per class (red = regions that raised that class's score). \
        Confirm keeps the predicted label; Reject assigns another class. The CSV lists path,predicted,verified_label for every marked photo.\(severityNote)</footer>
        <script type="application/json" id="classes">\(classesJSON)</script>
        <script>\(Self.scriptElementBody)</script>
        </body>
        </html>

        """
    }

    static let script = #"""
    (function () {
      "use strict";
      var gallery = document.getElementById("gallery");
      var cards = Array.prototype.slice.call(gallery.querySelectorAll("article.card"));
      var classes = JSON.parse(document.getElementById("classes").textContent);
      var sortSel = document.getElementById("sort"), labelSel = document.getElementById("label-filter");
      var markSel = document.getElementById("mark-filter"), slider = document.getElementById("threshold");
      var sliderOut = document.getElementById("threshold-value"), shownEl = document.getElementById("shown");
      var markedEl = document.getElementById("marked"), exportLink = document.getElementById("export");
      var storeKey = "rubble-screen-marks:" + location.pathname, marks = {}, blobURL = null;
      try { marks = JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { marks = {}; }
      function save() { try { window.localStorage.setItem(storeKey, JSON.stringify(marks)); } catch (e) {} }
      function csvField(s) { s = String(s); return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; }
      function otherClass(label) { for (var i = 0; i < classes.length; i++) { if (classes[i] !== label) return classes[i]; } return label; }
      function markOf(card) {
        var m = marks[card.dataset.path];
        if (!m) return "none";
        return m.verified === card.dataset.label ? "confirmed" : "rejected";
      }
      function render(card) {
        var m = marks[card.dataset.path], kind = markOf(card), sel = card.querySelector("select.correct");
        card.classList.toggle("confirmed", kind === "confirmed");
        card.classList.toggle("rejected", kind === "rejected");
        card.querySelector(".clear").hidden = kind === "none";
        sel.hidden = !(kind === "rejected" && classes.length > 2);
        if (!sel.hidden) { sel.value = m.verified; }
        card.querySelector(".state").textContent = kind === "none" ? "not verified"
          : kind === "confirmed" ? "confirmed: " + m.verified : "rejected \u2192 " + m.verified;
      }
      function updateExport() {
        var rows = ["path,predicted,verified_label"], n = 0;
        cards.slice().sort(function (a, b) { return a.dataset.path < b.dataset.path ? -1 : a.dataset.path > b.dataset.path ? 1 : 0; })
          .forEach(function (card) {
            var m = marks[card.dataset.path];
            if (!m) return;
            n++;
            rows.push([card.dataset.path, card.dataset.label, m.verified].map(csvField).join(","));
          });
        if (blobURL) { URL.revokeObjectURL(blobURL); }
        blobURL = URL.createObjectURL(new Blob([rows.join("\n") + "\n"], { type: "text/csv" }));
        exportLink.href = blobURL;
        markedEl.textContent = n + " marked";
      }
      function compare(key) {
        return function (a, b) {
          var pa = parseFloat(a.dataset.p), pb = parseFloat(b.dataset.p);
          var na = a.dataset.name.toLowerCase(), nb = b.dataset.name.toLowerCase();
          var byName = na < nb ? -1 : na > nb ? 1 : (a.dataset.path < b.dataset.path ? -1 : a.dataset.path > b.dataset.path ? 1 : 0);
          if (key === "p-desc") return pb - pa || byName;
          if (key === "p-asc") return pa - pb || byName;
          if (key === "s-desc") {
            var sa = a.dataset.severity ? parseFloat(a.dataset.severity) : -1, sb = b.dataset.severity ? parseFloat(b.dataset.severity) : -1;
            return sb - sa || byName;
          }
          if (key === "name-desc") return -byName;
          return byName;
        };
      }
      function update() {
        var t = parseFloat(slider.value), label = labelSel.value, mark = markSel.value, shown = 0;
        sliderOut.textContent = t.toFixed(2);
        cards.sort(compare(sortSel.value));
        cards.forEach(function (card) {
          gallery.appendChild(card);
          var visible = parseFloat(card.dataset.p) >= t - 1e-9 && (!label || card.dataset.label === label)
            && (!mark || markOf(card) === mark);
          card.hidden = !visible;
          if (visible) shown++;
        });
        shownEl.textContent = shown + " of " + cards.length + " shown";
        gallery.dataset.shown = String(shown);
      }
      cards.forEach(function (card) {
        var sel = card.querySelector("select.correct");
        classes.forEach(function (c) {
          if (c === card.dataset.label) return;
          var o = document.createElement("option"); o.value = c; o.textContent = c; sel.appendChild(o);
        });
        render(card);
      });
      gallery.addEventListener("click", function (event) {
        var button = event.target.closest("button"), card = event.target.closest("article.card");
        if (!button || !card) return;
        var path = card.dataset.path, label = card.dataset.label;
        if (button.classList.contains("confirm")) marks[path] = { verified: label };
        else if (button.classList.contains("reject")) marks[path] = { verified: otherClass(label) };
        else if (button.classList.contains("clear")) delete marks[path];
        else return;
        save(); render(card); updateExport(); update();
      });
      gallery.addEventListener("change", function (event) {
        var sel = event.target, card = sel.closest("article.card");
        if (!card || !sel.classList.contains("correct")) return;
        marks[card.dataset.path] = { verified: sel.value };
        save(); render(card); updateExport(); update();
      });
      [sortSel, labelSel, markSel].forEach(function (el) { el.addEventListener("change", update); });
      slider.addEventListener("input", update);
      updateExport();
      update();
      gallery.dataset.ready = "1";
    })();
    """#
}

/// JSON for a `<script>` element (`<script type="application/json">` or inline code): the
/// text can never end the element or open an HTML comment (`</script>`, `<!--`), whatever
/// strings it holds, and is also valid JavaScript source (U+2028 and U+2029, line terminators
/// in JavaScript string literals before ES2019, are escaped).
///
/// `<`, `>`, `&`, U+2028 and U+2029 only ever occur inside JSON strings, where `\uXXXX` means
/// the same character, so `JSON.parse` of the element's text gives back exactly the value.
public enum ScriptJSON {
    /// `value` (anything `JSONSerialization` takes, fragments included) as script-safe JSON;
    /// "null" if it cannot be encoded.
    public static func encode(_ value: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
            return "null"
        }
        return escape(String(decoding: data, as: UTF8.self))
    }

    /// Escapes JSON text for a `<script>` element (see ``ScriptJSON``).
    public static func escape(_ json: String) -> String {
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for c in json.unicodeScalars {
            switch c {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
