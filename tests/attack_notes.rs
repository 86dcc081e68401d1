//! Hostile and careless inputs against folder notes with images, the image cache, the
//! redirect list and pagination, through the real binary: each test is a case that
//! once hung, published a broken file or lost data.

mod common;

use std::time::Duration;

use common::*;

/// The frozen site with a folder note `pix/index.md` beside the fixture's images,
/// whose body (after a four-line front matter) is `body`.
fn image_note_site(body: &str) -> tempfile::TempDir {
    let site = frozen_site();
    let dir = site.path().join("content/notes/pix");
    copy_dir(
        &repo().join("tests/fixtures/notes-images/pump-photos"),
        &dir,
    );
    std::fs::write(
        dir.join("index.md"),
        format!("+++\ntitle = \"Pix\"\ndate = 2026-05-03\n+++\n{body}"),
    )
    .unwrap();
    site
}

#[test]
fn a_note_showing_one_image_thirty_thousand_times_builds_quickly() {
    // Each reference is a line of its own; line numbers and feed links were counted
    // from the top of the note for every image, so this took minutes.
    let body = "![A chequered diagram](diagram.png)\n".repeat(30_000);
    let site = image_note_site(&body);
    let (out, _) = run_within(site.path(), &["build"], Duration::from_secs(40));
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(site.path().join("public/notes/pix/index.html")).unwrap();
    assert_eq!(page.matches("<picture").count(), 30_000);
}

#[test]
fn a_damaged_image_cache_entry_is_redrawn_not_published() {
    let site =
        image_note_site("![A chequered diagram](diagram.png)\n\n![A forecourt](photo.jpg)\n");
    let root = site.path();
    build_ok(root, "public");
    let fresh = snapshot(&root.join("public"));
    // Every cached image cut short or overwritten, as a full disk or a crash leaves it.
    let cache = root.join(".public.cache");
    let mut damaged = 0;
    for (i, e) in std::fs::read_dir(&cache).unwrap().enumerate() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let bad = if i % 2 == 0 {
            bytes[..bytes.len() / 2].to_vec()
        } else {
            vec![b'x'; bytes.len()]
        };
        std::fs::write(&path, bad).unwrap();
        damaged += 1;
    }
    assert!(damaged >= 6, "images and share cards expected in the cache");
    // An emptied output makes the build take its images from the cache.
    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    let again = snapshot(&root.join("public"));
    for (path, bytes) in &fresh {
        assert!(again[path] == *bytes, "{path} differs from a fresh build");
    }
    // And the cache holds good copies again.
    build_ok(root, "fresh");
    std::fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(snapshot(&root.join("public")), fresh);
}

/// A PNG of `w`×`h` black RGB pixels: a few hundred KB that decode to `3·w·h` bytes.
fn black_png(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    let chunk = |kind: &[u8; 4], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&crc.sum().to_be_bytes());
        c
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let row = vec![0u8; 3 * w as usize + 1];
    for _ in 0..h {
        z.write_all(&row).unwrap();
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &z.finish().unwrap()));
    png.extend(chunk(b"IEND", b""));
    png
}

#[test]
fn decoding_big_images_takes_bounded_memory_whatever_the_thread_count() {
    // Two 16 Mpx images, six variants each, on four threads: every variant decoded
    // its source at once, so memory grew with the cores (700 MB here).
    let site = image_note_site("![A black square](a.png)\n\n![Another](b.png)\n");
    let dir = site.path().join("content/notes/pix");
    let png = black_png(4000, 4000);
    std::fs::write(dir.join("a.png"), &png).unwrap();
    std::fs::write(dir.join("b.png"), &png).unwrap();
    let mut child = std::process::Command::new(bin())
        .arg("--root")
        .arg(site.path())
        .arg("build")
        .env("RAYON_NUM_THREADS", "4")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            if let Some(kib) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        assert!(started.elapsed() < Duration::from_secs(120), "build hung");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    assert!(
        peak_kib < 400 * 1024,
        "the build peaked at {} MiB",
        peak_kib / 1024
    );
}

#[test]
fn an_svg_pointing_at_a_fifo_or_device_is_measured_without_reading_it() {
    // Measuring an SVG loaded the files its <image> elements name, anywhere on the
    // disk: a FIFO hung the build, /dev/zero would fill memory. A browser shows an SVG
    // in <img> without loading anything, so the build needs none of them either.
    let site = image_note_site("![A drawing](drawing.svg)\n");
    let dir = site.path().join("content/notes/pix");
    let fifo = site.path().join("pipe");
    mkfifo(&fifo);
    std::fs::write(
        dir.join("drawing.svg"),
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"30\"><image href=\"{}\" width=\"40\" height=\"30\"/></svg>",
            fifo.display()
        ),
    )
    .unwrap();
    for command in ["check", "build"] {
        let (out, _) = run_within(site.path(), &[command], Duration::from_secs(20));
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let page = std::fs::read_to_string(site.path().join("public/notes/pix/index.html")).unwrap();
    assert!(page.contains("width=\"40\" height=\"30\""), "{page}");
}

#[test]
fn a_note_opening_with_an_image_is_summed_up_by_its_first_words() {
    // The first paragraph was the image alone, so lists, the meta description and the
    // feed showed an empty summary.
    let site =
        image_note_site("![A chequered diagram](diagram.png)\n\nThe board changed overnight.\n");
    build_ok(site.path(), "public");
    let public = site.path().join("public");
    let note = std::fs::read_to_string(public.join("notes/pix/index.html")).unwrap();
    assert!(
        note.contains("name=\"description\" content=\"The board changed overnight.\""),
        "{note}"
    );
    let list = std::fs::read_to_string(public.join("notes/index.html")).unwrap();
    assert!(
        list.contains("<p>The board changed overnight.</p>"),
        "{list}"
    );
}

#[test]
fn feed_entries_give_image_candidates_absolute_addresses() {
    // `src` was made absolute for feed readers but `srcset` was not, so a reader
    // picking a candidate asked its own origin for /notes/….
    let site = image_note_site("Words first.\n\n![A chequered diagram](diagram.png)\n");
    build_ok(site.path(), "public");
    let feed = std::fs::read_to_string(site.path().join("public/feed.xml")).unwrap();
    let base = "https://";
    let mut seen = 0;
    for part in feed.split("srcset=&quot;").skip(1) {
        let value = &part[..part.find("&quot;").unwrap()];
        for candidate in value.split(", ") {
            assert!(candidate.starts_with(base), "{candidate}");
            seen += 1;
        }
    }
    assert!(seen >= 2, "no srcset in the feed: {feed}");
}
