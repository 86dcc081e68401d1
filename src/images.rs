//! Images beside notes. A folder note (`content/notes/<slug>/index.md`) may show the
//! images in its folder with `![alt](photo.jpg)`: each becomes a responsive
//! `<picture>` of planned, fingerprinted variants (lossy WebP at a few widths, plus
//! the original format as the fallback), written into the note's body as HTML before
//! anything else reads it, so the page, the feed and the reuse keys all see it.
//!
//! Loading reads only each image's header (format, size, orientation) and hashes its
//! bytes; decoding, resizing and encoding happen per variant in the render jobs, and a
//! variant whose key (source bytes, width, format, quality, program) is unchanged is
//! kept from the previous build without decoding anything.

use std::io::Cursor;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::error::{Error, Result};
use crate::markup::escape_markup as esc;
use crate::notes::Note;

/// Widths of the responsive variants; an image narrower than one of them gets its own
/// width instead, never an upscaled copy.
pub(crate) const WIDTHS: [u32; 3] = [480, 960, 1600];
/// Largest image file read (bytes) and decoded (pixels): a bigger one is refused by
/// name rather than allowed to take the build's memory (a 50 Mpx RGBA image is 200 MB).
pub(crate) const MAX_FILE_BYTES: u64 = 40 * 1024 * 1024;
pub(crate) const MAX_PIXELS: u64 = 50_000_000;
/// Pixels decoded at once across all threads: each decode holds the image (plus its
/// resized copy) in memory, so without a budget a build's memory grew with the number
/// of cores (four 16 Mpx variants at once took 700 MB). An image bigger than the
/// budget is decoded alone.
const DECODE_BUDGET: u64 = MAX_PIXELS / 2;
/// WebP holds at most this many pixels a side.
const WEBP_MAX_SIDE: u32 = 16383;
/// libwebp's quality scale; 80 keeps photos clean at a fraction of the JPEG's size.
const WEBP_QUALITY: f32 = 80.0;
const JPEG_QUALITY: u8 = 82;
/// The note column is 44rem wide inside 1rem of padding either side.
const SIZES: &str = "(max-width: 46rem) calc(100vw - 2rem), 44rem";

/// How one planned file is made from its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Encoding {
    /// Resized to the variant's width, then encoded: lossy WebP for photos (JPEG and
    /// WebP sources), lossless for PNG sources (diagrams, screenshots: sharp edges and
    /// flat colour, where lossless WebP is tiny: the test diagram is 104 bytes against
    /// 2,319 as PNG and 4,446 as lossy WebP).
    Webp,
    WebpLossless,
    Jpeg,
    Png,
    /// Copied byte for byte (GIF, SVG and anything not resized).
    Copy,
}

/// One output file of an image.
#[derive(Debug, Clone)]
pub(crate) struct Variant {
    /// Site path, no leading `/`.
    pub(crate) path: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) encoding: Encoding,
    /// Everything the file is made from; also its name's fingerprint.
    pub(crate) key: u128,
}

impl Variant {
    fn is_webp(&self) -> bool {
        matches!(self.encoding, Encoding::Webp | Encoding::WebpLossless)
    }
}

/// An image a note shows, found and measured at load time.
#[derive(Debug, Clone)]
pub(crate) struct NoteImage {
    pub(crate) file: PathBuf,
    /// The note and line that show it, for messages while rendering.
    pub(crate) note: PathBuf,
    pub(crate) line: usize,
    /// xxh3 of the file's bytes when it was loaded.
    pub(crate) hash: u128,
    /// Width × height of the source, what decoding it holds in memory.
    pub(crate) pixels: u64,
    pub(crate) variants: Vec<Variant>,
}

/// The pixels being decoded now, across threads (see [`DECODE_BUDGET`]). A hand-made
/// counting semaphore: rayon has none, and the render jobs are rayon tasks. Holders
/// never wait on anything, so waiting here cannot deadlock.
static DECODING: (std::sync::Mutex<u64>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// A share of the decode budget, given back when dropped.
struct Decoding(u64);

impl Decoding {
    fn start(pixels: u64) -> Decoding {
        let (lock, freed) = &DECODING;
        let mut busy = lock.lock().unwrap_or_else(|e| e.into_inner());
        while *busy > 0 && *busy + pixels > DECODE_BUDGET {
            busy = freed.wait(busy).unwrap_or_else(|e| e.into_inner());
        }
        *busy += pixels;
        Decoding(pixels)
    }
}

impl Drop for Decoding {
    fn drop(&mut self) {
        let (lock, freed) = &DECODING;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) -= self.0;
        freed.notify_all();
    }
}

