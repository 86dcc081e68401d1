//! Syntax highlighting of fenced code blocks in notes, at build time: one pure function
//! from a block's language and text to its HTML, with classed spans only (the
//! Content-Security-Policy forbids `style=`); `static/style.css` colours the classes for
//! the light and the dark theme. Unknown or missing languages are escaped plain text.
//!
//! The crate was chosen by measurement (`bash bench/highlight.sh` builds each candidate
//! with the site's release profile and times it on the same corpus in one run): 6,000
//! blocks of about 20 lines in 12 languages (2,000 notes × 3), best of 2, 2 shared cores:
//!
//! | crate                                   | per block | × lumis | HTML   | binary added |
//! |-----------------------------------------|-----------|---------|--------|--------------|
//! | `lumis` 0.19 (tree-sitter, C grammars)  | 0.40 ms   | 1.00    | 26 MB  | +8.0 MB      |
//! | `syntect` 5.3 + `two-face` (fancy-regex)| 0.96 ms   | 2.40    | 69 MB  | +2.7 MB      |
//! | `giallo` 0.5 (TextMate, oniguruma)      | 1.10 ms   | 2.77    | 27 MB  | +2.4 MB      |
//!
//! Quality decided as much as speed. lumis's classes name what a token is
//! (`l-keyword-function`, `l-string`, `l-number`, `l-comment`), so one short stylesheet
//! with two palettes themes every language, and all 12 languages parse. giallo's classes
//! are colour ids of two chosen themes (`g-l-8 g-d-10`), so restyling means regenerating
//! them (and it is EUPL-licensed); syntect's default set lacks TOML and Dockerfile
//! (two-face adds them) and its classes carry every scope atom, nested, for more than
//! twice the HTML. The price of lumis is binary size: the grammars' parse tables are C,
//! compiled in statically (nothing loaded at run time). The whole release binary
//! (`--no-default-features`) goes from 8.3 to 14.8 MiB, and the first block of each
//! language in a build pays 17–86 ms to compile its tree-sitter queries (Rust 75 ms).
//!
//! Output is deterministic: lumis's time budget (which would fall back to plain text
//! depending on machine speed) is switched off; its match limit (which keeps
//! tree-sitter linear) stays, and blocks over [`MAX_HIGHLIGHTED_BYTES`] are left plain.

use lumis::highlight::{Budget, HighlightOptions};
use lumis::html::HtmlStructure;
use lumis::languages::Language;
use lumis::HtmlLinkedBuilder;

use crate::markup::escape_markup;

/// Blocks larger than this are shown as plain text: highlighting is linear, but a
/// stranger's megabyte of code should not decide how long a build takes.
pub(crate) const MAX_HIGHLIGHTED_BYTES: usize = 256 * 1024;

/// Blocks nested deeper than this (brackets and tags) are shown as plain text:
/// highlighting time grows with the square of the depth (5,000 nested HTML tags took
/// over a minute, 20,000 nested JSON arrays nearly as long), while real code stays
/// well under a few dozen levels. A count, not a clock, so output stays deterministic.
pub(crate) const MAX_NESTING: usize = 100;

/// The HTML of one code block: a keyboard-scrollable `<pre>` named after its language,
/// holding the code as classed spans, or escaped plain text when the language is
/// unknown, missing, or the block is too large.
pub(crate) fn code_block(info: Option<&str>, code: &str) -> String {
    let lang = fence_language(info);
    // CommonMark ends lines with LF, CRLF or a lone CR; one ending keeps output the same
    // whichever the note was saved with.
    let code = &normalize_line_endings(code);
    let mut html = String::with_capacity(code.len() * 2 + 96);
    html.push_str("<pre tabindex=\"0\"");
    match lang {
        Some(l) => {
            let l = escape_markup(l);
            html.push_str(&format!(
                " aria-label=\"Code: {l}\"><code class=\"language-{l}\">"
            ));
        }
        None => html.push_str(" aria-label=\"Code\"><code>"),
    }
    match lang.and_then(language).and_then(|l| spans(l, code)) {
        Some(spans) => html.push_str(&spans),
        None => html.push_str(&escape_markup(code)),
    }
    html.push_str("</code></pre>\n");
    html
}

/// Whether [`code_block`] gives this block classed spans rather than escaped text:
/// a compiled-in language and a block within the bounds. Only such blocks cost enough
/// to be worth keeping between builds.
pub(crate) fn is_highlighted(info: Option<&str>, code: &str) -> bool {
    fence_language(info).and_then(language).is_some() && within_bounds(code)
}

/// The language word of a fence's info string, which may carry more: "rust,ignore",
/// "sh title=x".
fn fence_language(info: Option<&str>) -> Option<&str> {
    info.and_then(|i| i.split([' ', '\t', ',', '{']).next())
        .filter(|l| !l.is_empty())
}

/// Not empty, and neither too large nor nested too deep to highlight.
fn within_bounds(code: &str) -> bool {
    !code.is_empty() && code.len() <= MAX_HIGHLIGHTED_BYTES && nesting(code) <= MAX_NESTING
}

fn normalize_line_endings(code: &str) -> String {
    code.replace("\r\n", "\n").replace('\r', "\n")
}

