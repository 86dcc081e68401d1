//! Request → response for a loaded site: path safety, clean URLs, content negotiation,
//! conditional requests and ranges. Pure with respect to the site: no I/O here (a body
//! on disk is opened when hyper first polls it).

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use headers::{HeaderMapExt, IfModifiedSince, IfNoneMatch, IfRange, LastModified};

use super::files::{Entry, StaticSite, Variant};
use super::policy::{CacheClass, CachePolicy, PAGE_CSP};

/// Old clients ask for `/api/prices`; it is the built `api/prices.json`.
const ALIASES: [(&str, &str); 1] = [("/api/prices", "/api/prices.json")];

/// What a request path turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    File(String),
    /// Redirect to the slash form of a folder.
    Slash(String),
    NotFound,
    BadRequest,
}

/// Decodes and vets a request path, then finds the file. Anything that could step
/// outside the folder (`..`, encoded or not, backslashes, NUL) is a bad request;
/// dotfiles simply do not exist.
pub(crate) fn resolve(site: &StaticSite, raw_path: &str) -> Resolved {
    let Ok(decoded) = percent_encoding::percent_decode_str(raw_path).decode_utf8() else {
        return Resolved::BadRequest;
    };
    if !decoded.starts_with('/') || decoded.contains(['\0', '\\']) || has_encoded_dots(&decoded) {
        return Resolved::BadRequest;
    }
    for segment in decoded.split('/') {
        if segment == ".." || segment == "." {
            return Resolved::BadRequest;
        }
        if segment.starts_with('.') {
            return Resolved::NotFound;
        }
    }
    if decoded.contains("//") {
        return Resolved::NotFound;
    }
    let path = ALIASES
        .iter()
        .find(|(from, _)| *from == decoded)
        .map_or(decoded.as_ref(), |(_, to)| *to);
    if path.ends_with('/') {
        let index = format!("{path}index.html");
        return if site.get(&index).is_some() {
            Resolved::File(index)
        } else {
            Resolved::NotFound
        };
    }
    if site.get(path).is_some() {
        return Resolved::File(path.to_string());
    }
    if site.get(&format!("{path}/index.html")).is_some() {
        return Resolved::Slash(format!("{path}/"));
    }
    Resolved::NotFound
}

/// A path still holding `%2e`/`%2f`/`%5c` after one decode was encoded twice: a
/// traversal attempt, not a file name the build writes.
fn has_encoded_dots(decoded: &str) -> bool {
    let lower = decoded.to_ascii_lowercase();
    ["%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|p| lower.contains(p))
}

/// Which stored variant to send, from `Accept-Encoding` (q-values honoured).
fn negotiate<'a>(entry: &'a Entry, headers: &HeaderMap) -> (&'a Variant, Option<&'static str>) {
    // Every `coding;q=…` item of every Accept-Encoding header, read in place.
    let items = || {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
    };
    let q = |coding: &str| -> f32 {
        let mut star = None;
        for item in items() {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let weight = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding) {
                return weight;
            }
            if name == "*" {
                star = Some(weight);
            }
        }
        star.unwrap_or(0.0)
    };
    let candidates = [(entry.brotli.as_ref(), "br"), (entry.gzip.as_ref(), "gzip")];
    let best = candidates
        .iter()
        .filter_map(|(v, name)| v.map(|v| (v, *name, q(name))))
        .filter(|(_, _, weight)| *weight > 0.0)
        .fold(
            None::<(&Variant, &'static str, f32)>,
            |best, c| match best {
                Some(b) if b.2 >= c.2 => Some(b),
                _ => Some(c),
            },
        );
    match best {
        Some((v, name, _)) => (v, Some(name)),
        None => (&entry.identity, None),
    }
}

