//! Reuse equal to a fresh build, and one builder at a time, through the real binary.
//! A warm build (over the previous output) must be byte-identical to a cold build of
//! the same inputs after any edit; exact assertions use `tests/fixtures/small-site`.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Each kind of input, edited: what depends on it is rendered again and the warm site
/// equals a cold one.
#[test]
fn each_kind_of_edit_re_renders_what_depends_on_it() {
    let site = small_site();
    let root = site.path();
    type Edit = fn(&Path);
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "template",
            |r| {
                edit(
                    r,
                    "templates/note.html",
                    "{% endblock content %}",
                    "<p>edited</p>{% endblock content %}",
                )
            },
            &["notes/first-note/index.html"],
        ),
        (
            "config",
            |r| {
                edit(
                    r,
                    "site.toml",
                    "title = \"Fixture Watch\"",
                    "title = \"Fixture Watch 2\"",
                )
            },
            &[
                "notes/first-note/index.html",
                "tags/prices/index.html",
                "prices/fuel-prices/index.html",
            ],
        ),
        (
            "neighbour note",
            |r| {
                edit(
                    r,
                    "content/notes/second-note.md",
                    "title = \"Second note\"",
                    "title = \"Second, renamed\"",
                )
            },
            &[
                "notes/first-note/index.html",
                "notes/third-note/index.html",
                "tags/prices/index.html",
                "notes/index.html",
            ],
        ),
        (
            "tag",
            |r| {
                edit(
                    r,
                    "content/notes/third-note.md",
                    "tags = [\"Œufs\"]",
                    "tags = [\"Œufs\", \"prices\"]",
                )
            },
            &[
                "tags/prices/index.html",
                "notes/third-note/index.html",
                "notes/index.html",
            ],
        ),
        (
            "dataset row",
            |r| {
                edit(
                    r,
                    "data/fuel-prices.csv",
                    "2026-04-16,64.25,71.25",
                    "2026-04-16,64.25,71.25\n2026-05-01,65.00,71.25",
                )
            },
            &[
                "prices/fuel-prices/index.html",
                "api/prices.json",
                "api/fuel-prices.json",
                "data/fuel-prices.csv",
                "index.html",
            ],
        ),
    ];
    let mut before = warm_equals_cold(root, "first build");
    for (what, apply, dependents) in cases {
        apply(root);
        let after = warm_equals_cold(root, what);
        for d in dependents {
            assert!(
                before[*d] != after[*d],
                "{what}: {d} was not rendered again"
            );
        }
        before = after;
    }
}

/// Keys include the program's identity: a site another program built is rendered
/// again, not kept.
#[test]
fn another_program_identity_forces_a_full_re_render() {
    let site = small_site();
    let root = site.path();
    build_ok(root, "public");
    let public = root.join("public");
    let manifest = fs::read_to_string(public.join(".petrol-watch-manifest")).unwrap();
    let first = manifest.lines().next().unwrap();
    let id = first
        .strip_prefix("program ")
        .expect("the manifest names its program");
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{first}"
    );
    let fresh = snapshot(&public);

    // What an older renderer wrote: different bytes under the same key.
    let page = public.join("notes/first-note/index.html");
    fs::remove_file(&page).unwrap();
    fs::write(&page, "<p>rendered by an older program</p>").unwrap();
    // Same program: the key matches, but the page is not as the build left it (its
    // stamp beside the output differs), so it is rendered again, never kept…
    let again = build_ok(root, "public");
    assert!(stdout(&again).contains("unchanged"), "{}", stdout(&again));
    assert!(
        stderr(&again).contains("edited by hand"),
        "{}",
        stderr(&again)
    );
    assert_same(&snapshot(&public), &fresh, "after a page edited by hand");
    // …while the page is as this program left it, it is kept (the same file)…
    let inode =
        |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
    let before = inode(&page);
    build_ok(root, "public");
    assert_eq!(inode(&page), before, "the same program's page is kept");
    // …but a manifest of another program is not trusted: the page is rendered again.
    let manifest = fs::read_to_string(public.join(".petrol-watch-manifest")).unwrap();
    let other = format!("program {}\n", "0".repeat(32));
    let rest = manifest.split_once('\n').unwrap().1;
    fs::write(
        public.join(".petrol-watch-manifest"),
        format!("{other}{rest}"),
    )
    .unwrap();
    build_ok(root, "public");
    assert_ne!(
        inode(&page),
        before,
        "the page was kept, not rendered again"
    );
    assert_same(&snapshot(&public), &fresh, "after another program's build");
}

