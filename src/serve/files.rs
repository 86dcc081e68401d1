//! A folder of files read into memory, each ready to send: body, precompressed
//! variants, content type, strong ETags, Last-Modified and cache class, all computed
//! once at start-up. The server never touches the file system per request, and can
//! only ever send what was under the folder when it was loaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::HeaderValue;
use bytes::Bytes;

use super::policy::{classify, CachePolicy, PAGE_CSP, SVG_CSP};

#[derive(Debug, thiserror::Error)]
pub(crate) enum LoadError {
    #[error("{}: no such folder (run `petrol-watch build` first?)", .0.display())]
    MissingDir(PathBuf),
    #[error("{}: no index.html in the folder; is it a built site?", .0.display())]
    NoIndex(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One stored representation of a file.
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub(crate) body: Bytes,
    /// Strong, quoted: `"…"`.
    pub(crate) etag: HeaderValue,
    /// The same ETag parsed once, for comparing with `If-None-Match` and `If-Range`.
    pub(crate) typed_etag: headers::ETag,
}

#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) content_type: HeaderValue,
    pub(crate) cache_control: HeaderValue,
    pub(crate) csp: HeaderValue,
    pub(crate) last_modified: HeaderValue,
    /// Whole seconds, as HTTP dates carry them, for `If-Modified-Since`.
    pub(crate) modified: SystemTime,
    pub(crate) identity: Variant,
    pub(crate) gzip: Option<Variant>,
    pub(crate) brotli: Option<Variant>,
    /// Sent with `Vary: Accept-Encoding`: the type is compressible.
    pub(crate) compressible: bool,
    pub(crate) cors: bool,
}

/// How to load: the normal server sends files as they are; `dev` injects its reload
/// script into pages (and so cannot use the precompressed siblings).
#[derive(Debug, Clone, Default)]
pub(crate) struct LoadOptions {
    pub(crate) inject_before_body_end: Option<String>,
    /// A Content-Security-Policy for pages other than the default (dev allows its script).
    pub(crate) page_csp: Option<&'static str>,
}

#[derive(Debug)]
pub(crate) struct StaticSite {
    files: HashMap<String, Entry>,
    total_bytes: usize,
}

impl StaticSite {
    pub(crate) fn load(
        dir: &Path,
        policy: &CachePolicy,
        options: &LoadOptions,
    ) -> Result<StaticSite, LoadError> {
        if !dir.is_dir() {
            return Err(LoadError::MissingDir(dir.to_path_buf()));
        }
        let root = dir.canonicalize().map_err(|e| LoadError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let mut raw: HashMap<String, (Bytes, SystemTime)> = HashMap::new();
        let walker = walkdir::WalkDir::new(&root)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|e| LoadError::Io {
                path: root.clone(),
                source: e.into(),
            })?;
            let path = entry.path();
            let real = if entry.path_is_symlink() {
                // Follow a link only if it stays inside the folder.
                match path.canonicalize() {
                    Ok(target) if target.starts_with(&root) && target.is_file() => target,
                    _ => continue,
                }
            } else if entry.file_type().is_file() {
                path.to_path_buf()
            } else {
                continue;
            };
            let rel = path.strip_prefix(&root).expect("walked under root");
            let Some(rel) = rel.to_str() else { continue };
            let io = |e| LoadError::Io {
                path: real.clone(),
                source: e,
            };
            let body = std::fs::read(&real).map_err(io)?;
            let modified = std::fs::metadata(&real)
                .and_then(|m| m.modified())
                .unwrap_or(UNIX_EPOCH);
            raw.insert(format!("/{rel}"), (Bytes::from(body), modified));
        }
        if !raw.contains_key("/index.html") {
            return Err(LoadError::NoIndex(dir.to_path_buf()));
        }
        let mut files = HashMap::with_capacity(raw.len());
        let mut total_bytes = 0;
        for (path, (body, modified)) in &raw {
            // A `.gz`/`.br` next to its original is a variant, not a file of its own.
            if let Some(base) = path
                .strip_suffix(".gz")
                .or_else(|| path.strip_suffix(".br"))
            {
                if raw.contains_key(base) {
                    continue;
                }
            }
            let mut body = body.clone();
            let mut precompressed = true;
            if let (Some(snippet), true) =
                (&options.inject_before_body_end, path.ends_with(".html"))
            {
                body = inject(&body, snippet);
                precompressed = false;
            }
            let sibling = |suffix: &str, tag: &str| {
                let (b, _) = raw
                    .get(&format!("{path}{suffix}"))
                    .filter(|_| precompressed)?;
                Some(Variant::new(b.clone(), &body, tag))
            };
            let entry = Entry {
                content_type: HeaderValue::from_static(content_type(path)),
                cache_control: policy.cache_control(classify(path)),
                csp: HeaderValue::from_static(if path.ends_with(".svg") {
                    SVG_CSP
                } else {
                    options.page_csp.unwrap_or(PAGE_CSP)
                }),
                last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(*modified))
                    .expect("ASCII date"),
                modified: truncate_to_seconds(*modified),
                gzip: sibling(".gz", "-gz"),
                brotli: sibling(".br", "-br"),
                identity: Variant::new(body.clone(), &body, ""),
                compressible: crate::site::output::is_compressible(path),
                cors: path.ends_with(".json") || path.ends_with(".csv"),
            };
            total_bytes += entry.identity.body.len()
                + entry.gzip.as_ref().map_or(0, |v| v.body.len())
                + entry.brotli.as_ref().map_or(0, |v| v.body.len());
            files.insert(path.clone(), entry);
        }
        Ok(StaticSite { files, total_bytes })
    }

    pub(crate) fn get(&self, path: &str) -> Option<&Entry> {
        self.files.get(path)
    }

    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    pub(crate) fn total_bytes(&self) -> usize {
        self.total_bytes
    }
}

impl Variant {
    /// `body` as stored; its strong ETag comes from the identity content plus a suffix
    /// per encoding, so each representation has its own.
    fn new(body: Bytes, identity: &[u8], suffix: &str) -> Variant {
        let hash = xxhash_rust::xxh3::xxh3_128(identity);
        let tag = format!("\"{hash:032x}{suffix}\"");
        Variant {
            body,
            etag: HeaderValue::from_str(&tag).expect("ASCII etag"),
            typed_etag: tag.parse().expect("a quoted hex string is a valid ETag"),
        }
    }
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

fn inject(html: &[u8], snippet: &str) -> Bytes {
    let text = String::from_utf8_lossy(html);
    let out = match text.rfind("</body>") {
        Some(i) => format!("{}{snippet}{}", &text[..i], &text[i..]),
        None => format!("{text}{snippet}"),
    };
    Bytes::from(out)
}

/// Types for what the build writes; anything else by extension, else bytes.
pub(crate) fn content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "feed.xml" {
        return "application/atom+xml; charset=utf-8";
    }
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("xml") => "application/xml; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("gif") => "image/gif",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("webmanifest") => "application/manifest+json",
        Some(ext) => mime_guess::from_ext(ext)
            .first_raw()
            .unwrap_or("application/octet-stream"),
        None => "application/octet-stream",
    }
}
