//! One module per command: its arguments (clap) and the few lines that turn them into
//! calls on the library modules. Nothing here renders, parses data or serves.

pub(crate) mod build;
pub(crate) mod check;
pub(crate) mod dev;
pub(crate) mod import;
pub(crate) mod price;
pub(crate) mod serve;

use std::path::{Path, PathBuf};

use crate::config::SiteConfig;
use crate::error::Error;

/// A path given on the command line, taken relative to the site root.
pub(crate) fn under_root(root: &Path, path: PathBuf) -> PathBuf {
    if path.is_absolute() {
        path
    } else {
        root.join(path)
    }
}

/// The dataset a maintainer named, or `site.toml`'s primary one. A name is a file in
/// `data/` without `.csv`, and the build only takes slugs there, so anything else
/// (`../x`, `My Data`) is refused before it can name a file outside `data/`.
pub(crate) fn dataset_or_primary(root: &Path, dataset: Option<String>) -> anyhow::Result<String> {
    let not_a_name = |name: &str| {
        format!(
            "{name:?} is not a dataset name (want the name of a file in data/ without .csv: \
             lowercase letters, digits and single dashes)"
        )
    };
    let name_is_ok = |name: &str| crate::slug::slugify(name) == name;
    match dataset {
        Some(name) if !name_is_ok(&name) => Err(Error::arg("--dataset", not_a_name(&name)).into()),
        Some(name) => Ok(name),
        None => {
            let config = SiteConfig::load(root)?;
            let name = if config.primary_dataset_line.is_some() {
                // Named in site.toml: that one, even before its first row exists.
                config.primary_dataset.clone()
            } else {
                let names = crate::data::dataset_names(&root.join("data"), &config)?;
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                config
                    .primary_among(&names)
                    .unwrap_or(&config.primary_dataset)
                    .to_string()
            };
            if name_is_ok(&name) {
                return Ok(name);
            }
            // Named where it is written, as the build names it.
            let file = root.join(crate::config::FILE_NAME);
            let message = format!("primary_dataset: {}", not_a_name(&name));
            Err(match config.primary_dataset_line {
                Some(line) => Error::at(&file, line, message),
                None => Error::in_file(&file, message),
            }
            .into())
        }
    }
}

/// The server's cache lifetimes from `site.toml`.
pub(crate) fn cache_policy(root: &Path) -> anyhow::Result<crate::serve::CachePolicy> {
    let cache = SiteConfig::load(root)?.cache;
    Ok(crate::serve::CachePolicy {
        browser_max_age: cache.browser_max_age,
        cdn_max_age: cache.cdn_max_age,
        not_found_max_age: cache.not_found_max_age,
    })
}
