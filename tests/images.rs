//! Images beside notes, through the real binary: the frozen site plus the folder note
//! of `tests/fixtures/notes-images/` (a 1200×800 JPEG photo shown twice and a 300×200
//! PNG), and broken notes built in temporary folders.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::*;

const NOTE: &str = "content/notes/pump-photos/index.md";

/// The frozen site with the image fixture note added (not built).
fn image_site() -> tempfile::TempDir {
    let site = frozen_site();
    copy_dir(
        &repo().join("tests/fixtures/notes-images"),
        &site.path().join("content/notes"),
    );
    site
}

fn built_image_site() -> tempfile::TempDir {
    let site = image_site();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    site
}

fn note_page(site: &Path) -> String {
    std::fs::read_to_string(site.join("public/notes/pump-photos/index.html")).unwrap()
}

/// Every `<picture>…</picture>` of a page, in order.
fn pictures(html: &str) -> Vec<&str> {
    html.split("<picture")
        .skip(1)
        .map(|p| &p[..p.find("</picture>").expect("closed picture")])
        .filter(|p| p.contains("note-image"))
        .collect()
}

/// The value of `attr="…"` on the `tag` element inside `html`.
fn attr<'a>(html: &'a str, tag: &str, attr: &str) -> &'a str {
    let at = html
        .find(&format!("<{tag}"))
        .unwrap_or_else(|| panic!("no <{tag} in {html}"));
    let element = &html[at..at + html[at..].find('>').unwrap()];
    value_after(element, &format!(" {attr}=\"")).trim()
}

/// `(url, width)` of each candidate of a srcset.
fn candidates(srcset: &str) -> Vec<(String, u32)> {
    srcset
        .split(',')
        .map(|c| {
            let mut parts = c.split_whitespace();
            let url = parts.next().unwrap().to_string();
            let w = parts.next().unwrap();
            (url, w.strip_suffix('w').unwrap().parse().unwrap())
        })
        .collect()
}

/// Decodes a built file and returns its format and size.
fn decoded(site: &Path, url: &str) -> (image::ImageFormat, u32, u32) {
    let path = site.join("public").join(url.trim_start_matches('/'));
    let reader = image::ImageReader::open(&path)
        .unwrap()
        .with_guessed_format()
        .unwrap();
    let format = reader.format().unwrap();
    let img = reader.decode().unwrap();
    (format, img.width(), img.height())
}

#[test]
fn variants_exist_at_each_width_in_webp_and_the_original_format() {
    let site = built_image_site();
    let html = note_page(site.path());
    let pics = pictures(&html);
    assert_eq!(pics.len(), 3, "{html}");

    // The photo: 1200 px wide, so 480, 960 and its own 1200 (never upscaled to 1600).
    let webp = candidates(attr(pics[0], "source", "srcset"));
    let jpeg = candidates(attr(pics[0], "img", "srcset"));
    assert_eq!(attr(pics[0], "source", "type"), "image/webp");
    for (set, format) in [
        (&webp, image::ImageFormat::WebP),
        (&jpeg, image::ImageFormat::Jpeg),
    ] {
        let widths: Vec<u32> = set.iter().map(|(_, w)| *w).collect();
        assert_eq!(widths, [480, 960, 1200]);
        for (url, w) in set {
            assert!(url.starts_with("/notes/pump-photos/photo-"), "{url}");
            assert_eq!(decoded(site.path(), url), (format, *w, w * 2 / 3), "{url}");
        }
    }
    assert_eq!(
        attr(pics[0], "img", "src"),
        jpeg[1].0,
        "src is the 960 px JPEG"
    );

    // The diagram: 300 px wide, one width, WebP and PNG.
    let webp = candidates(attr(pics[1], "source", "srcset"));
    let png = candidates(attr(pics[1], "img", "srcset"));
    assert_eq!(webp.len(), 1);
    assert_eq!(png.len(), 1);
    assert_eq!(
        decoded(site.path(), &webp[0].0),
        (image::ImageFormat::WebP, 300, 200)
    );
    assert_eq!(
        decoded(site.path(), &png[0].0),
        (image::ImageFormat::Png, 300, 200)
    );
    assert_eq!(attr(pics[1], "img", "src"), png[0].0);
    // Each WebP is smaller than its fallback: lossy for the photo, lossless for the
    // flat-colour PNG.
    let size = |url: &str| {
        std::fs::metadata(site.path().join("public").join(&url[1..]))
            .unwrap()
            .len()
    };
    for pic in &pics[..2] {
        let webp = candidates(attr(pic, "source", "srcset"));
        let fallback = candidates(attr(pic, "img", "srcset"));
        for (w, f) in webp.iter().zip(&fallback) {
            assert!(size(&w.0) < size(&f.0), "{} vs {}", w.0, f.0);
        }
    }

    // The photo shown twice is made once.
    assert_eq!(
        attr(pics[2], "source", "srcset"),
        attr(pics[0], "source", "srcset")
    );
    let made = std::fs::read_dir(site.path().join("public/notes/pump-photos"))
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".html")
        })
        .filter(|e| {
            let n = e.as_ref().unwrap().file_name();
            let n = n.to_string_lossy();
            !n.ends_with(".gz") && !n.ends_with(".br")
        })
        .count();
    assert_eq!(made, 3 + 3 + 1 + 1, "six photo files and two diagram files");
}

