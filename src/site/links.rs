//! Link checking for `check`: every internal link and asset reference in the rendered
//! HTML must name a file the build produces.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, StartTag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::output::Sink;
use super::plan::{Job, Plan};
use crate::error::{Error, Result};
use crate::notes::Note;

/// Keeps every rendered file's path, and the text of HTML pages, in memory.
#[derive(Default)]
pub(crate) struct CollectingSink {
    files: Mutex<BTreeMap<String, Option<String>>>,
}

impl Sink for CollectingSink {
    fn put(&self, path: &str, bytes: &[u8]) -> Result<()> {
        let html = path
            .ends_with(".html")
            .then(|| String::from_utf8_lossy(bytes).into_owned());
        self.files
            .lock()
            .expect("not poisoned")
            .insert(path.to_string(), html);
        Ok(())
    }
}

impl CollectingSink {
    /// Reports each page and link that resolves to nothing. `base_url` marks absolute
    /// links (canonical, OpenGraph) that point into the site itself. `source` names
    /// the input a page's link comes from, and its line when known (a note's own
    /// link): that is what the author edits; other links are named by their page.
    pub(crate) fn check_links_with_base(
        &self,
        base_url: &str,
        source: &LinkSource<'_>,
    ) -> Result<()> {
        let files = self.files.lock().expect("not poisoned");
        let mut errors = Vec::new();
        for (page, html) in files.iter() {
            let Some(html) = html else { continue };
            for link in links_in(html) {
                let link = link.as_str();
                if let Some(target) = internal_target(page, link, base_url) {
                    if !resolves(&files, &target) {
                        errors.push(match source(page, link) {
                            Some((file, line)) => {
                                let message = format!(
                                    "broken link {link:?} on {page}: the site has no {target}"
                                );
                                match line {
                                    Some(line) => Error::at(&file, line, message),
                                    None => Error::in_file(&file, message),
                                }
                            }
                            None => Error::in_file(
                                Path::new(page),
                                format!("broken link {link:?}: the site has no {target}"),
                            ),
                        });
                    }
                }
            }
        }
        Error::collect(errors)
    }
}

/// Which note each note page is, for naming a broken link there at the note's line
/// that writes it (or the note, when its template writes it). A note's links are read
/// once, when the first of them is broken.
pub(crate) struct NoteSources<'a> {
    notes: HashMap<&'a str, &'a Note>,
    link_lines: RefCell<HashMap<&'a str, HashMap<String, usize>>>,
}

impl<'a> NoteSources<'a> {
    pub(crate) fn new(plan: &'a Plan<'a>, notes: &'a [Note]) -> NoteSources<'a> {
        NoteSources {
            notes: plan
                .outputs
                .iter()
                .filter_map(|o| match o.job {
                    Job::Note(i) => Some((o.path.as_str(), &notes[i])),
                    _ => None,
                })
                .collect(),
            link_lines: RefCell::default(),
        }
    }

    /// The note `page` is made from and the line writing `link`, if it is a note's page.
    pub(crate) fn source(&self, page: &str, link: &str) -> Option<(PathBuf, Option<usize>)> {
        let (page, note) = self.notes.get_key_value(page)?;
        let line = self
            .link_lines
            .borrow_mut()
            .entry(page)
            .or_insert_with(|| note.link_lines())
            .get(link)
            .copied();
        Some((note.path.clone(), line))
    }
}

/// For a page and a link on it: the input file the link comes from, and its line.
pub(crate) type LinkSource<'a> = dyn Fn(&str, &str) -> Option<(PathBuf, Option<usize>)> + 'a;

/// Every link and asset reference in a page: `a`/`link` `href`, `img`/`script` `src`,
/// `source` `srcset` and the `og:image` meta's `content`. Read from the tokenizer, not
/// a document tree: a tree builder's scope checks cost time in proportion to the
/// nesting depth at every tag, so a note nested 100,000 deep (`>>>>…`) kept `check`
/// busy for minutes, while tokens are linear in the page.
fn links_in(html: &str) -> Vec<String> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html));
    let tokenizer = Tokenizer::new(LinkSink::default(), TokenizerOpts::default());
    // The sink never hands back a script to run, so one feed reads the whole page.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.links.take()
}

#[derive(Default)]
struct LinkSink {
    links: RefCell<Vec<String>>,
}

