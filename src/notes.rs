//! Workshop notes: `content/notes/*.md` files with TOML front matter between `+++`
//! lines, and their markdown rendered to HTML with heading anchors.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use pulldown_cmark::{
    BlockQuoteKind, CodeBlockKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd,
};
use serde::Deserialize;

use crate::error::{line_of, read_utf8, Error, Result};

#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub(crate) slug: String,
    pub(crate) title: String,
    pub(crate) date: NaiveDate,
    pub(crate) updated: Option<NaiveDate>,
    pub(crate) description: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) draft: bool,
    pub(crate) path: PathBuf,
    /// The markdown after the front matter.
    pub(crate) body: String,
    /// The file's line where `body` starts (front matter counted), for messages about
    /// the body after it has been rewritten (images, shortcodes) and no longer matches
    /// the file.
    pub(crate) body_line: usize,
    /// Counted when first asked for: a warm build that renders nothing need not
    /// count every note's words.
    words: std::sync::OnceLock<usize>,
    /// `toc = true/false` from the front matter; unset means "when it has three or
    /// more sections".
    pub(crate) toc: Option<bool>,
    /// Old addresses of a renamed note, normalised (`/old/path/`), each answered with
    /// a redirect to the note.
    pub(crate) aliases: Vec<Alias>,
}

impl Note {
    /// Each link and image address the body writes, as its page's HTML has it
    /// (escaped as the Markdown renderer writes an `href`), with the line of the
    /// note's file that first writes it. One pass over the body: `check` asks this
    /// for a note with a broken link, whatever the number of links.
    pub(crate) fn link_lines(&self) -> HashMap<String, usize> {
        let mut lines = HashMap::new();
        // Links start in the order of the text: line breaks are counted once, on.
        let (mut counted, mut line) = (0, self.body_line);
        for (event, range) in Parser::new_ext(&self.body, markdown_options()).into_offset_iter() {
            if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = event {
                if range.start > counted {
                    line += memchr::memchr_iter(b'\n', &self.body.as_bytes()[counted..range.start])
                        .count();
                    counted = range.start;
                }
                let mut href = String::new();
                let _ = pulldown_cmark_escape::escape_href(&mut href, &dest_url);
                lines.entry(href).or_insert(line);
            }
        }
        lines
    }

    /// The line of the note's file at byte `offset` of its body (front matter
    /// counted). Images and shortcodes are rewritten keeping the body's line count, so
    /// this holds after them too.
    pub(crate) fn line_at(&self, offset: usize) -> usize {
        self.body_line
            + self.body[..offset.min(self.body.len())]
                .matches('\n')
                .count()
    }
}

/// An old address of a note: a clean site path, and the front-matter line naming it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Alias {
    pub(crate) path: String,
    pub(crate) line: usize,
}

impl Note {
    /// The body's words, as whitespace separates them.
    pub(crate) fn words(&self) -> usize {
        *self
            .words
            .get_or_init(|| self.body.split_whitespace().count())
    }

    /// Minutes at 200 words a minute, never 0.
    pub(crate) fn reading_minutes(&self) -> usize {
        self.words().div_ceil(200).max(1)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    title: Option<String>,
    date: Option<DateField>,
    updated: Option<DateField>,
    description: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    draft: bool,
    slug: Option<String>,
    toc: Option<bool>,
    #[serde(default)]
    aliases: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DateField {
    Toml(toml::value::Datetime),
    Text(String),
}

impl DateField {
    fn to_date(&self) -> Option<NaiveDate> {
        match self {
            DateField::Toml(dt) => {
                let d = dt.date?;
                NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32)
            }
            DateField::Text(s) => crate::data::parse_date(s.trim()),
        }
    }
}

/// Parses one note. `path` names the file in messages; the slug is its file stem
/// unless the front matter sets `slug`.
pub(crate) fn parse_note(text: &str, path: &Path) -> Result<Note> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("+++")
        .filter(|r| r.starts_with('\n') || r.starts_with("\r\n"))
    else {
        return Err(Error::at(
            path,
            1,
            "missing front matter: a note starts with a `+++` line, then TOML, then `+++`",
        ));
    };
    let fm_start = text.len() - rest.len();
    let close = find_closing_fence(rest).ok_or_else(|| {
        Error::at(
            path,
            1,
            "front matter opened with `+++` is never closed by a second `+++` line",
        )
    })?;
    let front = &rest[..close];
    let after = &rest[close..];
    let body = after.split_once('\n').map_or("", |(_, b)| b);
    // Line numbers in TOML errors count from the opening `+++`.
    let at = |offset: usize| line_of(text, fm_start + offset);

