// Markup: the one text escaper of every SVG, XML and HTML file Rubble writes (Train's plots,
// Screening's report), in a module of its own so that both use it without depending on each other.

/// Text safe inside an SVG/XML or HTML element or attribute: `&`, `<`, `>`, `"` and `'` become
/// `&amp;`, `&lt;`, `&gt;`, `&quot;` and `&#39;`; everything else is kept.
public func markupEscape(_ text: String) -> String {
    var out = ""
    for ch in text {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}
