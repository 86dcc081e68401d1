//! Link checking for `check`: every internal link and asset reference in the rendered
//! HTML must name a file the build produces.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use scraper::{Html, Selector};

use super::output::Sink;
use crate::error::{Error, Result};

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
    /// links (canonical, OpenGraph) that point into the site itself.
    pub(crate) fn check_links_with_base(&self, base_url: &str) -> Result<()> {
        let files = self.files.lock().expect("not poisoned");
        let selector = Selector::parse(
            r#"a[href], link[href], img[src], source[srcset], script[src], meta[property="og:image"]"#,
        )
        .expect("valid selector");
        let mut errors = Vec::new();
        for (page, html) in files.iter() {
            let Some(html) = html else { continue };
            let doc = Html::parse_document(html);
            for el in doc.select(&selector) {
                let v = el.value();
                let Some(link) = v
                    .attr("href")
                    .or(v.attr("src"))
                    .or(v.attr("srcset"))
                    .or(v.attr("content"))
                else {
                    continue;
                };
                if let Some(target) = internal_target(page, link, base_url) {
                    if !resolves(&files, &target) {
                        errors.push(Error::in_file(
                            Path::new(page),
                            format!("broken link {link:?}: the site has no {target}"),
                        ));
                    }
                }
            }
        }
        Error::collect(errors)
    }
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
            .check_links_with_base("http://site")
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
}