    let fm: FrontMatter = toml::from_str(front).map_err(|e| {
        let line = e.span().map_or(1, |s| at(s.start));
        Error::at(
            path,
            line,
            format!("invalid front matter TOML: {}", e.message().trim()),
        )
    })?;
    let key_line = |key: &str| {
        front
            .lines()
            .scan(0usize, |off, l| {
                let start = *off;
                *off += l.len() + 1;
                Some((start, l))
            })
            .find(|(_, l)| l.trim_start().starts_with(key))
            .map_or(1, |(off, _)| at(off))
    };
    let title = fm
        .title
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Error::at(path, 1, "front matter has no `title`"))?;
    let date = match &fm.date {
        None => {
            return Err(Error::at(
                path,
                1,
                "front matter has no `date` (want date = 2026-04-16)",
            ))
        }
        Some(d) => d.to_date().ok_or_else(|| {
            Error::at(
                path,
                key_line("date"),
                "`date` is not a real calendar date (want YYYY-MM-DD)",
            )
        })?,
    };
    let updated = match &fm.updated {
        None => None,
        Some(d) => Some(d.to_date().ok_or_else(|| {
            Error::at(
                path,
                key_line("updated"),
                "`updated` is not a real calendar date (want YYYY-MM-DD)",
            )
        })?),
    };
    let slug = match fm.slug {
        Some(s) => s,
        None => default_slug(path),
    };
    // The `slug` key's line, or line 1 when the slug is the file name.
    let slug_line = key_line("slug");
    match crate::slug::checked(&slug) {
        Ok(s) if s == slug => {}
        Ok(s) => {
            return Err(Error::at(
                path,
                slug_line,
                format!("slug {slug:?} must be lowercase letters, digits and `-` (want {s:?})"),
            ))
        }
        Err(why) => return Err(Error::at(path, slug_line, format!("slug {why}"))),
    }
    // One tag per slug: `Prices`, `prices` and `PRICES` are one tag, spelled as first
    // written.
    let mut tags: Vec<String> = Vec::with_capacity(fm.tags.len());
    let mut tag_slugs = HashSet::with_capacity(fm.tags.len());
    for t in fm.tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        let slug = crate::slug::checked(t)
            .map_err(|why| Error::at(path, key_line("tags"), format!("tag {why}")))?;
        if tag_slugs.insert(slug) {
            tags.push(t.to_string());
        }
    }
    let aliases = checked_aliases(&fm.aliases, path, key_line("aliases"))?;
    Ok(Note {
        toc: fm.toc,
        aliases,
        slug,
        title,
        date,
        updated,
        description: fm.description,
        tags,
        draft: fm.draft,
        path: path.to_path_buf(),
        words: std::sync::OnceLock::new(),
        body_line: line_of(text, text.len() - body.len()),
        body: body.to_string(),
    })
}

// ---- Aliases: old addresses of a renamed note. ----

/// The most aliases one note may have: each is a page and a redirect line.
pub(crate) const MAX_ALIASES: usize = 64;
/// The longest alias accepted, in bytes.
const MAX_ALIAS_LEN: usize = 200;

