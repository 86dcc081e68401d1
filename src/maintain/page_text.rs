//! The text of a fetched or saved STC page, from its bytes. A browser's "Save page as"
//! keeps the bytes the server sent, so a page served in windows-1252 (or labelled
//! ISO-8859-1, which browsers read as windows-1252) is saved in it: `Février` is the
//! byte 0xE9 in the middle, not UTF-8. The encoding is found as browsers find it, in
//! order: a byte order mark, the HTTP `Content-Type` charset (fetched pages), a
//! `<meta>` charset in the first 1,024 bytes; a page with none is UTF-8 when it is
//! valid UTF-8 and windows-1252 otherwise. Any other declared encoding is refused
//! with its name: the page has only dates and prices, so that never happens for real.

/// How far into the page a `<meta>` charset is looked for (the HTML standard's prescan
/// reads the same 1,024 bytes).
const PRESCAN_BYTES: usize = 1024;

/// The page as text, or why it cannot be read. `content_type` is the HTTP header of a
/// fetched page.
pub(crate) fn decode(bytes: Vec<u8>, content_type: Option<&str>) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return utf8(rest.to_vec());
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes);
    }
    let declared = content_type
        .and_then(|c| charset_in(c.as_bytes()))
        .or_else(|| charset_in(meta_region(&bytes)));
    match declared.as_deref().map(Label::of) {
        Some(Label::Utf8) => utf8(bytes),
        Some(Label::Windows1252) => Ok(windows_1252(&bytes)),
        Some(Label::Other(name)) => Err(format!(
            "the page says it is in {name:?}; save it as UTF-8 (or windows-1252) and import that file"
        )),
        None => String::from_utf8(bytes).or_else(|e| Ok(windows_1252(e.as_bytes()))),
    }
}

/// The start of the page, where a `<meta>` charset counts.
fn meta_region(bytes: &[u8]) -> &[u8] {
    &bytes[..bytes.len().min(PRESCAN_BYTES)]
}

fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
        format!("line {line}: invalid UTF-8 in a page that says it is UTF-8")
    })
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, String> {
    let units = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| "invalid UTF-16 (the page starts with a UTF-16 byte order mark)".to_string())
}

/// The value after the first `charset=` in `text`, lower-cased, without quotes: a
/// `Content-Type` header, or the start of a page with `<meta charset="…">` or
/// `<meta http-equiv="Content-Type" content="text/html; charset=…">`.
fn charset_in(text: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"charset";
    let at = text
        .windows(KEY.len())
        .position(|w| w.eq_ignore_ascii_case(KEY))?;
    let rest = &text[at + KEY.len()..];
    let rest = rest
        .trim_ascii_start()
        .strip_prefix(b"=")?
        .trim_ascii_start();
    let rest = rest
        .strip_prefix(b"\"")
        .or(rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b"-_.:".contains(&b)))
        .unwrap_or(rest.len());
    let name = std::str::from_utf8(&rest[..end]).ok()?.to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

/// A declared encoding, as the HTML standard's labels map it.
enum Label {
    Utf8,
    Windows1252,
    Other(String),
}

impl Label {
    fn of(name: &str) -> Label {
        match name {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" => Label::Utf8,
            // The standard reads all of these as windows-1252, a superset of each.
            "windows-1252" | "cp1252" | "x-cp1252" | "iso-8859-1" | "iso8859-1" | "iso_8859-1"
            | "iso-ir-100" | "l1" | "latin1" | "cp819" | "ibm819" | "us-ascii" | "ascii"
            | "ansi_x3.4-1968" | "iso-8859-15" | "latin9" => Label::Windows1252,
            other => Label::Other(other.to_string()),
        }
    }
}

/// windows-1252 to text. Written out rather than taken from `encoding_rs`, which
/// would link every legacy encoding's tables (Chinese, Japanese, Korean and the rest)
/// into the binary that also serves the site, for what is one table of 32 characters:
/// every other byte is the Unicode code point of the same number.
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_windows_1252_page_is_read_as_browsers_read_it() {
        let page =
            b"<meta charset=\"iso-8859-1\"><td>4-F\xe9vrier-2009</td><td>\x80 \x93x\x94</td>";
        assert_eq!(
            decode(page.to_vec(), None).unwrap(),
            "<meta charset=\"iso-8859-1\"><td>4-Février-2009</td><td>€ “x”</td>"
        );
    }

    #[test]
    fn the_http_charset_comes_before_the_meta_one() {
        let page = b"<meta charset=utf-8>Ao\xfbt".to_vec();
        let text = decode(page, Some("text/html; charset=ISO-8859-1")).unwrap();
        assert!(text.ends_with("Août"), "{text}");
    }

    #[test]
    fn an_undeclared_page_is_utf8_when_it_can_be_and_windows_1252_otherwise() {
        assert_eq!(
            decode("Février".as_bytes().to_vec(), None).unwrap(),
            "Février"
        );
        assert_eq!(decode(b"F\xe9vrier".to_vec(), None).unwrap(), "Février");
    }

    #[test]
    fn byte_order_marks_decide_first() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFAo\xC3\xBBt".to_vec(), None).unwrap(),
            "Août"
        );
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Août".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(le, Some("charset=windows-1252")).unwrap(), "Août");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Août".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(be, None).unwrap(), "Août");
    }

    #[test]
    fn a_page_that_says_utf8_and_is_not_is_refused_at_its_line() {
        let err = decode(b"<meta charset='UTF-8'>\n\nF\xe9vrier".to_vec(), None).unwrap_err();
        assert!(err.starts_with("line 3: invalid UTF-8"), "{err}");
    }

    #[test]
    fn another_declared_encoding_is_refused_by_name() {
        let page = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">";
        let err = decode(page.to_vec(), None).unwrap_err();
        assert!(err.contains("\"shift_jis\""), "{err}");
    }

    #[test]
    fn a_meta_charset_past_the_first_1024_bytes_does_not_count() {
        let mut page = vec![b' '; PRESCAN_BYTES];
        page.extend_from_slice(b"<meta charset=shift_jis>F\xe9vrier");
        assert!(decode(page, None).unwrap().ends_with("Février"));
    }

    proptest! {
        /// Any bytes, any header: an answer, never a panic; and text that was UTF-8
        /// without a declaration comes back as it was.
        #[test]
        fn any_bytes_are_decoded_or_refused(
            bytes in proptest::collection::vec(any::<u8>(), 0..400),
            header in proptest::option::of("[ -~]{0,40}"),
        ) {
            let _ = decode(bytes.clone(), header.as_deref());
            if let Ok(text) = String::from_utf8(bytes.clone()) {
                if charset_in(meta_region(&bytes)).is_none() && !text.starts_with('\u{feff}') {
                    prop_assert_eq!(decode(bytes, None).unwrap(), text);
                }
            }
        }
    }
}
