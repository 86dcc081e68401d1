//! The one table of HTTP caching and security decisions: which `Cache-Control` each
//! kind of response gets, and the headers every response carries.

use axum::http::HeaderValue;

/// Lifetimes for pages and 404s, in seconds (from `site.toml` `[cache]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CachePolicy {
    pub(crate) browser_max_age: u32,
    pub(crate) cdn_max_age: u32,
    pub(crate) not_found_max_age: u32,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            browser_max_age: 300,
            cdn_max_age: 3600,
            not_found_max_age: 60,
        }
    }
}

/// Every response falls in exactly one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CacheClass {
    /// Listed by the build in `.petrol-watch-immutable`: the name changes when the
    /// content does.
    Fingerprinted,
    /// Pages, feeds, JSON, CSV and other files that keep their address.
    Page,
    /// Short-lived, so Firebase's 10-minute default for 404s does not hide new pages.
    NotFound,
    /// Health checks and errors: never stored.
    NoStore,
}

impl CachePolicy {
    /// The policy table.
    pub(crate) fn cache_control(&self, class: CacheClass) -> HeaderValue {
        let value = match class {
            CacheClass::Fingerprinted => "public, max-age=31536000, immutable".to_string(),
            CacheClass::Page => format!(
                "public, max-age={}, s-maxage={}",
                self.browser_max_age, self.cdn_max_age
            ),
            CacheClass::NotFound => {
                format!("public, max-age={0}, s-maxage={0}", self.not_found_max_age)
            }
            CacheClass::NoStore => "no-store".to_string(),
        };
        HeaderValue::from_str(&value).expect("ASCII header value")
    }
}

/// Pages use no scripts, no inline styles and nothing from other origins.
/// `connect-src 'self'` lets audit tools (Lighthouse) fetch /robots.txt from the page.
pub(crate) const PAGE_CSP: &str =
    "default-src 'none'; img-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/// Charts carry their light/dark stylesheet inside the SVG.
pub(crate) const SVG_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// Headers on every response, whatever its status.
pub(crate) fn security_headers() -> [(&'static str, HeaderValue); 4] {
    [
        (
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        ),
        (
            "referrer-policy",
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        ("x-frame-options", HeaderValue::from_static("DENY")),
        (
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_lifetimes_are_public_for_the_cdn() {
        let p = CachePolicy::default();
        assert_eq!(
            p.cache_control(CacheClass::Page),
            "public, max-age=300, s-maxage=3600"
        );
        assert_eq!(
            p.cache_control(CacheClass::NotFound),
            "public, max-age=60, s-maxage=60"
        );
    }
}