/// Each alias as a clean absolute site path: `/`-separated segments of letters,
/// digits, `-`, `_`, `.` and `~` (none empty, none starting with `.`), so it needs no
/// escaping in a URL, a file name or the redirect list. A path without a trailing
/// `/` names a folder unless it ends in `.html`: `/old` becomes `/old/`.
fn checked_aliases(raw: &[String], path: &Path, line: usize) -> Result<Vec<Alias>> {
    if raw.len() > MAX_ALIASES {
        return Err(Error::at(
            path,
            line,
            format!("{} aliases: at most {MAX_ALIASES} are allowed", raw.len()),
        ));
    }
    raw.iter()
        .map(|a| {
            let bad = |why: &str| {
                Error::at(
                    path,
                    line,
                    format!(
                        "alias {a:?} {why} (want a clean absolute path such as \"/old/path/\")"
                    ),
                )
            };
            if a.len() > MAX_ALIAS_LEN {
                return Err(bad(&format!("is over {MAX_ALIAS_LEN} bytes")));
            }
            let Some(rest) = a.strip_prefix('/') else {
                return Err(bad("does not start with `/`"));
            };
            let trimmed = rest.strip_suffix('/').unwrap_or(rest);
            if trimmed.is_empty() {
                return Err(bad("is the home page"));
            }
            for segment in trimmed.split('/') {
                if segment.is_empty() {
                    return Err(bad("has an empty segment (`//`)"));
                }
                if segment.starts_with('.') {
                    return Err(bad("has a segment starting with `.`"));
                }
                if let Some(c) = segment
                    .chars()
                    .find(|c| !(c.is_ascii_alphanumeric() || "-_.~".contains(*c)))
                {
                    return Err(bad(&format!("has the character {c:?}")));
                }
            }
            let clean = if rest.ends_with('/') || trimmed.ends_with(".html") {
                a.clone()
            } else {
                format!("{a}/")
            };
            Ok(Alias { path: clean, line })
        })
        .collect()
}

/// A file note's slug is its file name; a folder note's (`<slug>/index.md`, beside its
/// images) is its folder's name.
fn default_slug(path: &Path) -> String {
    let name = if path.file_name().is_some_and(|n| n == "index.md") {
        path.parent().and_then(Path::file_name)
    } else {
        path.file_stem()
    };
    name.unwrap_or_default().to_string_lossy().to_string()
}

/// Offset in `s` of a line that is exactly `+++`.
fn find_closing_fence(s: &str) -> Option<usize> {
    let mut offset = 0;
    for line in s.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "+++" {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// Loads every note under `dir` (recursively), in parallel, newest first. Drafts are
/// kept only when `drafts` is true. All broken notes are reported together.
pub(crate) fn load_notes(dir: &Path, drafts: bool) -> Result<Vec<Note>> {
    use rayon::prelude::*;
    let mut paths = Vec::new();
    if dir.is_dir() {
        for entry in walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name()
        {
            let entry = entry.map_err(|e| Error::io(dir, e.into()))?;
            let p = entry.path();
            if entry.file_type().is_file()
                && p.extension().is_some_and(|e| e == "md")
                && !crate::data::is_hidden(p)
            {
                paths.push(p.to_path_buf());
            }
        }
    }
    let results: Vec<Result<Note>> = paths
        .par_iter()
        .map(|p| parse_note(&read_utf8(p)?, p))
        .collect();
    let mut notes = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(n) => notes.push(n),
            Err(e) => errors.push(e),
        }
    }
    let mut seen: HashMap<&str, &Path> = HashMap::new();
    for n in &notes {
        if let Some(other) = seen.insert(&n.slug, &n.path) {
            errors.push(Error::in_file(
                &n.path,
                format!("slug {:?} is also used by {}", n.slug, other.display()),
            ));
        }
    }
    Error::collect(errors)?;
    notes.retain(|n| drafts || !n.draft);
    notes.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.slug.cmp(&b.slug)));
    Ok(notes)
}