/// Serves `req` from `site`. `not_found_body` decides what a 404 carries.
pub(crate) fn respond(
    site: &StaticSite,
    policy: &CachePolicy,
    req: &Request<Body>,
) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut res = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n",
            policy.cache_control(CacheClass::NoStore),
        );
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return res;
    }
    if let Some(to) = site.redirect(req.uri().path()) {
        return moved(to, req.uri().query(), policy);
    }
    match resolve(site, req.uri().path()) {
        Resolved::File(path) => {
            let entry = site.get(&path).expect("resolved paths exist");
            send(entry, StatusCode::OK, req.headers(), None)
        }
        Resolved::Slash(to) => {
            let location = match req.uri().query() {
                Some(q) => format!("{to}?{q}"),
                None => to,
            };
            let mut res = plain(
                StatusCode::PERMANENT_REDIRECT,
                "",
                policy.cache_control(CacheClass::Page),
            );
            res.headers_mut().insert(
                header::LOCATION,
                HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/")),
            );
            res
        }
        Resolved::NotFound => not_found(site, policy, req.headers()),
        Resolved::BadRequest => plain(
            StatusCode::BAD_REQUEST,
            "bad request\n",
            policy.cache_control(CacheClass::NoStore),
        ),
    }
}

/// A note's old address: 301 to where it is now, cacheable like a page so the CDN
/// answers it too. The query string goes along.
fn moved(to: &HeaderValue, query: Option<&str>, policy: &CachePolicy) -> Response<Body> {
    let mut res = plain(
        StatusCode::MOVED_PERMANENTLY,
        "",
        policy.cache_control(CacheClass::Page),
    );
    let location = match query.map(|q| format!("{}?{q}", to.to_str().unwrap_or("/"))) {
        Some(with_query) => HeaderValue::from_str(&with_query).unwrap_or_else(|_| to.clone()),
        None => to.clone(),
    };
    res.headers_mut().insert(header::LOCATION, location);
    res
}

pub(crate) fn not_found(
    site: &StaticSite,
    policy: &CachePolicy,
    headers: &HeaderMap,
) -> Response<Body> {
    match site.get("/404.html") {
        Some(page) => send(
            page,
            StatusCode::NOT_FOUND,
            headers,
            Some(policy.cache_control(CacheClass::NotFound)),
        ),
        None => plain(
            StatusCode::NOT_FOUND,
            "not found\n",
            policy.cache_control(CacheClass::NotFound),
        ),
    }
}

fn plain(status: StatusCode, body: &'static str, cache_control: HeaderValue) -> Response<Body> {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, cache_control);
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    res
}

fn send(
    entry: &Entry,
    status: StatusCode,
    req: &HeaderMap,
    cache_override: Option<HeaderValue>,
) -> Response<Body> {
    let (variant, encoding) = negotiate(entry, req);
    if !variant.is_current() {
        // A build replaced the folder since start-up: the old bytes are gone and the
        // new ones are not what this entry's headers describe. Not cached anywhere;
        // a restart (or `dev`) serves the new site. Said once: every request for such a
        // file would say it again.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::error!(
                "a file changed on disk since the server started (a build into the folder it serves?): answering 503 for such files; restart the server to serve the new site"
            );
        }
        let mut res = plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the site changed on disk since the server started; try again shortly\n",
            HeaderValue::from_static("no-store"),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return res;
    }
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(header::CONTENT_TYPE, entry.content_type.clone());
    headers.insert(
        header::CACHE_CONTROL,
        cache_override.unwrap_or_else(|| entry.cache_control.clone()),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, entry.csp.clone());
    if entry.compressible {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(enc) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    if entry.cors {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    if status != StatusCode::OK {
        // A 404 page's validators would describe 404.html, not the missing URL.
        return build(status, headers, variant.body(None));
    }
    headers.insert(header::ETAG, variant.etag.clone());
    headers.insert(header::LAST_MODIFIED, entry.last_modified.clone());
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    if not_modified(variant, entry.modified, req) {
        for h in [
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::ACCEPT_RANGES,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
        ] {
            headers.remove(h);
        }
        return build(StatusCode::NOT_MODIFIED, headers, Body::empty());
    }
    if let Some(ranges) = req
        .get(header::RANGE)
        .filter(|_| req.get_all(header::RANGE).iter().count() == 1)
        .and_then(|v| v.to_str().ok())
        .filter(|_| range_applies(variant, entry, req))
        .and_then(|v| satisfiable(v, variant.len))
    {
        let len = variant.len;
        match ranges.as_slice() {
            [] => {
                headers.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{len}")).expect("ASCII"),
                );
                return build(StatusCode::RANGE_NOT_SATISFIABLE, headers, Body::empty());
            }
            [(start, end)] => {
                headers.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")).expect("ASCII"),
                );
                return build(
                    StatusCode::PARTIAL_CONTENT,
                    headers,
                    variant.body(Some((*start, *end))),
                );
            }
            // Several ranges: the whole representation is a valid answer.
            _ => {}
        }
    }
    build(status, headers, variant.body(None))
}