#[test]
fn pictures_carry_size_alt_sizes_and_loading() {
    let site = built_image_site();
    let html = note_page(site.path());
    let pics = pictures(&html);
    assert_eq!(attr(pics[0], "img", "width"), "1200");
    assert_eq!(attr(pics[0], "img", "height"), "800");
    assert_eq!(attr(pics[1], "img", "width"), "300");
    assert_eq!(attr(pics[1], "img", "height"), "200");
    assert_eq!(
        attr(pics[0], "img", "alt"),
        "A forecourt under an orange dawn sky, hills behind"
    );
    assert_eq!(
        attr(pics[1], "img", "alt"),
        "A chequered diagram in orange and blue"
    );
    for pic in &pics {
        assert!(attr(pic, "img", "sizes").contains("44rem"), "{pic}");
        assert_eq!(
            attr(pic, "img", "sizes"),
            attr(pic, "source", "sizes"),
            "{pic}"
        );
    }
    // Only the first image of the note is fetched at once.
    assert_eq!(attr(pics[0], "img", "loading"), "eager");
    assert_eq!(attr(pics[0], "img", "fetchpriority"), "high");
    for pic in &pics[1..] {
        assert_eq!(attr(pic, "img", "loading"), "lazy");
        assert_eq!(attr(pic, "img", "decoding"), "async");
        assert!(!pic.contains("fetchpriority"), "{pic}");
    }
    assert!(!html.contains("style="), "no inline styles (CSP)");
    // Every srcset candidate resolves: `check` reads them all.
    let out = run(site.path(), &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn variants_are_fingerprinted_and_listed_immutable() {
    let site = built_image_site();
    let list = std::fs::read_to_string(site.path().join("public/.petrol-watch-immutable")).unwrap();
    let html = note_page(site.path());
    let mut urls = Vec::new();
    for pic in pictures(&html) {
        for (url, _) in candidates(attr(pic, "source", "srcset"))
            .into_iter()
            .chain(candidates(attr(pic, "img", "srcset")))
        {
            urls.push(url);
        }
    }
    assert_eq!(urls.len(), 14, "photo 3+3, diagram 1+1, photo again 3+3");
    for url in &urls {
        // name.<8 hex>.ext
        let name = url.rsplit('/').next().unwrap();
        let parts: Vec<&str> = name.split('.').collect();
        assert_eq!(parts.len(), 3, "{name}");
        assert!(
            parts[1].len() == 8 && parts[1].chars().all(|c| c.is_ascii_hexdigit()),
            "{name}"
        );
        assert!(
            list.lines().any(|l| l == url.trim_start_matches('/')),
            "{url} not in the immutable list"
        );
    }
    // The server sends them as immutable.
    let server = Server::start(&site.path().join("public"), &[]);
    let response = get(server.addr, &urls[0]);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("image/webp"));
    assert!(
        response
            .header("cache-control")
            .is_some_and(|c| c.contains("immutable")),
        "{:?}",
        response.headers
    );
}

#[test]
fn rebuilds_are_byte_identical_and_reuse_every_variant() {
    let site = built_image_site();
    let public = site.path().join("public");
    let first = snapshot(&public);
    let variants: Vec<String> = first
        .keys()
        .filter(|k| k.starts_with("notes/pump-photos/") && !k.contains("index.html"))
        .cloned()
        .collect();
    assert_eq!(variants.len(), 8);
    let inodes = |paths: &[String]| -> Vec<u64> {
        paths
            .iter()
            .map(|p| std::fs::metadata(public.join(p)).unwrap().ino())
            .collect()
    };
    let before = inodes(&variants);

    // Nothing changed: no image is decoded again, every variant is the same file.
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("8 image files (0 made)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(snapshot(&public), first);
    assert_eq!(
        inodes(&variants),
        before,
        "the variants were kept, not remade"
    );

    // A cold build elsewhere makes the same bytes.
    let out = run(site.path(), &["build", "--out", "cold"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("8 image files (8 made)"),
        "{}",
        stdout(&out)
    );
    let cold = snapshot(&site.path().join("cold"));
    for v in &variants {
        assert_eq!(cold.get(v), first.get(v), "{v} differs in a cold build");
    }

    // A changed image is remade (only its own files), and the page points to the new
    // ones.
    let png = site.path().join("content/notes/pump-photos/diagram.png");
    let img = image::open(&png).unwrap().to_rgba8();
    let mut img = img;
    img.put_pixel(0, 0, image::Rgba([0, 0, 0, 255]));
    img.save(&png).unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("8 image files (2 made)"),
        "{}",
        stdout(&out)
    );
    let html = note_page(site.path());
    let diagram = candidates(attr(pictures(&html)[1], "img", "srcset"));
    assert!(!first.contains_key(diagram[0].0.trim_start_matches('/')));
    assert!(public.join(diagram[0].0.trim_start_matches('/')).is_file());
}

/// A folder note `broken/index.md` holding the fixture's images and `body` after a
/// four-line front matter (so the body's first line is line 5).
fn broken_site(body: &str) -> tempfile::TempDir {
    let site = frozen_site();
    let dir = site.path().join("content/notes/broken");
    copy_dir(
        &repo().join("tests/fixtures/notes-images/pump-photos"),
        &dir,
    );
    std::fs::remove_file(dir.join("index.md")).unwrap();
    std::fs::write(
        dir.join("index.md"),
        format!("+++\ntitle = \"Broken\"\ndate = 2026-05-03\n+++\n{body}"),
    )
    .unwrap();
    site
}

/// Checks that `build` and `check` both refuse the site, saying each of `wants`.
fn refused(site: &Path, wants: &[&str]) {
    for command in ["build", "check"] {
        let out = run(site, &[command]);
        for want in wants {
            assert_fails_with(&out, want);
        }
    }
}

#[test]
fn every_broken_image_is_an_error_naming_note_and_line() {
    let at = |line: usize| format!("content/notes/broken/index.md:{line}: ");
    let mut cases: Vec<(String, String)> = vec![
        (
            "Intro.\n\n![](photo.jpg)\n".into(),
            format!("{}the image \"photo.jpg\" has no alt text", at(7)),
        ),
        (
            "![  ](photo.jpg)\n".into(),
            format!("{}the image \"photo.jpg\" has no alt text", at(5)),
        ),
        (
            "a\n\nb\n\n![Gone](missing.jpg)\n".into(),
            format!("{}image \"missing.jpg\": there is no file", at(9)),
        ),
        (
            "![Up](../x.jpg)\n".into(),
            format!("{}image \"../x.jpg\" leads out of the note's folder", at(5)),
        ),
        (
            "![Root](/etc/passwd)\n".into(),
            format!(
                "{}image \"/etc/passwd\" leads out of the note's folder",
                at(5)
            ),
        ),
        (
            "![Far](https://example.org/x.jpg)\n".into(),
            format!("{}image \"https://example.org/x.jpg\" is not a file beside the note", at(5)),
        ),
        (
            "text\n![Not an image](index.md)\n".into(),
            format!("{}image \"index.md\" is not a JPEG, PNG, WebP, GIF or SVG", at(6)),
        ),
        (
            "A multi-line paragraph\nwith an image ![a\nb](photo.jpg) and then\n![Gone](nope.png)\n".into(),
            format!("{}image \"nope.png\": there is no file", at(8)),
        ),
    ];
    // A shortcode after an image (that spans two lines) is still found on its line.
    cases.push((
        "Intro.\n\n![A photo\nover two lines](photo.jpg)\n\nThen {{ nope() }}.\n".into(),
        format!("{}unknown shortcode `nope`", at(10)),
    ));
    for (body, want) in cases {
        let site = broken_site(&body);
        refused(site.path(), &[&want]);
    }
}

#[test]
fn an_image_that_cannot_be_decoded_or_is_too_big_is_refused() {
    // A PNG with a sound header and broken pixel data: measured at load, refused
    // when decoded.
    let site = broken_site("Intro.\n\n![Cut](cut.png)\n");
    let mut png = png_header(300, 200);
    png.extend(chunk(b"IDAT", b"this is not zlib data at all"));
    png.extend(chunk(b"IEND", b""));
    std::fs::write(site.path().join("content/notes/broken/cut.png"), png).unwrap();
    let public = site.path().join("public");
    std::fs::create_dir(&public).unwrap();
    // A previous site to keep (a manifest makes it one of ours).
    std::fs::write(public.join(".petrol-watch-manifest"), "program x\n").unwrap();
    std::fs::write(public.join("old.html"), "old").unwrap();
    let before = snapshot(&public);
    refused(
        site.path(),
        &[
            "content/notes/broken/index.md:7: ",
            "content/notes/broken/cut.png cannot be decoded: ",
        ],
    );
    assert_eq!(snapshot(&public), before, "the previous site is untouched");

    // Garbage under an image's name.
    let site = broken_site("![Noise](noise.png)\n");
    std::fs::write(
        site.path().join("content/notes/broken/noise.png"),
        b"\x89PNG\r\n\x1a\nnot really",
    )
    .unwrap();
    refused(
        site.path(),
        &["content/notes/broken/index.md:5: image \"noise.png\" cannot be"],
    );

    // Over the pixel bound: a PNG whose header says 10000×6000 (60 Mpx).
    let site = broken_site("![Huge](huge.png)\n");
    std::fs::write(
        site.path().join("content/notes/broken/huge.png"),
        [
            png_header(10_000, 6_000),
            chunk(b"IDAT", b"never read"),
            chunk(b"IEND", b""),
        ]
        .concat(),
    )
    .unwrap();
    refused(
        site.path(),
        &["content/notes/broken/index.md:5: image \"huge.png\" is 10000×6000 pixels, over the 50 megapixels"],
    );

    // Over the file size bound (a sparse file: nothing is written to disk).
    let site = broken_site("![Big](big.jpg)\n");
    let big = std::fs::File::create(site.path().join("content/notes/broken/big.jpg")).unwrap();
    big.set_len(41 * 1024 * 1024).unwrap();
    refused(
        site.path(),
        &[
            "content/notes/broken/index.md:5: image \"big.jpg\": ",
            "content/notes/broken/big.jpg is 41 MiB, over the 40 MiB",
        ],
    );
}

/// A PNG signature and IHDR chunk claiming `w`×`h` RGB pixels.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png
}

/// One PNG chunk: length, type, data and CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend(kind);
    out.extend(data);
    out.extend(crc.sum().to_be_bytes());
    out
}

