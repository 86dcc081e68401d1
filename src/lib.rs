//! Petrol Watch: Mauritius fuel prices and workshop notes as a static site.
//!
//! Data flows one way: `config`, `data` and `notes` load and validate the inputs;
//! `chart` and `site` render them; `site::output` writes the result atomically; `serve`
//! serves any folder of files; `maintain` holds the maintainer's commands.

pub mod chart;
pub mod config;
pub mod data;
pub mod error;
pub mod notes;

pub use error::{Error, Result};

/// Escapes `&`, `<`, `>` and `"`: enough for HTML and XML text and double-quoted
/// attributes, which is all the site writes.
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    pulldown_cmark_escape::escape_html(&mut out, s).expect("writing to a String cannot fail");
    out
}
pub mod maintain;
pub mod serve;
pub mod site;
