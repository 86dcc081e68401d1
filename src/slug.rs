//! The one rule that turns a name into an address segment, for notes, tags, datasets
//! and heading ids: transliterate to ASCII with the `slug` crate (deunicode, as Zola
//! does), lowercase, and join the letters and digits with single `-`. `São Tomé` →
//! `sao-tome`, `Straße` → `strasse`, `日本` → `ri-ben`.

/// A path segment longer than this cannot be a file or folder name on common file
/// systems (NAME_MAX).
pub(crate) const MAX_SLUG_BYTES: usize = 255;

pub(crate) fn slugify(name: &str) -> String {
    ::slug::slugify(name)
}

/// The slug of `name`, or why it cannot have one: nothing left after transliteration,
/// or too long for a folder name.
pub(crate) fn checked(name: &str) -> Result<String, String> {
    let slug = slugify(name);
    if slug.is_empty() {
        return Err(format!(
            "{name:?} has no letters or digits to make an address from"
        ));
    }
    if slug.len() > MAX_SLUG_BYTES {
        return Err(format!(
            "{name:?} makes an address segment of {} bytes; at most {MAX_SLUG_BYTES}",
            slug.len()
        ));
    }
    Ok(slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_instead_of_dropping_letters() {
        for (name, want) in [
            ("São Tomé", "sao-tome"),
            ("Straße", "strasse"),
            ("Œufs", "oeufs"),
            ("Prix à la pompe", "prix-a-la-pompe"),
            ("  Hello,  World! ", "hello-world"),
        ] {
            assert_eq!(slugify(name), want, "{name}");
        }
        for name in ["日本", "⛽"] {
            assert!(checked(name).is_ok_and(|s| !s.is_empty()), "{name}");
        }
        assert!(checked("!!!").is_err());
        assert!(checked(&"a".repeat(256)).is_err());
        assert!(checked(&"a".repeat(255)).is_ok());
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 512,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(255),
            ..Default::default()
        })]
        /// Any name gives an address segment: lowercase ASCII letters and digits
        /// joined by single `-`, and a slug is its own slug.
        #[test]
        fn any_name_gives_a_clean_segment(name in "\\PC{0,40}") {
            let s = slugify(&name);
            proptest::prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{s}");
            proptest::prop_assert!(!s.starts_with('-') && !s.ends_with('-') && !s.contains("--"), "{s}");
            proptest::prop_assert_eq!(slugify(&s), s.clone());
        }
    }
}