fn build(status: StatusCode, headers: HeaderMap, body: Body) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// RFC 9110 §13.2.2: `If-None-Match` wins over `If-Modified-Since`.
fn not_modified(variant: &Variant, modified: SystemTime, req: &HeaderMap) -> bool {
    if req.contains_key(header::IF_NONE_MATCH) {
        return req
            .typed_get::<IfNoneMatch>()
            .is_some_and(|inm| !inm.precondition_passes(&variant.typed_etag));
    }
    match req.typed_get::<IfModifiedSince>() {
        Some(ims) => !ims.is_modified(modified),
        None => false,
    }
}

fn range_applies(variant: &Variant, entry: &Entry, req: &HeaderMap) -> bool {
    match req.typed_get::<IfRange>() {
        None => true,
        Some(if_range) => !if_range.is_modified(
            Some(&variant.typed_etag),
            Some(&LastModified::from(entry.modified)),
        ),
    }
}

/// The asked-for ranges that overlap a body of `len` bytes, as inclusive offsets;
/// `None` when the header is not a valid `bytes` range set (it is then ignored, RFC
/// 9110 §14.2). Written here because the `headers` crate drops a suffix range longer
/// than the body, where RFC 9110 §14.1.3 says it means the whole representation.
fn satisfiable(value: &str, len: u64) -> Option<Vec<(u64, u64)>> {
    let (unit, set) = value.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut out = Vec::new();
    for spec in set.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue;
        }
        let (first, last) = spec.split_once('-')?;
        let number = |s: &str| -> Option<u64> {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().unwrap_or(u64::MAX))
        };
        if first.is_empty() {
            // `-N`: the last N bytes, or all of them when N is larger.
            let suffix = number(last)?;
            if suffix > 0 && len > 0 {
                out.push((len - suffix.min(len), len - 1));
            }
            continue;
        }
        let start = number(first)?;
        let end = if last.is_empty() {
            u64::MAX
        } else {
            number(last)?
        };
        if end < start {
            return None;
        }
        if start < len {
            out.push((start, end.min(len - 1)));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::satisfiable;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(satisfiable("bytes=0-4", 10), Some(vec![(0, 4)]));
        assert_eq!(satisfiable("bytes=5-", 10), Some(vec![(5, 9)]));
        assert_eq!(satisfiable("bytes=-3", 10), Some(vec![(7, 9)]));
        assert_eq!(satisfiable("bytes=-30", 10), Some(vec![(0, 9)]));
        assert_eq!(satisfiable("bytes=-0", 10), Some(vec![]));
        assert_eq!(satisfiable("bytes=20-", 10), Some(vec![]));
        assert_eq!(
            satisfiable("bytes=5-99999999999999999999999", 10),
            Some(vec![(5, 9)])
        );
        assert_eq!(satisfiable("bytes=4-2", 10), None);
        assert_eq!(satisfiable("items=0-1", 10), None);
        assert_eq!(satisfiable("bytes=x-1", 10), None);
        assert_eq!(satisfiable("bytes=0-1,-2", 10), Some(vec![(0, 1), (8, 9)]));
    }
}