mod random_edits {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    #[derive(Clone, Debug)]
    struct NoteModel {
        slug: String,
        title: String,
        day: u8,
        tags: Vec<String>,
        description: Option<String>,
        body: String,
    }

    /// The inputs as a small model the edits change; written out whole each step.
    struct Model {
        notes: Vec<NoteModel>,
        rows: Vec<(String, String, String)>,
        title: u8,
        template: Option<u8>,
        css: Option<u8>,
        originals: BTreeMap<&'static str, String>,
    }

    impl Model {
        fn new(root: &Path) -> Model {
            let notes = (0..3)
                .map(|i| NoteModel {
                    slug: format!("note-{i}"),
                    title: format!("Note {i}"),
                    day: 10 + i,
                    tags: vec!["prices".into()],
                    description: None,
                    body: format!("Body of note {i}.\n\n## Part\n\nMore.\n"),
                })
                .collect();
            let rows = [
                ("2024-01-28", "66.20", "69.60"),
                ("2025-02-10", "61.50", "66.00"),
                ("2026-04-16", "64.25", "71.25"),
            ]
            .map(|(d, m, g)| (d.to_string(), m.to_string(), g.to_string()))
            .to_vec();
            let originals = ["templates/note.html", "site.toml", "static/style.css"]
                .map(|f| (f, fs::read_to_string(root.join(f)).unwrap()))
                .into_iter()
                .collect();
            Model {
                notes,
                rows,
                title: 0,
                template: None,
                css: None,
                originals,
            }
        }

        fn apply(&mut self, kind: u8, a: u8, b: u8) {
            let n = a as usize % self.notes.len();
            match kind {
                0 => self.notes[n].body.push_str(&format!("\nMore words {b}.\n")),
                1 => self.notes[n].title = format!("Title {b}"),
                2 => {
                    let tag = format!("tag {}", b % 4);
                    let tag = if b.is_multiple_of(2) {
                        tag
                    } else {
                        tag.to_uppercase()
                    };
                    self.notes[n].tags.push(tag);
                }
                3 => self.notes[n].tags.clear(),
                4 => {
                    let slug = format!("new-{b}");
                    if !self.notes.iter().any(|x| x.slug == slug) {
                        self.notes.push(NoteModel {
                            slug,
                            title: format!("New {b}"),
                            day: 1 + b % 28,
                            tags: vec![format!("tag {}", a % 4)],
                            description: None,
                            body: format!("New note {b}.\n"),
                        });
                    }
                }
                5 if self.notes.len() > 1 => {
                    self.notes.remove(n);
                }
                6 => self.notes[n].day = 1 + b % 28,
                7 => {
                    let row = a as usize % self.rows.len();
                    self.rows[row].1 = format!("{}.{:02}", 60 + b % 10, a % 100);
                }
                8 => self.template = Some(b),
                9 => self.title = b,
                10 => self.css = Some(b),
                // What lists show of a note: its first paragraph, its description, its
                // reading time (200 words a minute).
                11 => self.notes[n].body.insert_str(0, &format!("Opening {b}. ")),
                12 => {
                    self.notes[n].description =
                        (!b.is_multiple_of(3)).then(|| format!("Described {b}."))
                }
                _ => self.notes[n]
                    .body
                    .push_str(&"word ".repeat(150 + b as usize)),
            }
        }

        fn write(&self, root: &Path) {
            let dir = root.join("content/notes");
            fs::remove_dir_all(&dir).unwrap();
            fs::create_dir_all(&dir).unwrap();
            for n in &self.notes {
                let tags: Vec<String> = n.tags.iter().map(|t| format!("{t:?}")).collect();
                let description = n
                    .description
                    .as_ref()
                    .map_or(String::new(), |d| format!("description = {d:?}\n"));
                fs::write(
                    dir.join(format!("{}.md", n.slug)),
                    format!(
                        "+++\ntitle = {:?}\ndate = 2026-02-{:02}\ntags = [{}]\n{description}+++\n{}",
                        n.title,
                        n.day,
                        tags.join(", "),
                        n.body
                    ),
                )
                .unwrap();
            }
            let csv: String = self
                .rows
                .iter()
                .map(|(d, m, g)| format!("{d},{m},{g}\n"))
                .collect();
            fs::write(
                root.join("data/fuel-prices.csv"),
                format!("date,mogas,gasoil\n{csv}"),
            )
            .unwrap();
            let note = &self.originals["templates/note.html"];
            let note = match self.template {
                Some(v) => note.replacen(
                    "{% endblock content %}",
                    &format!("<p>v{v}</p>{{% endblock content %}}"),
                    1,
                ),
                None => note.clone(),
            };
            fs::write(root.join("templates/note.html"), note).unwrap();
            fs::write(
                root.join("site.toml"),
                self.originals["site.toml"].replacen(
                    "title = \"Fixture Watch\"",
                    &format!("title = \"Fixture Watch {}\"", self.title),
                    1,
                ),
            )
            .unwrap();
            let mut css = self.originals["static/style.css"].clone();
            if let Some(v) = self.css {
                css.push_str(&format!("/* {v} */\n"));
            }
            fs::write(root.join("static/style.css"), css).unwrap();
        }
    }