impl NoteImage {
    /// Makes variant `v`: reads the source again, checks it is the file that was
    /// planned, and decodes one image (the only large allocation) for this variant.
    pub(crate) fn render(&self, v: usize) -> Result<Vec<u8>> {
        let variant = &self.variants[v];
        let fail = |why: String| Error::at(&self.note, self.line, why);
        let bytes = read_bounded(&self.file).map_err(&fail)?;
        if xxhash_rust::xxh3::xxh3_128(&bytes) != self.hash {
            return Err(fail(format!(
                "{} changed during the build; build again",
                self.file.display()
            )));
        }
        if variant.encoding == Encoding::Copy {
            return Ok(bytes);
        }
        let _decoding = Decoding::start(self.pixels);
        let decoded = decode(&bytes)
            .map_err(|e| fail(format!("{} cannot be decoded: {e}", self.file.display())))?;
        let sized = if decoded.width() == variant.width {
            decoded
        } else {
            decoded.resize_exact(
                variant.width,
                variant.height,
                image::imageops::FilterType::Lanczos3,
            )
        };
        encode(&sized, variant.encoding)
            .map_err(|e| fail(format!("{} cannot be encoded: {e}", self.file.display())))
    }
}

/// Replaces every image in every folder note by its `<picture>` and returns the
/// images to make (one per source file). All broken images are reported together.
pub(crate) fn process_notes(notes: &mut [Note]) -> Result<Vec<NoteImage>> {
    use rayon::prelude::*;
    let results: Vec<Result<Vec<NoteImage>>> = notes
        .par_iter_mut()
        .map(|note| {
            if !note.body.contains("![") {
                return Ok(Vec::new());
            }
            let (body, images) = rewrite(note)?;
            note.body = body;
            Ok(images)
        })
        .collect();
    let mut images = Vec::new();
    let mut planned = std::collections::HashSet::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(found) => {
                for image in found {
                    // The same bytes under the same name make the same files.
                    if planned.insert(image.variants[0].path.clone()) {
                        images.push(image);
                    }
                }
            }
            Err(e) => errors.push(e),
        }
    }
    Error::collect(errors)?;
    Ok(images)
}

/// One image reference in a body: where it is, what it points to, its alt text.
struct Reference {
    range: Range<usize>,
    dest: String,
    alt: String,
}

fn references(body: &str) -> Vec<Reference> {
    let options = crate::notes::markdown_options();
    let mut found: Vec<Reference> = Vec::new();
    // An image's alt may hold another image; only the outermost is a reference.
    let mut depth = 0usize;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                if depth == 0 {
                    found.push(Reference {
                        range,
                        dest: dest_url.to_string(),
                        alt: String::new(),
                    });
                }
                depth += 1;
            }
            Event::End(TagEnd::Image) => depth = depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if depth > 0 => {
                if let Some(r) = found.last_mut() {
                    r.alt.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak if depth > 0 => {
                if let Some(r) = found.last_mut() {
                    r.alt.push(' ');
                }
            }
            _ => {}
        }
    }
    found
}

/// The note's body with its images as HTML, and the images it needs.
fn rewrite(note: &Note) -> Result<(String, Vec<NoteImage>)> {
    let body = &note.body;
    let refs = references(body);
    if refs.is_empty() {
        return Ok((body.clone(), Vec::new()));
    }
    let first_line = note.body_line;
    let mut out = String::with_capacity(body.len() + refs.len() * 600);
    let mut images: Vec<NoteImage> = Vec::new();
    let mut by_file = std::collections::HashMap::new();
    let mut errors = Vec::new();
    let mut done = 0;
    // Lines are counted on from the previous reference, not from the top each time
    // (which was quadratic in a note of thousands of images).
    let (mut counted, mut line) = (0, first_line);
    for (n, r) in refs.iter().enumerate() {
        line += body[counted..r.range.start].matches('\n').count();
        counted = r.range.start;
        match image_for(note, line, r, &mut images, &mut by_file) {
            Ok(i) => {
                out.push_str(&body[done..r.range.start]);
                let lines = body[r.range.clone()].matches('\n').count();
                out.push_str(&picture(&images[i], r.alt.trim(), n == 0, lines));
                done = r.range.end;
            }
            Err(e) => errors.push(e),
        }
    }
    Error::collect(errors)?;
    out.push_str(&body[done..]);
    Ok((out, images))
}