/// The grammar for a fence's language name, if one is compiled in.
fn language(name: &str) -> Option<Language> {
    let lower = name.to_ascii_lowercase();
    let name = match lower.as_str() {
        // A console transcript is shell commands with prompts; bash reads it well.
        "console" | "shell" | "sh" | "zsh" | "shell-session" | "shellsession" => "bash",
        "containerfile" | "docker" => "dockerfile",
        other => other,
    };
    match name.parse::<Language>() {
        Ok(Language::PlainText) | Err(_) => None,
        Ok(l) => Some(l),
    }
}

/// The deepest nesting of brackets and markup tags in `code`, counted in one pass.
/// Unbalanced text (a lone `)` in a string) only makes the count smaller.
fn nesting(code: &str) -> usize {
    let bytes = code.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied().unwrap_or(0);
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b'<' if next.is_ascii_alphabetic() => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'<' if next == b'/' => depth = depth.saturating_sub(1),
            b'/' if next == b'>' => depth = depth.saturating_sub(1),
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    deepest
}

/// The code as lumis's classed token spans, or `None` to fall back to plain text.
fn spans(language: Language, code: &str) -> Option<String> {
    if !within_bounds(code) {
        return None;
    }
    let formatter = HtmlLinkedBuilder::new()
        .language(language)
        .structure(HtmlStructure::Inline)
        .build()
        .ok()?;
    let options = HighlightOptions::new().budget(Budget::new().time_limit(None));
    let mut out = Vec::with_capacity(code.len() * 3);
    lumis::write_highlight_with_options(&mut out, code, formatter, options).ok()?;
    let mut html = String::from_utf8(out).ok()?;
    // lumis drops the final newline (a block's last line has no terminator); keep the
    // text exactly as written, like the plain path.
    if code.ends_with('\n') {
        html.push('\n');
    }
    Some(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classed_spans_and_unknown_ones_plain_text() {
        let html = code_block(Some("rust"), "fn main() {}\n");
        assert!(html.starts_with("<pre tabindex=\"0\" aria-label=\"Code: rust\">"));
        assert!(
            html.contains("<span class=\"l-keyword-function\">fn</span>"),
            "{html}"
        );
        assert!(!html.contains("style="));
        let plain = code_block(Some("nope"), "<b>&\n");
        assert!(plain.contains("<code class=\"language-nope\">&lt;b&gt;&amp;\n</code>"));
        let none = code_block(None, "x\n");
        assert_eq!(
            none,
            "<pre tabindex=\"0\" aria-label=\"Code\"><code>x\n</code></pre>\n"
        );
    }

    #[test]
    fn fence_extras_and_aliases() {
        for info in ["rust,ignore", "rust title=x", "Rust"] {
            assert!(
                code_block(Some(info), "fn x() {}").contains("l-keyword"),
                "{info}"
            );
        }
        for alias in ["console", "sh", "shell", "Containerfile", "js", "yml", "py"] {
            assert!(language(alias).is_some(), "{alias}");
        }
    }

    /// The text inside the tags, unescaped: what a reader sees.
    fn visible_text(html: &str) -> String {
        let mut text = String::new();
        let mut inside_tag = false;
        for c in html.chars() {
            match c {
                '<' => inside_tag = true,
                '>' if inside_tag => inside_tag = false,
                c if !inside_tag => text.push(c),
                _ => {}
            }
        }
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }

    /// Cases the property below once shrank to: kept as plain examples.
    #[test]
    fn empty_code_and_line_endings_keep_their_text() {
        for code in ["", "\r\n", "\n\r"] {
            for lang in ["rust", "sh", "nope"] {
                let html = code_block(Some(lang), code);
                let shown = visible_text(html.strip_suffix('\n').unwrap());
                assert_eq!(shown, normalize_line_endings(code), "{lang} {code:?}");
            }
        }
    }

    proptest::proptest! {
        // Failures are shrunk and reported, not written beside the sources.
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 32,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]
        /// Whatever the code, every language gives back exactly its text, escaped once,
        /// without panicking (release builds abort on panic).
        #[test]
        fn any_code_keeps_its_text(code in "[ -~\t\n\r\u{e9}\u{1F600}]{0,200}") {
            for lang in [
                "rust", "python", "sh", "dockerfile", "toml", "yaml", "json", "sql", "html",
                "css", "javascript", "diff", "nope",
            ] {
                let html = code_block(Some(lang), &code);
                let shown = visible_text(html.strip_suffix('\n').unwrap());
                proptest::prop_assert_eq!(shown, normalize_line_endings(&code), "{}", lang);
                proptest::prop_assert!(!html.contains("style="));
            }
        }
    }

    #[test]
    fn deeply_nested_blocks_stay_plain() {
        let ok = format!("{}1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(code_block(Some("rust"), &ok).contains("<span"));
        let deep = format!(
            "{}1{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(!code_block(Some("rust"), &deep).contains("<span"));
        assert_eq!(nesting("<p><b>x</b><br/></p> [1, {2}]"), 2);
    }

    #[test]
    fn huge_blocks_stay_plain() {
        let code = "let x = 1;\n".repeat(MAX_HIGHLIGHTED_BYTES / 10);
        assert!(!code_block(Some("rust"), &code).contains("<span"));
    }
}