#[test]
fn only_folder_notes_show_images_and_a_slug_has_one_note() {
    // A file note has no folder of its own to take images from.
    let site = frozen_site();
    std::fs::write(
        site.path().join("content/notes/flat.md"),
        "+++\ntitle = \"Flat\"\ndate = 2026-05-03\n+++\n![A photo](photo.jpg)\n",
    )
    .unwrap();
    std::fs::copy(
        repo().join("tests/fixtures/notes-images/pump-photos/photo.jpg"),
        site.path().join("content/notes/photo.jpg"),
    )
    .unwrap();
    refused(
        site.path(),
        &["content/notes/flat.md:5: image \"photo.jpg\": only a folder note can show images"],
    );

    // `pump-photos.md` and `pump-photos/index.md` are both /notes/pump-photos/.
    let site = image_site();
    std::fs::write(
        site.path().join("content/notes/pump-photos.md"),
        "+++\ntitle = \"Twin\"\ndate = 2026-05-03\n+++\nText.\n",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_fails_with(&out, "slug \"pump-photos\" is also used by");
    let err = stderr(&out);
    assert!(err.contains("pump-photos.md"), "{err}");
    assert!(err.contains(NOTE), "{err}");
}

#[test]
fn a_folder_note_takes_its_folder_name_as_slug() {
    let site = built_image_site();
    let notes = std::fs::read_to_string(site.path().join("public/notes/index.html")).unwrap();
    assert!(notes.contains("href=\"/notes/pump-photos/\""), "{notes}");
    assert!(!site.path().join("public/notes/index/index.html").exists());
}

#[test]
fn gif_and_svg_are_copied_as_they_are() {
    let site = broken_site("![A moving dot](dot.gif)\n\n![A blue box](box.svg)\n");
    let dir = site.path().join("content/notes/broken");
    let gif = image::RgbaImage::from_pixel(40, 30, image::Rgba([200, 40, 40, 255]));
    gif.save(dir.join("dot.gif")).unwrap();
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="120" height="80" fill="#1e64a0"/></svg>"##;
    std::fs::write(dir.join("box.svg"), svg).unwrap();
    let out = run(site.path(), &["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(site.path().join("public/notes/broken/index.html")).unwrap();
    let pics = pictures(&html);
    assert_eq!(pics.len(), 2, "{html}");
    for (pic, name, (w, h)) in [(pics[0], "dot", (40, 30)), (pics[1], "box", (120, 80))] {
        assert!(!pic.contains("srcset") && !pic.contains("<source"), "{pic}");
        assert_eq!(attr(pic, "img", "width"), w.to_string());
        assert_eq!(attr(pic, "img", "height"), h.to_string());
        let src = attr(pic, "img", "src");
        assert!(src.starts_with(&format!("/notes/broken/{name}.")), "{src}");
        let ext = src.rsplit('.').next().unwrap();
        let built = std::fs::read(site.path().join("public").join(&src[1..])).unwrap();
        assert_eq!(
            built,
            std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap()
        );
    }
}