    proptest! {
        // Seeded and bounded: the same 10 sequences of up to 4 edits on every run,
        // each step a warm and a cold build of a small site.
        #![proptest_config(Config {
            cases: 10,
            max_shrink_iters: 16,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(20_261_122),
            ..Config::default()
        })]
        #[test]
        fn warm_builds_after_random_edits_equal_cold_builds(
            edits in prop::collection::vec((0u8..14, any::<u8>(), any::<u8>()), 1..5)
        ) {
            let site = small_site();
            let root = site.path();
            let mut model = Model::new(root);
            model.write(root);
            warm_equals_cold(root, "start");
            for (step, &(kind, a, b)) in edits.iter().enumerate() {
                model.apply(kind, a, b);
                model.write(root);
                warm_equals_cold(root, &format!("step {step}: edit {kind} ({a}, {b}) of {edits:?}"));
            }
        }
    }
}

/// Two builds of different inputs into one folder at once, many rounds: every result is
/// wholly one input's site, never a mix. The slow one (many notes) starts over its own
/// previous site; the quick one starts a little later each round, so that some round
/// swaps its site in while the slow one is still reusing files from that folder.
#[test]
fn concurrent_builds_of_different_inputs_never_mix() {
    let quick = small_site();
    let slow = small_site();
    edit(
        slow.path(),
        "site.toml",
        "title = \"Fixture Watch\"",
        "title = \"Other Watch\"",
    );
    edit(
        slow.path(),
        "data/fuel-prices.csv",
        "64.25,71.25",
        "65.75,72.00",
    );
    for i in 0..200 {
        fs::write(
            slow.path().join(format!("content/notes/n{i}.md")),
            format!(
                "+++\ntitle = \"N {i}\"\ndate = 2025-01-01\ntags = [\"t{}\"]\n+++\nWords {i}.\n",
                i % 50
            ),
        )
        .unwrap();
    }
    let shared = tempfile::tempdir().unwrap();
    let out = shared.path().join("public");
    let out_arg = out.to_str().unwrap();
    build_ok(quick.path(), "cold");
    let cold_quick = snapshot(&quick.path().join("cold"));
    build_ok(slow.path(), "cold");
    let cold_slow = snapshot(&slow.path().join("cold"));
    let spawn = |root: &Path| {
        Command::new(bin())
            .arg("--root")
            .arg(root)
            .args(["build", "--out", out_arg])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let started = Instant::now();
    for (round, delay) in [
        0u64, 5, 10, 20, 30, 45, 60, 80, 100, 130, 160, 200, 250, 300,
    ]
    .into_iter()
    .enumerate()
    {
        // A loaded machine gets fewer rounds, never a failure for being slow; a few
        // rounds always run.
        if round >= 4 && started.elapsed() > Duration::from_secs(90) {
            break;
        }
        assert!(spawn(slow.path()).wait().unwrap().success());
        let mut first = spawn(slow.path());
        std::thread::sleep(Duration::from_millis(delay));
        let mut second = spawn(quick.path());
        assert!(first.wait().unwrap().success() && second.wait().unwrap().success());
        let now = snapshot(&out);
        assert!(
            now == cold_quick || now == cold_slow,
            "round {round}: a mixed site: {:?}",
            now.keys()
                .chain(cold_quick.keys())
                .chain(cold_slow.keys())
                .filter(|k| cold_quick.get(*k) != now.get(*k) && cold_slow.get(*k) != now.get(*k))
                .take(5)
                .collect::<Vec<_>>()
        );
    }
}

/// A second build waits for the first, saying so.
#[test]
fn a_second_build_waits_for_the_lock_with_a_message() {
    let site = small_site();
    let lock_path = site.path().join(".public.lock");
    let lock = fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();
    let mut child = Command::new(bin())
        .arg("--root")
        .arg(site.path())
        .arg("build")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut line = String::new();
        let mut byte = [0u8; 1];
        while std::io::Read::read(&mut stderr, &mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0] as char);
        }
        line
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let line = reader.join().unwrap();
    assert!(
        line.contains("waiting for another build of") && line.contains("public/"),
        "{line}"
    );
    assert!(child.try_wait().unwrap().is_none(), "it waits");
    assert!(
        !site.path().join("public").exists(),
        "and writes nothing meanwhile"
    );
    drop(lock);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(site.path().join("public/index.html").is_file());
}

