//! The share images' fonts and text fitting: measuring a string in the bundled fonts,
//! wrapping it to a width and cutting it with an ellipsis, so no title can run off
//! the image.

use std::sync::{Arc, OnceLock};

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

/// Subsets of DejaVu Sans (see `fonts/LICENSE.txt` and `fonts/subset.sh`), compiled in
/// so the binary needs no system fonts.
pub(crate) const REGULAR: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
pub(crate) const BOLD: &[u8] = include_bytes!("fonts/DejaVuSans-Bold.ttf");
pub(crate) const FAMILY: &str = "DejaVu Sans";

/// The font database usvg lays text out with: the two bundled faces and nothing else.
pub(crate) fn fontdb() -> Arc<resvg::usvg::fontdb::Database> {
    static DB: OnceLock<Arc<resvg::usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = resvg::usvg::fontdb::Database::new();
        db.load_font_data(REGULAR.to_vec());
        db.load_font_data(BOLD.to_vec());
        db.set_sans_serif_family(FAMILY);
        Arc::new(db)
    })
    .clone()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

/// Width of `text` set at `size` px. Sums advance widths without kerning, which in
/// these fonts only ever tightens a pair, so the real width is never larger.
pub(crate) fn width(text: &str, weight: Weight, size: f32) -> f32 {
    let data = match weight {
        Weight::Regular => REGULAR,
        Weight::Bold => BOLD,
    };
    let Ok(font) = FontRef::new(data) else {
        // The fonts are compiled in; a unit test parses both.
        return text.chars().count() as f32 * size;
    };
    let charmap = font.charmap();
    let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
    text.chars()
        .map(|c| {
            let glyph = charmap.map(c).unwrap_or_default();
            metrics.advance_width(glyph).unwrap_or(size * 0.6)
        })
        .sum()
}

/// `text` cut to fit `max` px, ending in "…" when something was cut.
pub(crate) fn clip(text: &str, weight: Weight, size: f32, max: f32) -> String {
    if width(text, weight, size) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let candidate: String = chars.iter().collect::<String>().trim_end().to_string() + "…";
        if width(&candidate, weight, size) <= max {
            return candidate;
        }
    }
    String::new()
}

/// Greedy word wrap to `max` px in at most `max_lines` lines; a word wider than a line
/// is broken between letters, and the last line is clipped with "…" if text is left.
/// Returns the lines and whether everything fitted.
pub(crate) fn wrap(
    text: &str,
    weight: Weight,
    size: f32,
    max: f32,
    max_lines: usize,
) -> (Vec<String>, bool) {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let joined = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if width(&joined, weight, size) <= max {
            current = joined;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // The word alone: break it if it cannot fit on a line of its own.
        for c in word.chars() {
            let mut next = current.clone();
            next.push(c);
            if width(&next, weight, size) > max && !current.is_empty() {
                lines.push(std::mem::replace(&mut current, c.to_string()));
            } else {
                current = next;
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() <= max_lines {
        return (lines, true);
    }
    let rest = lines[max_lines - 1..].join(" ");
    lines.truncate(max_lines - 1);
    // Force the cut: the last line always shows that text was left out.
    let mut last = clip(&format!("{rest} …"), weight, size, max);
    if !last.ends_with('…') {
        last = clip(&format!("{rest}………"), weight, size, max);
    }
    lines.push(last);
    (lines, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fonts_parse_and_have_the_characters_used() {
        for data in [REGULAR, BOLD] {
            let font = FontRef::new(data).expect("font parses");
            let map = font.charmap();
            for c in "Rs 0123456789.,+−–—…▲▼=·%()éèàç“”’".chars() {
                assert!(map.map(c).is_some(), "{c:?} missing");
            }
        }
    }

    #[test]
    fn width_grows_with_text_and_size() {
        let a = width("Rs 70.65", Weight::Bold, 100.0);
        assert!(a > 300.0 && a < 700.0, "{a}");
        assert!(width("Rs 70.65", Weight::Bold, 50.0) < a);
        assert!(width("Rs 70.6", Weight::Bold, 100.0) < a);
        assert_eq!(width("", Weight::Regular, 40.0), 0.0);
    }

    #[test]
    fn clip_fits_and_marks_the_cut() {
        let long = "A title far too long for the space it is given here";
        let cut = clip(long, Weight::Regular, 40.0, 300.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(width(&cut, Weight::Regular, 40.0) <= 300.0);
        assert_eq!(clip("Short", Weight::Regular, 40.0, 300.0), "Short");
    }

    #[test]
    fn wrap_keeps_every_line_in_width_and_count() {
        let text = "How Mauritius sets fuel prices: the automatic pricing mechanism, \
                    the Price Stabilisation Account and what the STC publishes";
        let (lines, fitted) = wrap(text, Weight::Bold, 72.0, 1000.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(!fitted);
        assert!(lines[1].ends_with('…'), "{lines:?}");
        for l in &lines {
            assert!(width(l, Weight::Bold, 72.0) <= 1000.0, "{l}");
        }
        let (lines, fitted) = wrap("Short title", Weight::Bold, 72.0, 1000.0, 3);
        assert_eq!(lines, vec!["Short title"]);
        assert!(fitted);
        let word = "x".repeat(200);
        let (lines, _) = wrap(&word, Weight::Bold, 72.0, 1000.0, 3);
        for l in &lines {
            assert!(width(l, Weight::Bold, 72.0) <= 1000.0, "{l}");
        }
    }
}
