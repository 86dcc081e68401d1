//! Code highlighting and callouts in notes, through the real binary on the frozen
//! fixture site plus `tests/fixtures/notes-code/`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;

/// The frozen site with the code fixture notes added, built.
fn built_code_site() -> tempfile::TempDir {
    let site = code_site();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    site
}

fn code_page(site: &Path) -> String {
    std::fs::read_to_string(site.join("public/notes/code-in-many-languages/index.html")).unwrap()
}

/// The `<pre>…</pre>` whose accessible name is `Code: <lang>`.
fn block<'a>(html: &'a str, lang: &str) -> &'a str {
    let marker = format!("aria-label=\"Code: {lang}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no code block labelled {lang:?} in:\n{html}"));
    let start = html[..at].rfind("<pre").unwrap();
    let end = at + html[at..].find("</pre>").unwrap() + "</pre>".len();
    &html[start..end]
}

/// Every class on a `<span>` inside the code blocks of `html`.
fn span_classes(html: &str) -> BTreeSet<String> {
    let mut classes = BTreeSet::new();
    for piece in html.split("<span class=\"").skip(1) {
        let value = piece.split('"').next().unwrap();
        classes.extend(value.split_whitespace().map(str::to_string));
    }
    classes
}

fn stylesheet(site: &Path) -> String {
    let css = std::fs::read_dir(site.join("public/static"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("style.") && name.ends_with(".css")
        })
        .expect("a fingerprinted stylesheet");
    std::fs::read_to_string(css).unwrap()
}

#[test]
fn code_blocks_are_highlighted_with_classes_per_language() {
    let site = built_code_site();
    let html = code_page(site.path());
    for lang in [
        "rust",
        "python",
        "sh",
        "console",
        "bash",
        "dockerfile",
        "Containerfile",
        "toml",
        "yaml",
        "json",
        "sql",
        "html",
        "css",
        "javascript",
        "diff",
    ] {
        let b = block(&html, lang);
        assert!(
            b.contains("<span class=\"l-"),
            "{lang}: no highlight spans in {b}"
        );
        assert!(b.contains("tabindex=\"0\""), "{lang}: not focusable: {b}");
    }
    // A keyword, a string and a number each get their own class, not just one colour.
    let rust = block(&html, "rust");
    assert!(
        rust.contains("<span class=\"l-keyword-function\">fn</span>"),
        "{rust}"
    );
    assert!(rust.contains("<span class=\"l-string\">"), "{rust}");
    let json = block(&html, "json");
    assert!(
        json.contains("<span class=\"l-number\">70.65</span>"),
        "{json}"
    );
    // The text is all still there, escaped once.
    assert!(block(&html, "html").contains("&lt;"), "{html}");
    assert!(!block(&html, "html").contains("&amp;lt;"), "{html}");
}

#[test]
fn no_inline_styles_anywhere_in_the_built_site() {
    let site = built_code_site();
    for (name, bytes) in snapshot(&site.path().join("public")) {
        if name.ends_with(".html") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(!text.contains(" style="), "{name} has an inline style");
        }
    }
}

#[test]
fn unknown_or_missing_language_is_escaped_plain_text() {
    let site = built_code_site();
    let html = code_page(site.path());
    let unknown = block(&html, "klingon");
    assert!(
        unknown
            .contains("&lt;script&gt;alert(&quot;not highlighted&quot;)&lt;/script&gt; &amp; more"),
        "{unknown}"
    );
    assert!(!unknown.contains("<span"), "{unknown}");
    assert!(!html.contains("<script>"), "a raw script tag leaked");
    let plain = html
        .split("<pre")
        .skip(1)
        .map(|b| &b[..b.find("</pre>").unwrap()])
        .find(|b| b.contains("no language"))
        .expect("the block without a language");
    assert!(plain.contains("aria-label=\"Code\""), "{plain}");
    assert!(plain.contains("tabindex=\"0\""), "{plain}");
    assert!(
        plain.contains("&lt;script&gt;alert(&quot;no language&quot;)&lt;/script&gt;"),
        "{plain}"
    );
    assert!(!plain.contains("<span"), "{plain}");
}

#[test]
fn callouts_render_with_their_class_and_title() {
    let site = built_code_site();
    let html = code_page(site.path());
    for (kind, title, text) in [
        ("note", "Note", "Prices are set by the STC."),
        ("tip", "Tip", "Run <code>petrol-watch check</code> first."),
        ("important", "Important", "Keep the CSV sorted or not"),
        ("warning", "Warning", "A failed build leaves the old site."),
        (
            "caution",
            "Caution",
            "<code>price remove</code> deletes a row.",
        ),
    ] {
        let open = format!("<div class=\"callout callout-{kind}\" role=\"note\">");
        let at = html
            .find(&open)
            .unwrap_or_else(|| panic!("no {kind} callout in:\n{html}"));
        let rest = &html[at..];
        let body = &rest[..rest.find("</div>").unwrap()];
        assert!(
            body.contains(&format!("<p class=\"callout-title\">{title}</p>")),
            "{body}"
        );
        assert!(body.contains(text), "{body}");
        assert!(!body.contains("[!"), "{body}");
    }
    assert!(
        html.contains("<blockquote>\n<p>A plain quote stays a plain quote.</p>"),
        "{html}"
    );
}