/// Checks one reference and measures its file (once per file and note): the index of
/// its image in `images`.
fn image_for(
    note: &Note,
    line: usize,
    r: &Reference,
    images: &mut Vec<NoteImage>,
    by_file: &mut std::collections::HashMap<PathBuf, usize>,
) -> Result<usize> {
    let fail = |why: String| Error::at(&note.path, line, why);
    if r.alt.trim().is_empty() {
        return Err(fail(format!(
            "the image {:?} has no alt text: describe it for readers who cannot see it, as in ![Pump prices on a board](photo.jpg)",
            r.dest
        )));
    }
    let rel = relative_path(&r.dest).map_err(|why| fail(format!("image {:?} {why}", r.dest)))?;
    let folder_note = note.path.file_name().is_some_and(|n| n == "index.md");
    let dir = note.path.parent().unwrap_or(Path::new("."));
    if !folder_note {
        return Err(fail(format!(
            "image {:?}: only a folder note can show images; move {} to {}/index.md beside its images",
            r.dest,
            note.path.display(),
            dir.join(&note.slug).display()
        )));
    }
    let file = dir.join(&rel);
    // A symlink may not lead out of the folder either.
    match (file.canonicalize(), dir.canonicalize()) {
        (Ok(real), Ok(folder)) if real.starts_with(&folder) => {}
        (Ok(_), Ok(_)) => {
            return Err(fail(format!(
                "image {:?} leads out of the note's folder {}",
                r.dest,
                dir.display()
            )))
        }
        _ => {
            return Err(fail(format!(
                "image {:?}: there is no file {}",
                r.dest,
                file.display()
            )))
        }
    }
    if let Some(&i) = by_file.get(&file) {
        return Ok(i);
    }
    let bytes = read_bounded(&file).map_err(|why| fail(format!("image {:?}: {why}", r.dest)))?;
    let hash = xxhash_rust::xxh3::xxh3_128(&bytes);
    let ext = rel
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (width, height, kind) =
        measure(&bytes, &ext).map_err(|why| fail(format!("image {:?} {why}", r.dest)))?;
    let stem = crate::slug::slugify(&rel.file_stem().unwrap_or_default().to_string_lossy());
    let stem = if stem.is_empty() {
        "image".into()
    } else {
        stem
    };
    let variants = plan_variants(&note.slug, &stem, hash, (width, height), kind)
        .map_err(|why| fail(format!("image {:?} {why}", r.dest)))?;
    by_file.insert(file.clone(), images.len());
    images.push(NoteImage {
        file,
        note: note.path.clone(),
        line,
        hash,
        pixels: u64::from(width) * u64::from(height),
        variants,
    });
    Ok(images.len() - 1)
}

/// A link destination as a path inside the note's folder, or why it is not one.
fn relative_path(dest: &str) -> std::result::Result<PathBuf, String> {
    let dest = dest.trim();
    if dest.is_empty() {
        return Err("has no file name".into());
    }
    if dest.contains("://") || dest.starts_with("//") || dest.starts_with("data:") {
        return Err("is not a file beside the note (the site loads nothing from elsewhere): copy it into the note's folder".into());
    }
    if dest.contains(['?', '#']) {
        return Err("has a query or fragment: want a plain file name such as photo.jpg".into());
    }
    let decoded = percent_encoding::percent_decode_str(dest)
        .decode_utf8()
        .map_err(|_| "is not UTF-8 once its %-escapes are decoded".to_string())?;
    let path = PathBuf::from(decoded.as_ref());
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => {
                return Err(
                    "leads out of the note's folder: want a path inside it such as photo.jpg"
                        .into(),
                )
            }
        }
    }
    Ok(path)
}

/// The file's bytes, refused past `MAX_FILE_BYTES` before they are read.
fn read_bounded(file: &Path) -> std::result::Result<Vec<u8>, String> {
    let meta = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", file.display()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "{} is {} MiB, over the {} MiB an image may be: make it smaller",
            file.display(),
            meta.len() / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))
}

/// What kind of source an image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Png,
    Webp,
    Gif,
    Svg,
}

