//! Old addresses of renamed notes (`aliases` in a note's front matter): the list of
//! redirects `serve` answers with 301, and a small redirect page at each old address
//! so the folder works as it is on any static host.

use std::fmt::Write as _;

use super::pages;
use crate::config::SiteConfig;
use crate::markup::escape_markup as esc;
use crate::notes::Note;

/// Written beside `.petrol-watch-immutable`; `serve` reads it at start. One redirect
/// per line: the old path, a space, the new path. Both are clean site paths (see
/// `notes::checked_aliases`), so the format needs no quoting.
pub(crate) const REDIRECT_LIST: &str = ".petrol-watch-redirects";

/// Every alias of every note, sorted by old path.
pub(crate) fn redirect_list(notes: &[Note]) -> String {
    let mut lines: Vec<(&str, String)> = notes
        .iter()
        .flat_map(|n| {
            n.aliases
                .iter()
                .map(|a| (a.path.as_str(), pages::note_url(&n.slug)))
        })
        .collect();
    lines.sort();
    let mut out = String::new();
    for (from, to) in lines {
        let _ = writeln!(out, "{from} {to}");
    }
    out
}

/// The page at an old address: sends browsers on at once (meta refresh; the pages carry
/// no script), tells search engines where the note is now (canonical) and not to index
/// this copy, and shows a plain link for anything else.
pub(crate) fn redirect_page(config: &SiteConfig, note: &Note) -> String {
    let to = pages::note_url(&note.slug);
    let absolute = format!("{}{to}", config.base_url);
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>Moved: {title}</title>\n<meta name=\"robots\" content=\"noindex\">\n<link rel=\"canonical\" href=\"{abs}\">\n<meta http-equiv=\"refresh\" content=\"0; url={to}\">\n</head>\n<body>\n<p>This note has moved to <a href=\"{to}\">{title}</a>.</p>\n</body>\n</html>\n",
        lang = esc(&config.language),
        title = esc(&note.title),
        abs = esc(&absolute),
        to = esc(&to),
    )
}