#[test]
fn stylesheet_colours_every_highlight_class_in_light_and_dark() {
    let site = built_code_site();
    let html = code_page(site.path());
    let css = stylesheet(site.path());
    let (light, dark) = css
        .split_once("@media (prefers-color-scheme: dark)")
        .expect("a dark block");
    let used: BTreeSet<String> = span_classes(&html)
        .into_iter()
        .filter(|c| c.starts_with("l-"))
        .collect();
    assert!(used.len() >= 6, "too few highlight classes: {used:?}");
    let mut coloured = 0;
    for class in &used {
        // The rule for the longest `[class^="…"]` prefix of this class, if any.
        let rule = css
            .match_indices("[class^=\"")
            .filter_map(|(at, _)| {
                let rest = &css[at + 9..];
                let prefix = &rest[..rest.find('"')?];
                class.starts_with(prefix).then_some((prefix.len(), at))
            })
            .max()
            .map(|(_, at)| {
                let rule = &css[at..];
                &rule[rule.find('{').unwrap()..rule.find('}').unwrap()]
            });
        let Some(rule) = rule else { continue };
        let Some(var) = rule.split("var(").nth(1).and_then(|v| v.split(')').next()) else {
            continue;
        };
        coloured += 1;
        assert!(
            light.contains(&format!("{var}:")),
            "{var} not set for light"
        );
        assert!(dark.contains(&format!("{var}:")), "{var} not set for dark");
    }
    assert!(
        coloured >= 10,
        "the stylesheet colours only {coloured} of {used:?}"
    );
    for family in [
        "l-keyword",
        "l-string",
        "l-number",
        "l-comment",
        "l-function",
    ] {
        assert!(css.contains(&format!("[class^=\"{family}\"]")), "{family}");
    }
    for kind in ["note", "tip", "important", "warning", "caution"] {
        let var = format!("--callout-{kind}:");
        assert!(light.contains(&var) && dark.contains(&var), "{var}");
    }
}

#[test]
fn highlighted_pages_are_deterministic() {
    let a = built_code_site();
    let b = built_code_site();
    assert_eq!(code_page(a.path()), code_page(b.path()));
}

#[test]
fn huge_and_deeply_nested_blocks_build_in_bounded_time() {
    let site = frozen_site();
    // Over 256 KiB, or nested thousands deep (highlighting time grows with the square
    // of the depth: a minute for 5,000 nested tags): shown plain, promptly.
    let huge = "let x = 1;\n".repeat(300 * 1024 / 11);
    let nested_rust = format!(
        "fn f() {{ {}1{} }}\n",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    let nested_json = format!("{}{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let nested_html = format!("{}x{}\n", "<b>".repeat(5_000), "</b>".repeat(5_000));
    let note = format!(
        "+++\ntitle = \"Big code\"\ndate = 2026-05-11\n+++\n\n```rust\n{huge}```\n\n\
         ```rust\n{nested_rust}```\n\n```json\n{nested_json}```\n\n```html\n{nested_html}```\n"
    );
    std::fs::write(site.path().join("content/notes/big-code.md"), note).unwrap();
    let limit = std::time::Duration::from_secs(30);
    let (out, took) = run_within(site.path(), &["build"], limit);
    assert!(out.status.success(), "{}", stderr(&out));
    let html =
        std::fs::read_to_string(site.path().join("public/notes/big-code/index.html")).unwrap();
    let blocks: Vec<&str> = html
        .split("<pre")
        .skip(1)
        .map(|b| &b[..b.find("</pre>").unwrap()])
        .collect();
    assert_eq!(blocks.len(), 4);
    assert!(
        blocks[0].contains("let x = 1;\nlet x = 1;"),
        "not the huge block"
    );
    assert!(
        blocks[3].contains("&lt;b&gt;&lt;b&gt;"),
        "not the html block"
    );
    for b in &blocks {
        assert!(!b.contains("<span"), "a block past a bound was highlighted");
    }
    assert!(took < limit, "{took:?}");
}

/// The highlighted blocks a build made are kept beside the output: a build into an
/// emptied output reads every one of them (the cache file is not rewritten: nothing
/// was new), publishes the same bytes, and a damaged cache is highlighted again.
#[test]
fn highlighted_blocks_survive_an_emptied_output_through_the_cache() {
    use std::os::unix::fs::MetadataExt;
    let site = built_code_site();
    let root = site.path();
    let pack = root.join(".public.cache/code.pack");
    let first = snapshot(&root.join("public"));
    let made = std::fs::metadata(&pack).expect("the blocks were kept");
    assert!(made.len() > 1_000, "{} bytes", made.len());

    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(snapshot(&root.join("public")), first);
    let read = std::fs::metadata(&pack).unwrap();
    assert_eq!(
        (read.ino(), read.len()),
        (made.ino(), made.len()),
        "a block was highlighted again"
    );

    // One new block in an edit is added; the others stay though that build did not
    // look at them.
    let note = root.join("content/notes/code-in-many-languages.md");
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(
        &note,
        format!("{text}\n```toml\nadded = \"one block\"\n```\n"),
    )
    .unwrap();
    build_ok(root, "public");
    let grown = std::fs::metadata(&pack).unwrap().len();
    assert!(grown > made.len(), "{grown} bytes");
    // A build into an emptied output sees every block: the removed one goes.
    std::fs::write(&note, &text).unwrap();
    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(std::fs::metadata(&pack).unwrap().len(), made.len());

    // Every byte past the header (magic, program, count) changed: the blocks are
    // highlighted again, the same.
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[28..] {
        *b ^= 0x55;
    }
    std::fs::write(&pack, &bytes).unwrap();
    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(snapshot(&root.join("public")), first);
}
