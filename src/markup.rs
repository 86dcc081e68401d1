//! Escaping for the markup the site writes (HTML, XML feeds and SVG), and the one
//! rewrite of rendered note HTML that markdown cannot express: row headers.

/// Escapes `&`, `<`, `>` and `"`: enough for HTML and XML text and double-quoted
/// attributes, which is all the site writes.
pub(crate) fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    pulldown_cmark_escape::escape_html(&mut out, s).expect("writing to a String cannot fail");
    out
}

/// Markdown tables have no row headers. A table whose top-left header cell is empty
/// reads as a grid with labels down its first column, so that column becomes
/// `<th scope="row">` (and the empty corner a plain cell) for screen readers. Works on
/// the exact HTML pulldown-cmark writes for tables (`<tr><td…>`); text inside cells is
/// escaped there, so a `</td>` can only be the cell's end.
pub(crate) fn row_headers(html: String) -> String {
    const CORNER: &str = "<table><thead><tr><th";
    if !html.contains(CORNER) {
        return html;
    }
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html.as_str();
    while let Some(at) = rest.find(CORNER) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .find("</table>")
            .map_or(rest.len(), |e| e + "</table>".len());
        let (table, after) = rest.split_at(end);
        let attrs_end = CORNER.len() + table[CORNER.len()..].find('>').unwrap_or(0);
        let corner_empty = table[attrs_end..].starts_with("></th>");
        if corner_empty {
            let attrs = &table[CORNER.len()..attrs_end];
            out.push_str("<table><thead><tr><td");
            out.push_str(attrs);
            out.push_str("></td>");
            let body = &table[attrs_end + "></th>".len()..];
            let mut parts = body.split("<tr><td");
            out.push_str(parts.next().unwrap_or(""));
            for row in parts {
                out.push_str("<tr><th scope=\"row\"");
                out.push_str(&row.replacen("</td>", "</th>", 1));
            }
        } else {
            out.push_str(table);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::row_headers;

    #[test]
    fn first_column_becomes_row_headers_under_an_empty_corner() {
        let html = "<p>x</p><table><thead><tr><th class=\"align-left\"></th><th>Mogas</th></tr></thead><tbody>\n<tr><td class=\"align-left\">Rises</td><td>36</td></tr>\n<tr><td>Cuts</td><td>28</td></tr>\n</tbody></table><p>y</p>";
        assert_eq!(
            row_headers(html.to_string()),
            "<p>x</p><table><thead><tr><td class=\"align-left\"></td><th>Mogas</th></tr></thead><tbody>\n<tr><th scope=\"row\" class=\"align-left\">Rises</th><td>36</td></tr>\n<tr><th scope=\"row\">Cuts</th><td>28</td></tr>\n</tbody></table><p>y</p>"
        );
    }

    #[test]
    fn tables_with_a_named_first_column_are_left_alone() {
        let html = "<table><thead><tr><th>Year</th><th>Price</th></tr></thead><tbody>\n<tr><td>2004</td><td>1</td></tr>\n</tbody></table>";
        assert_eq!(row_headers(html.to_string()), html);
        assert_eq!(row_headers("<p>no table</p>".into()), "<p>no table</p>");
        // Unclosed or odd input never panics.
        let _ = row_headers("<table><thead><tr><th".into());
        let _ = row_headers("<table><thead><tr><th></th><tr><td>".into());
    }
}
