//! The one media table: a file's extension gives its `Content-Type` and whether it is
//! worth compressing. The build (which writes `.gz`/`.br` siblings) and the server
//! (which sends them with `Vary: Accept-Encoding`) both ask here, so they cannot
//! disagree.

/// The content type for a file extension (without the dot, any case); bytes when the
/// extension is unknown.
pub(crate) fn content_type(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "atom" => "application/atom+xml; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "webmanifest" => "application/manifest+json",
        other => mime_guess::from_ext(other)
            .first_raw()
            .unwrap_or("application/octet-stream"),
    }
}

/// The content type of a site path: by extension, except the Atom feed, which the
/// build names `feed.xml` so that feed readers find it.
pub(crate) fn path_content_type(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name == "feed.xml" {
        return content_type("atom");
    }
    match name.rsplit_once('.') {
        Some((_, ext)) => content_type(ext),
        None => "application/octet-stream",
    }
}

/// Text formats worth precompressing (and sending with `Vary: Accept-Encoding`).
pub(crate) fn is_compressible(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name.rsplit_once('.').map(|(_, ext)| ext),
        Some(
            "html"
                | "css"
                | "svg"
                | "json"
                | "xml"
                | "csv"
                | "txt"
                | "js"
                | "md"
                | "ico"
                | "webmanifest"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_compressibility() {
        assert_eq!(
            path_content_type("/feed.xml"),
            "application/atom+xml; charset=utf-8"
        );
        assert_eq!(
            path_content_type("/sitemap.xml"),
            "application/xml; charset=utf-8"
        );
        assert_eq!(path_content_type("/a/b.HTML"), "text/html; charset=utf-8");
        assert_eq!(path_content_type("/LICENSE"), "application/octet-stream");
        assert_eq!(content_type("pdf"), "application/pdf");
        assert!(is_compressible("/static/style.3f9a1c2e.css"));
        assert!(!is_compressible("/big.bin"));
        assert!(!is_compressible("/static.d/README"));
    }
}
