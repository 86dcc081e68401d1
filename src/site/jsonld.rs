//! The schema.org `Dataset` description of a dataset page, as JSON-LD, so dataset
//! search engines can list it: name, description, licence, temporal coverage,
//! creator, publisher and the CSV and JSON downloads.

use crate::config::{DatasetMeta, SiteConfig};
use crate::data::Dataset;

use super::pages::{csv_url, dataset_url, json_url};

/// The JSON-LD for `d`, ready to sit inside `<script type="application/ld+json">`:
/// `<`, `>` and `&` are written as `\u003c`… so no title or description can close the
/// script element or open a comment there. They only ever occur inside JSON strings,
/// where the escaped form means the same character.
pub(crate) fn dataset_jsonld(
    config: &SiteConfig,
    meta: Option<&DatasetMeta>,
    d: &Dataset,
    description: &str,
) -> String {
    let base = &config.base_url;
    let publisher = serde_json::json!({
        "@type": "Organization",
        "name": config.title,
        "url": format!("{base}/"),
    });
    let creator = match &d.source {
        Some(name) => {
            let mut o = serde_json::json!({"@type": "Organization", "name": name});
            if let Some(url) = &d.source_url {
                o["url"] = url.clone().into();
            }
            o
        }
        None => publisher.clone(),
    };
    let mut v = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": d.title,
        "description": description,
        "url": format!("{base}{}", dataset_url(&d.slug)),
        "isAccessibleForFree": true,
        "temporalCoverage": format!("{}/{}", d.first_date(), d.last_date()),
        "variableMeasured": d.series.iter().map(|s| s.label.clone()).collect::<Vec<_>>(),
        "creator": creator,
        "publisher": publisher,
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": "text/csv",
                "contentUrl": format!("{base}{}", csv_url(&d.slug)),
            },
            {
                "@type": "DataDownload",
                "encodingFormat": "application/json",
                "contentUrl": format!("{base}{}", json_url(&d.slug)),
            },
        ],
    });
    // schema.org wants a URL for the licence; its name stands in when none is given.
    if let Some(licence) = meta.and_then(|m| m.license_url.clone().or(m.license.clone())) {
        v["license"] = licence.into();
    }
    serde_json::to_string(&v)
        .expect("JSON values serialise")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Tags a `BlogPosting` names as keywords, the first: a note may have thousands
/// (20,000 tags of 250 letters wrote 5 MB of keywords into its page's head).
const KEYWORDS: usize = 50;

/// A note as a schema.org `BlogPosting`: its dates (`dateModified` is `updated`, else
/// the date it was written), address, author and tags, escaped like the above.
pub(crate) fn note_jsonld(config: &SiteConfig, note: &crate::notes::Note, summary: &str) -> String {
    let base = &config.base_url;
    let url = format!("{base}{}", super::pages::note_url(&note.slug));
    let v = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": note.title,
        "description": summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": note.date.to_string(),
        "dateModified": note.updated.unwrap_or(note.date).to_string(),
        "keywords": &note.tags[..note.tags.len().min(KEYWORDS)],
        "author": {"@type": "Organization", "name": config.author},
        "publisher": {"@type": "Organization", "name": config.title, "url": format!("{base}/")},
    });
    serde_json::to_string(&v)
        .expect("JSON values serialise")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}