impl TokenSink for LinkSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if tag.kind != StartTag {
            return TokenSinkResult::Continue;
        }
        let attr = |name: &str| {
            tag.attrs
                .iter()
                .find(|a| &*a.name.local == name)
                .map(|a| a.value.to_string())
        };
        let name: &str = &tag.name;
        let link = match name {
            "a" | "link" => attr("href"),
            "img" | "script" => attr("src"),
            "meta" if attr("property").as_deref() == Some("og:image") => attr("content"),
            _ => None,
        };
        self.links.borrow_mut().extend(link);
        if matches!(name, "img" | "source") {
            if let Some(srcset) = attr("srcset") {
                self.links.borrow_mut().extend(srcset_urls(&srcset));
            }
        }
        // What the tree builder would tell the tokenizer: these elements' text is not
        // markup, so a `<a href>` inside a script is not a link.
        match name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

/// The URLs of a `srcset`: comma-separated candidates, each a URL and an optional
/// width or density (`a.webp 480w, b.webp 960w`). The site's URLs hold no commas or
/// spaces, so splitting on them is exact for what the build writes.
fn srcset_urls(srcset: &str) -> Vec<String> {
    srcset
        .split(',')
        .filter_map(|candidate| candidate.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The site path a link points to, or `None` for external links and fragments.
fn internal_target(page: &str, link: &str, base_url: &str) -> Option<String> {
    let link = link.trim();
    let link = match link.strip_prefix(base_url).filter(|_| !base_url.is_empty()) {
        Some(rest) => {
            if rest.is_empty() {
                "/"
            } else {
                rest
            }
        }
        None => link,
    };
    if link.is_empty()
        || link.starts_with('#')
        || link.starts_with("//")
        || link.contains("://")
        || link.starts_with("mailto:")
        || link.starts_with("data:")
    {
        return None;
    }
    let path = link.split(['#', '?']).next().unwrap_or("");
    let absolute = if path.starts_with('/') {
        path.to_string()
    } else {
        let dir = page.rsplit_once('/').map_or("", |(d, _)| d);
        format!("/{dir}/{path}")
    };
    // Normalise `.` and `..` segments. An empty segment (`/tags//`) is kept: the
    // server maps it to no file, and `check` must agree with it.
    let mut parts: Vec<&str> = Vec::new();
    let inner = absolute.strip_prefix('/').unwrap_or(&absolute);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    for seg in inner.split('/') {
        match seg {
            "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    let mut target = format!("/{}", parts.join("/"));
    if absolute.ends_with('/') && target != "/" {
        target.push('/');
    }
    Some(target)
}

fn resolves(files: &BTreeMap<String, Option<String>>, target: &str) -> bool {
    let rel = target.trim_start_matches('/');
    if target.ends_with('/') {
        return files.contains_key(&format!("{rel}index.html"));
    }
    files.contains_key(rel) || files.contains_key(&format!("{rel}/index.html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_broken_links_and_ignores_external_ones() {
        let sink = CollectingSink::default();
        sink.put("index.html", br#"<a href="/notes/">n</a><a href="notes/a/">a</a><a href="https://x.org/">x</a><a href="http://site/notes/">abs</a><img src="/missing.png"><meta property="og:image" content="http://site/share/gone.png">"#).unwrap();
        sink.put(
            "notes/index.html",
            br#"<a href="../">up</a><a href="b/#top">b</a>"#,
        )
        .unwrap();
        sink.put("notes/a/index.html", b"").unwrap();
        let err = sink
            .check_links_with_base("http://site", &|_, _| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("index.html: broken link \"/missing.png\""),
            "{err}"
        );
        assert!(
            err.contains("notes/index.html: broken link \"b/#top\": the site has no /notes/b/"),
            "{err}"
        );
        assert!(
            err.contains("index.html: broken link \"http://site/share/gone.png\""),
            "a link preview image that is not in the site: {err}"
        );
        assert_eq!(err.lines().count(), 3, "{err}");
    }

    #[test]
    fn every_srcset_candidate_is_a_link() {
        let sink = CollectingSink::default();
        sink.put("a.webp", b"").unwrap();
        sink.put("b.webp", b"").unwrap();
        sink.put(
            "index.html",
            br#"<picture><source srcset="/a.webp 480w, /b.webp 960w"><img src="/a.webp" srcset="/a.webp 1x,/gone.jpg 2x"></picture>"#,
        )
        .unwrap();
        let err = sink
            .check_links_with_base("", &|_, _| None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "index.html: broken link \"/gone.jpg\": the site has no /gone.jpg"
        );
    }
}