/// Width, height (after EXIF orientation) and kind, from the header alone.
fn measure(bytes: &[u8], ext: &str) -> std::result::Result<(u32, u32, Kind), String> {
    if ext == "svg" {
        // No file its `<image>` elements name is read: usvg's default reads any path
        // that exists (a FIFO hangs, /dev/zero fills memory), and a browser showing the
        // SVG through `<img>` loads none of them either.
        let options = resvg::usvg::Options {
            image_href_resolver: resvg::usvg::ImageHrefResolver {
                resolve_string: Box::new(|_, _| None),
                ..Default::default()
            },
            ..Default::default()
        };
        let tree = resvg::usvg::Tree::from_data(bytes, &options)
            .map_err(|e| format!("is not a valid SVG: {e}"))?;
        let size = tree.size();
        return Ok((
            size.width().ceil().max(1.0) as u32,
            size.height().ceil().max(1.0) as u32,
            Kind::Svg,
        ));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot be read: {e}"))?;
    let kind = match reader.format() {
        Some(ImageFormat::Jpeg) => Kind::Jpeg,
        Some(ImageFormat::Png) => Kind::Png,
        Some(ImageFormat::WebP) => Kind::Webp,
        Some(ImageFormat::Gif) => Kind::Gif,
        _ => return Err(
            "is not a JPEG, PNG, WebP, GIF or SVG image (its contents say so, whatever its name)"
                .into(),
        ),
    };
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| format!("cannot be decoded: {e}"))?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err("has no pixels".into());
    }
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(format!(
            "is {w}×{h} pixels, over the {} megapixels an image may have: make it smaller",
            MAX_PIXELS / 1_000_000
        ));
    }
    let turned = matches!(
        decoder.orientation(),
        Ok(image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH)
    );
    Ok(if turned { (h, w, kind) } else { (w, h, kind) })
}

/// Decodes a whole image, within the pixel bound, upright.
fn decode(bytes: &[u8]) -> image::ImageResult<DynamicImage> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation()?;
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn encode(img: &DynamicImage, encoding: Encoding) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match encoding {
        Encoding::WebpLossless => {
            let rgba = img.to_rgba8();
            return webp::Encoder::from_rgba(&rgba, rgba.width(), rgba.height())
                .encode_simple(true, 75.0)
                .map(|m| m.to_vec())
                .map_err(|e| format!("WebP: {e:?}"));
        }
        Encoding::Webp => {
            // `encode_simple`, not `encode`, which panics where libwebp refuses.
            let encoded = if img.color().has_alpha() {
                let rgba = img.to_rgba8();
                webp::Encoder::from_rgba(&rgba, rgba.width(), rgba.height())
                    .encode_simple(false, WEBP_QUALITY)
            } else {
                let rgb = img.to_rgb8();
                webp::Encoder::from_rgb(&rgb, rgb.width(), rgb.height())
                    .encode_simple(false, WEBP_QUALITY)
            };
            return encoded
                .map(|m| m.to_vec())
                .map_err(|e| format!("WebP: {e:?}"));
        }
        Encoding::Jpeg => {
            let rgb = img.to_rgb8();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .encode_image(&rgb)
                .map_err(|e| e.to_string())?;
        }
        Encoding::Png => {
            img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
                .map_err(|e| e.to_string())?;
        }
        Encoding::Copy => unreachable!("copies are not decoded"),
    }
    Ok(out)
}

/// Every file an image needs, named after its key.
fn plan_variants(
    slug: &str,
    stem: &str,
    hash: u128,
    (width, height): (u32, u32),
    kind: Kind,
) -> std::result::Result<Vec<Variant>, String> {
    let file = |w: u32, h: u32, encoding: Encoding, ext: &str, quality: u32| {
        let key = crate::site::keys::image_key(hash, w, encoding, quality);
        let sized = if encoding == Encoding::Copy {
            String::new()
        } else {
            format!("-{w}")
        };
        Variant {
            path: format!(
                "notes/{slug}/{stem}{sized}.{}.{ext}",
                crate::site::keys::short_hex(key)
            ),
            width: w,
            height: h,
            encoding,
            key,
        }
    };
    match kind {
        Kind::Gif => return Ok(vec![file(width, height, Encoding::Copy, "gif", 0)]),
        Kind::Svg => return Ok(vec![file(width, height, Encoding::Copy, "svg", 0)]),
        _ => {}
    }
    let mut widths: Vec<u32> = WIDTHS.iter().copied().filter(|&w| w < width).collect();
    if width <= WIDTHS[WIDTHS.len() - 1] {
        widths.push(width);
    }
    let height_at = |w: u32| {
        ((u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width)).max(1) as u32
    };
    // A very tall image keeps only the widths WebP can hold.
    widths.retain(|&w| height_at(w) <= WEBP_MAX_SIDE);
    if widths.is_empty() {
        return Err(format!(
            "is {width}×{height} pixels: even a {} px wide copy would be over the {WEBP_MAX_SIDE} px a WebP may be high; split or crop it",
            WIDTHS[0].min(width)
        ));
    }
    let mut variants = Vec::new();
    for &w in &widths {
        let h = height_at(w);
        if kind == Kind::Png {
            variants.push(file(w, h, Encoding::WebpLossless, "webp", 100));
        } else {
            variants.push(file(w, h, Encoding::Webp, "webp", WEBP_QUALITY as u32));
        }
        match kind {
            Kind::Jpeg => variants.push(file(w, h, Encoding::Jpeg, "jpg", JPEG_QUALITY.into())),
            Kind::Png => variants.push(file(w, h, Encoding::Png, "png", 0)),
            _ => {}
        }
    }
    Ok(variants)
}