/// The plain text of the first paragraph, for summaries. Stops parsing there, so it
/// costs a fraction of a full render.
pub(crate) fn first_paragraph(markdown: &str) -> String {
    let mut text = String::new();
    let mut inside = false;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(Tag::Paragraph) => inside = true,
            // A paragraph without words (an image alone) sums nothing up: the next one.
            Event::End(TagEnd::Paragraph) if inside => {
                if !text.trim().is_empty() {
                    break;
                }
                text.clear();
                inside = false;
            }
            Event::Text(t) | Event::Code(t) if inside => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak if inside => text.push(' '),
            _ => {}
        }
    }
    text
}

/// The Markdown dialect of notes: one definition for rendering and for the scans that
/// find code (shortcodes) and images in a body, so they agree on what is what.
pub(crate) fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_GFM
}

/// A heading whose text is still being collected: level, explicit id, classes, inner events.
type OpenHeading<'a> = (
    HeadingLevel,
    Option<CowStr<'a>>,
    Vec<CowStr<'a>>,
    Vec<Event<'a>>,
);

/// The HTML of [`render_with_headings`], for tests of the dialect.
#[cfg(test)]
pub(crate) fn render_markdown(markdown: &str) -> String {
    render_with_headings(markdown, &crate::highlight::code_block).0
}

/// A note's body as every output shows it: the HTML (tables with row headers) and the
/// headings its contents list links to. The note's page and the site feed share one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Body {
    pub(crate) html: String,
    pub(crate) headings: Vec<Heading>,
}

/// How a fenced code block becomes HTML: [`crate::highlight::code_block`], or the same
/// answer remembered from an earlier build.
pub(crate) type CodeBlocks<'a> = &'a (dyn Fn(Option<&str>, &str) -> String + Sync);

pub(crate) fn render_body(markdown: &str, code_block: CodeBlocks) -> Body {
    let (html, headings) = render_with_headings(markdown, code_block);
    Body {
        html: crate::markup::row_headers(html),
        headings,
    }
}

/// A section heading of a note, for its table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub(crate) struct Heading {
    /// 2 or 3.
    pub(crate) level: u8,
    pub(crate) id: String,
    pub(crate) text: String,
}

/// A note's markdown as HTML: CommonMark + tables, footnotes, strikethrough, task
/// lists; every heading gets an `id` (its own `{#id}` or a slug of its text) and a
/// visible `#` link to itself. Also the h2 and h3 headings in order, with those ids.
pub(crate) fn render_with_headings(
    markdown: &str,
    code_block: CodeBlocks,
) -> (String, Vec<Heading>) {
    let mut headings: Vec<Heading> = Vec::new();
    let mut events: Vec<Event> = Vec::new();
    let mut used_ids: HashSet<String> = HashSet::new();
    // Per base id, the last suffix tried: each candidate is tried once, so 5,000
    // headings with one text cost 5,000 tries, not 12.5 million.
    let mut last_suffix: HashMap<String, usize> = HashMap::new();
    let mut heading: Option<OpenHeading> = None;
    // A fenced or indented code block being collected: its language and text.
    let mut code: Option<(Option<CowStr>, String)> = None;

    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) if !info.trim().is_empty() => Some(info),
                    _ => None,
                };
                code = Some((lang, String::new()));
            }
            Event::Text(t) if code.is_some() => {
                if let Some((_, text)) = &mut code {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let (lang, text) = code.take().unwrap_or_default();
                events.push(Event::Html(code_block(lang.as_deref(), &text).into()));
            }
            Event::Start(Tag::BlockQuote(Some(kind))) => {
                events.push(Event::Html(callout_start(kind).into()));
            }
            Event::End(TagEnd::BlockQuote(Some(_))) => {
                events.push(Event::Html("</div>\n".into()));
            }
            Event::Start(Tag::Heading {
                level, id, classes, ..
            }) => {
                heading = Some((level, id, classes, Vec::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                let (level, id, classes, inner) =
                    heading.take().expect("heading end without start");
                let text: String = inner
                    .iter()
                    .filter_map(|e| match e {
                        Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                        _ => None,
                    })
                    .collect();
                let base = id
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| crate::slug::slugify(&text));
                let base = if base.is_empty() {
                    "section".to_string()
                } else {
                    base
                };
                // Retry until unused: `a`, `a-1`, `a-2`…, skipping any taken by an
                // explicit `{#a-1}` or an earlier heading's text.
                let mut id = base.clone();
                if used_ids.contains(&id) {
                    let n = last_suffix.entry(base.clone()).or_insert(0);
                    loop {
                        *n += 1;
                        id = format!("{base}-{n}");
                        if !used_ids.contains(&id) {
                            break;
                        }
                    }
                }
                used_ids.insert(id.clone());
                if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                    headings.push(Heading {
                        level: if level == HeadingLevel::H2 { 2 } else { 3 },
                        id: id.clone(),
                        text: text.trim().to_string(),
                    });
                }
                let mut open = format!("<{level} id=\"{}\"", crate::markup::escape_markup(&id));
                if !classes.is_empty() {
                    let _ = write!(
                        open,
                        " class=\"{}\"",
                        crate::markup::escape_markup(&classes.join(" "))
                    );
                }
                open.push('>');
                events.push(Event::Html(open.into()));
                events.extend(inner);
                events.push(Event::Html(
                    format!(
                        "<a class=\"anchor\" href=\"#{}\" aria-label=\"Link to this section: {}\">#</a></{level}>\n",
                        crate::markup::escape_markup(&id),
                        crate::markup::escape_markup(text.trim())
                    )
                    .into(),
                ));
            }
            other => match &mut heading {
                Some((_, _, _, inner)) => inner.push(other),
                None => events.push(other),
            },
        }
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    (without_inline_styles(html), headings)
}