#[test]
fn staging_folders_of_killed_builds_are_removed() {
    let site = small_site();
    let killed = site.path().join(".public.tmp-killed1");
    fs::create_dir_all(killed.join("notes")).unwrap();
    fs::write(killed.join("notes/big.html"), vec![b'x'; 100_000]).unwrap();
    // What a build marks its staging folder with while it runs.
    fs::write(killed.join(".petrol-watch-staging"), b"").unwrap();
    // A folder that only looks like one is someone's own, and stays.
    let mine = site.path().join(".public.tmp-mine");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join("keep.txt"), b"mine").unwrap();
    build_ok(site.path(), "public");
    assert_eq!(staging_folders(site.path()), [".public.tmp-mine"]);
    assert_eq!(fs::read(mine.join("keep.txt")).unwrap(), b"mine");
    assert!(!site.path().join("public/.petrol-watch-staging").exists());
}

#[test]
fn a_symlinked_output_keeps_its_link() {
    let site = small_site();
    let link = site.path().join("public");
    std::os::unix::fs::symlink("real-site", &link).unwrap();
    for round in 0..2 {
        build_ok(site.path(), "public");
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "round {round}: the link was replaced by a folder"
        );
        assert!(site.path().join("real-site/index.html").is_file());
    }
}

/// A build never writes into the live site's files, which a `cp -al` backup (or the
/// previous build's reuse) shares through hard links; and a failed build leaves the
/// live site as it was. Before the plan, the tags `日本` and `⛽` had an empty slug and
/// their page and the tags index both wrote `tags/index.html`: the first was linked
/// from the live site, the second was then written through that link.
#[test]
fn a_build_never_writes_through_hard_links() {
    let site = small_site();
    build_ok(site.path(), "public");
    let public = site.path().join("public");
    let backup = site.path().join("backup");
    for (rel, _) in snapshot(&public) {
        let to = backup.join(&rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::hard_link(public.join(&rel), to).unwrap();
    }
    let saved = snapshot(&backup);
    // A new tag changes the tags index and no other tag page.
    fs::write(
        site.path().join("content/notes/newer.md"),
        "+++\ntitle = \"Newer\"\ndate = 2026-04-01\ntags = [\"brand new\"]\n+++\nNew.\n",
    )
    .unwrap();
    build_ok(site.path(), "public");
    assert_same(&snapshot(&backup), &saved, "the backup after a build");

    let before = snapshot(&public);
    fs::write(
        site.path().join("templates/404.html"),
        "{% extends \"base.html\" %}{% block content %}{{ no_such_variable }}{% endblock content %}",
    )
    .unwrap();
    let out = run(site.path(), &["build"]);
    assert_fails_with(&out, "templates/404.html");
    assert_same(
        &snapshot(&public),
        &before,
        "the live site after a failed build",
    );
}

/// Every share card under `dir`, by site path, with its inode.
fn pngs(dir: &Path) -> BTreeMap<String, u64> {
    use std::os::unix::fs::MetadataExt;
    snapshot(dir)
        .into_keys()
        .filter(|p| p.starts_with("share/") && p.ends_with(".png"))
        .map(|p| {
            let ino = fs::metadata(dir.join(&p)).unwrap().ino();
            (p, ino)
        })
        .collect()
}

#[test]
fn images_survive_an_emptied_output_through_the_cache() {
    let site = small_site();
    let root = site.path();
    build_ok(root, "public");
    let first = pngs(&root.join("public"));
    assert!(first.len() >= 4, "share cards expected: {first:?}");
    let cache = root.join(".public.cache");
    let entries = |c: &Path| fs::read_dir(c).unwrap().count();
    assert_eq!(entries(&cache), first.len(), "one cache entry per image");

    // Emptied output: every image comes back from the cache (same file), not redrawn.
    fs::remove_dir_all(root.join("public")).unwrap();
    let out = build_ok(root, "public");
    assert_eq!(pngs(&root.join("public")), first, "images were redrawn");
    assert!(
        stdout(&out).contains(&format!("({} unchanged)", first.len())),
        "{}",
        stdout(&out)
    );

    // The same bytes as a build with nothing cached.
    fs::remove_dir_all(&cache).unwrap();
    build_ok(root, "fresh");
    let fresh = snapshot(&root.join("fresh"));
    let cached = snapshot(&root.join("public"));
    for path in first.keys() {
        assert!(
            cached[path] == fresh[path],
            "{path} differs from a fresh drawing"
        );
    }

    // A removed note's card leaves the cache with the next build: it holds one site.
    fs::remove_file(root.join("content/notes/third-note.md")).unwrap();
    build_ok(root, "public");
    let now = pngs(&root.join("public"));
    assert_eq!(now.len(), first.len() - 1);
    assert_eq!(entries(&cache), now.len(), "the cache kept an unused image");

    // A cache that cannot be made costs redrawing, never the build.
    fs::remove_dir_all(&cache).unwrap();
    fs::write(&cache, "in the way").unwrap();
    fs::remove_dir_all(root.join("public")).unwrap();
    build_ok(root, "public");
    assert_eq!(pngs(&root.join("public")).len(), now.len());
}

/// A build with nothing changed leaves the live site as it is: no folder swapped in,
/// no file relinked. Its report still counts every file as unchanged.
#[test]
fn a_build_with_nothing_changed_leaves_the_live_site_alone() {
    use std::os::unix::fs::MetadataExt;
    let site = small_site();
    let root = site.path();
    build_ok(root, "public");
    let public = root.join("public");
    let inode = |p: &Path| fs::metadata(p).unwrap().ino();
    let (folder, page) = (inode(&public), inode(&public.join("index.html")));
    let before = snapshot(&public);
    let out = build_ok(root, "public");
    assert_eq!(inode(&public), folder, "the site folder was swapped");
    assert_eq!(inode(&public.join("index.html")), page);
    assert_same(
        &snapshot(&public),
        &before,
        "after a build with nothing changed",
    );
    assert_every_file_unchanged(&out);
    let left = staging_folders(root);
    assert!(left.is_empty(), "{left:?}");
}

/// Files removed from the live site by hand (a page, a compressed sibling) come back
/// on the next build, and the site equals a cold build.
#[test]
fn files_removed_from_the_site_by_hand_come_back() {
    let site = small_site();
    let root = site.path();
    build_ok(root, "warm");
    let warm = root.join("warm");
    fs::remove_file(warm.join("index.html.br")).unwrap();
    fs::remove_file(warm.join("notes/second-note/index.html")).unwrap();
    let rebuilt = warm_equals_cold(root, "after files were removed by hand");
    assert!(rebuilt.contains_key("index.html.br"));
    assert!(rebuilt.contains_key("notes/second-note/index.html"));
}

/// An edit after a build with nothing changed is still picked up: the skipped
/// build left the manifest it found.
#[test]
fn an_edit_after_a_build_with_nothing_changed_is_picked_up() {
    let site = small_site();
    let root = site.path();
    build_ok(root, "warm");
    build_ok(root, "warm");
    let note = root.join("content/notes/second-note.md");
    let text = fs::read_to_string(&note).unwrap();
    fs::write(&note, format!("{text}\nAn added last line.\n")).unwrap();
    let warm = warm_equals_cold(root, "after an edit");
    let page = String::from_utf8_lossy(&warm["notes/second-note/index.html"]).into_owned();
    assert!(page.contains("An added last line."));
}

/// On a file system that will not hard-link (vfat, some network mounts; simulated by
/// a preloaded `link`/`linkat` that fail with EPERM), a build after an edit copies
/// the files it keeps instead of failing, and equals a cold build.
#[cfg(target_os = "linux")]
#[test]
fn an_output_that_cannot_hold_hard_links_still_builds_after_an_edit() {
    let site = small_site();
    let root = site.path();
    let shim = root.join("nolink.c");
    fs::write(
        &shim,
        "#include <errno.h>\n\
         int linkat(int a, const char *o, int b, const char *n, int f) { errno = 1; return -1; }\n\
         int link(const char *o, const char *n) { errno = 1; return -1; }\n",
    )
    .unwrap();
    let lib = root.join("nolink.so");
    let cc = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&shim)
        .status();
    let Ok(status) = cc else {
        panic!("no C compiler (cc) to build the link-refusing shim");
    };
    assert!(status.success());
    let build = || {
        Command::new(bin())
            .arg("--root")
            .arg(root)
            .args(["build", "--out", "warm"])
            .env("LD_PRELOAD", &lib)
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let o = build();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let note = root.join("content/notes/second-note.md");
    let text = fs::read_to_string(&note).unwrap();
    fs::write(&note, format!("{text}\nA line added on a linkless disk.\n")).unwrap();
    let o = build();
    assert!(o.status.success(), "{}", stderr(&o));
    let warm = snapshot(&root.join("warm"));
    build_ok(root, "cold");
    assert_same(&warm, &snapshot(&root.join("cold")), "without hard links");
}