/// The HTML an image becomes. `lines` newlines stand between attributes, so the
/// body keeps the line count of the markdown it replaces and later messages (the
/// shortcodes') still name the right line.
fn picture(image: &NoteImage, alt: &str, first: bool, lines: usize) -> String {
    let srcset = |encoding: Encoding| {
        image
            .variants
            .iter()
            .filter(|v| v.encoding == encoding || encoding == Encoding::Webp && v.is_webp())
            .map(|v| format!("/{} {}w", esc(&v.path), v.width))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fallback_encoding = image
        .variants
        .iter()
        .map(|v| v.encoding)
        .find(|&e| e != Encoding::Webp && e != Encoding::WebpLossless)
        .unwrap_or(Encoding::Webp);
    let fallback: Vec<&Variant> = image
        .variants
        .iter()
        .filter(|v| v.encoding == fallback_encoding)
        .collect();
    // `src` for browsers without srcset: the widest one up to the column's width.
    let src = fallback
        .iter()
        .rev()
        .find(|v| v.width <= 960)
        .unwrap_or(&fallback[0]);
    let largest = fallback[fallback.len() - 1];
    let mut attrs = vec![format!("src=\"/{}\"", esc(&src.path))];
    if fallback_encoding != Encoding::Copy {
        attrs.push(format!("srcset=\"{}\"", srcset(fallback_encoding)));
        attrs.push(format!("sizes=\"{SIZES}\""));
    }
    attrs.push(format!("width=\"{}\"", largest.width));
    attrs.push(format!("height=\"{}\"", largest.height));
    attrs.push(format!("alt=\"{}\"", esc(alt)));
    if first {
        attrs.push("loading=\"eager\"".into());
        attrs.push("fetchpriority=\"high\"".into());
    } else {
        attrs.push("loading=\"lazy\"".into());
        attrs.push("decoding=\"async\"".into());
    }
    let mut img = String::from("<img");
    for (i, a) in attrs.iter().enumerate() {
        img.push(if i < lines { '\n' } else { ' ' });
        img.push_str(a);
    }
    img.push('>');
    let source = if fallback_encoding == Encoding::Jpeg || fallback_encoding == Encoding::Png {
        format!(
            "<source type=\"image/webp\" srcset=\"{}\" sizes=\"{SIZES}\">",
            srcset(Encoding::Webp)
        )
    } else {
        String::new()
    };
    format!("<picture class=\"note-image\">{source}{img}</picture>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_folder() {
        assert!(relative_path("photo.jpg").is_ok());
        assert!(relative_path("img/photo%20one.jpg").is_ok());
        for bad in [
            "../x.jpg",
            "/etc/x.jpg",
            "a/../../x.jpg",
            "https://e.org/x.jpg",
            "",
            "x.jpg?v=1",
        ] {
            assert!(relative_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn variants_are_never_upscaled() {
        let widths = |w: u32| -> Vec<u32> {
            plan_variants("n", "p", 1, (w, w / 2), Kind::Webp)
                .unwrap()
                .iter()
                .map(|v| v.width)
                .collect()
        };
        assert_eq!(widths(300), [300]);
        assert_eq!(widths(1200), [480, 960, 1200]);
        assert_eq!(widths(4000), [480, 960, 1600]);
        // Too tall for WebP at 1600 (1600×32000): the narrower copies only.
        let tall = plan_variants("n", "p", 1, (1600, 32_000), Kind::Jpeg).unwrap();
        assert_eq!(tall.iter().map(|v| v.width).max(), Some(480));
        assert!(plan_variants("n", "p", 1, (100, 5_000_000), Kind::Jpeg).is_err());
    }
}