/// The table of contents a note shows: its h2 headings, each with the h3s under it,
/// when `toc = true`, or when unset and it has at least [`TOC_MIN_SECTIONS`] h2s.
/// An h3 before the first h2 is listed on its own.
pub(crate) fn table_of_contents(toc: Option<bool>, headings: &[Heading]) -> Vec<TocEntry> {
    let sections = headings.iter().filter(|h| h.level == 2).count();
    let show = match toc {
        Some(on) => on,
        None => sections >= TOC_MIN_SECTIONS,
    };
    if !show {
        return Vec::new();
    }
    let mut out: Vec<TocEntry> = Vec::new();
    // Whether the last top-level entry is an h2, which h3s then nest under.
    let mut in_section = false;
    for h in headings {
        let entry = TocEntry {
            id: h.id.clone(),
            text: h.text.clone(),
            children: Vec::new(),
        };
        match (h.level, out.last_mut()) {
            (3, Some(parent)) if in_section => parent.children.push(entry),
            (level, _) => {
                in_section = level == 2;
                out.push(entry);
            }
        }
    }
    out
}

/// Sections from which a note gets a table of contents without asking.
pub(crate) const TOC_MIN_SECTIONS: usize = 3;

/// One line of a table of contents, with its subsections.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub(crate) struct TocEntry {
    pub(crate) id: String,
    pub(crate) text: String,
    pub(crate) children: Vec<TocEntry>,
}

/// GitHub-style alerts (`> [!NOTE]` …) as a titled note rather than a quote.
fn callout_start(kind: BlockQuoteKind) -> String {
    let (class, title) = match kind {
        BlockQuoteKind::Note => ("note", "Note"),
        BlockQuoteKind::Tip => ("tip", "Tip"),
        BlockQuoteKind::Important => ("important", "Important"),
        BlockQuoteKind::Warning => ("warning", "Warning"),
        BlockQuoteKind::Caution => ("caution", "Caution"),
    };
    format!(
        "<div class=\"callout callout-{class}\" role=\"note\">\n<p class=\"callout-title\">{title}</p>\n"
    )
}

