//! Escaping for the markup the site writes: HTML, XML feeds and SVG.

/// Escapes `&`, `<`, `>` and `"`: enough for HTML and XML text and double-quoted
/// attributes, which is all the site writes.
pub(crate) fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    pulldown_cmark_escape::escape_html(&mut out, s).expect("writing to a String cannot fail");
    out
}