/// Table alignment comes out of pulldown-cmark as `style` attributes, which the
/// server's Content-Security-Policy (no inline styles) would block; classes do the same
/// job. Code blocks are safe: their quotes are escaped as `&quot;`.
fn without_inline_styles(html: String) -> String {
    if !html.contains(" style=\"text-align: ") {
        return html;
    }
    html.replace(" style=\"text-align: left\"", " class=\"align-left\"")
        .replace(" style=\"text-align: center\"", " class=\"align-center\"")
        .replace(" style=\"text-align: right\"", " class=\"align-right\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> Result<Note> {
        parse_note(text, Path::new("content/notes/x.md"))
    }

    #[test]
    fn parses_front_matter() {
        let n = note("+++\ntitle = \"Hi\"\ndate = 2026-04-16\ntags = [\"a\", \"b\"]\n+++\nSome words here.\n").unwrap();
        assert_eq!(
            (n.title.as_str(), n.date.to_string(), n.words()),
            ("Hi", "2026-04-16".into(), 3)
        );
        assert_eq!(n.tags, ["a", "b"]);
    }

    #[test]
    fn front_matter_errors_name_the_line() {
        let e = note("+++\ntitle = \"Hi\"\n").unwrap_err().to_string();
        assert!(e.contains("never closed"), "{e}");
        let e = note("+++\ntitle = \"Hi\"\ndate = 2026-04-16\nbad = = 1\n+++\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.md:4: invalid front matter TOML"), "{e}");
        let e = note("+++\ndate = 2026-04-16\n+++\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no `title`"), "{e}");
        let e = note("+++\ntitle = \"x\"\n\ndate = \"2026-02-30\"\n+++\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.md:4: `date` is not a real calendar date"),
            "{e}"
        );
    }

    #[test]
    fn headings_get_unique_anchors_and_code_is_escaped() {
        let md = "Intro *text*.\n\n## Hello World\n\n## Hello World\n\n```\n<b>\n```\n";
        let html = render_markdown(md);
        assert!(html.contains(
            "<h2 id=\"hello-world\">Hello World<a class=\"anchor\" href=\"#hello-world\""
        ));
        assert!(html.contains("id=\"hello-world-1\""));
        assert!(html.contains("&lt;b&gt;"));
        assert_eq!(first_paragraph(md), "Intro text.");
    }

    #[test]
    fn aliases_are_clean_paths_with_their_line() {
        let n = note("+++\ntitle = \"x\"\ndate = 2026-01-01\naliases = [\"/old\", \"/a/b.html\", \"/c/\"]\n+++\n").unwrap();
        let paths: Vec<&str> = n.aliases.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["/old/", "/a/b.html", "/c/"]);
        assert!(n.aliases.iter().all(|a| a.line == 4));
        let many: Vec<String> = (0..=MAX_ALIASES).map(|i| format!("\"/a{i}/\"")).collect();
        let e = note(&format!(
            "+++\ntitle = \"x\"\ndate = 2026-01-01\naliases = [{}]\n+++\n",
            many.join(",")
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("x.md:4:") && e.contains("at most 64"), "{e}");
        let long = format!("/{}/", "a".repeat(300));
        let e = note(&format!(
            "+++\ntitle = \"x\"\ndate = 2026-01-01\naliases = [\"{long}\"]\n+++\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("over 200 bytes"), "{e}");
    }

    #[test]
    fn contents_nest_h3_under_h2_only() {
        let (_, headings) = render_with_headings(
            "### Lead\n\n### Lead 2\n\n## A\n\n### A1\n\n#### deep\n\n## B\n",
            &crate::highlight::code_block,
        );
        let toc = table_of_contents(Some(true), &headings);
        let shape: Vec<(&str, usize)> = toc
            .iter()
            .map(|e| (e.text.as_str(), e.children.len()))
            .collect();
        assert_eq!(shape, [("Lead", 0), ("Lead 2", 0), ("A", 1), ("B", 0)]);
        assert!(table_of_contents(None, &headings).is_empty(), "two h2s");
        assert!(table_of_contents(Some(false), &headings).is_empty());
    }

    #[test]
    fn tables_use_classes_not_inline_styles() {
        let html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
        assert!(!html.contains("style="), "{html}");
        assert!(html.contains("class=\"align-right\""));
    }
}
