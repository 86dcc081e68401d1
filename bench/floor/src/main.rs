//! `build-floor SITE SCRATCH`: the time to write every file of the built site `SITE`
//! (read into memory first, then written under `SCRATCH` on two threads) and to
//! compress each file that has a `.gz` sibling once to gzip at libdeflate's level 1
//! and once to Brotli at quality 0, the fastest levels (on two threads). That is less
//! than any build of that output can do: nothing is read, parsed or rendered, and the
//! siblings are smaller at the build's levels. Prints one line of milliseconds.

use std::path::{Path, PathBuf};
use std::time::Instant;

const THREADS: usize = 2;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Runs `work` on each item, the items shared out over [`THREADS`] threads in turn.
fn side_by_side<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let work = &work;
            s.spawn(move || items.iter().skip(t).step_by(THREADS).for_each(work));
        }
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, site, scratch] = args.as_slice() else {
        eprintln!("usage: build-floor SITE SCRATCH");
        std::process::exit(2);
    };
    let (site, scratch) = (Path::new(site), Path::new(scratch));
    let mut paths = Vec::new();
    files(site, &mut paths);
    paths.sort();
    let loaded: Vec<(PathBuf, Vec<u8>)> = paths
        .iter()
        .map(|p| {
            (
                p.strip_prefix(site).unwrap().to_path_buf(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let compressible: Vec<&[u8]> = loaded
        .iter()
        .filter(|(rel, _)| {
            let mut gz = site.join(rel).into_os_string();
            gz.push(".gz");
            Path::new(&gz).exists()
        })
        .map(|(_, bytes)| bytes.as_slice())
        .collect();

    let started = Instant::now();
    // Each folder once: siblings' folders are not all next to each other in path order.
    let dirs: std::collections::BTreeSet<PathBuf> = loaded
        .iter()
        .filter_map(|(rel, _)| rel.parent().map(|d| scratch.join(d)))
        .collect();
    dirs.iter()
        .for_each(|d| std::fs::create_dir_all(d).unwrap());
    side_by_side(&loaded, |(rel, bytes)| {
        std::fs::write(scratch.join(rel), bytes).unwrap()
    });
    let write_ms = started.elapsed().as_secs_f64() * 1000.0;

    let started = Instant::now();
    side_by_side(&compressible, |bytes| {
        thread_local! {
            static GZIP: std::cell::RefCell<libdeflater::Compressor> = std::cell::RefCell::new(
                libdeflater::Compressor::new(libdeflater::CompressionLvl::new(1).unwrap()),
            );
        }
        GZIP.with_borrow_mut(|gzip| {
            let mut out = vec![0; gzip.gzip_compress_bound(bytes.len())];
            std::hint::black_box(gzip.gzip_compress(bytes, &mut out).unwrap());
        });
        let quality = brotlic::Quality::new(0).unwrap();
        // Brotli's bound is only given from quality 2; the input plus its framing is
        // enough for quality 0, which never expands much.
        let mut out = vec![0; bytes.len() + bytes.len() / 8 + 1024];
        // A window no larger than the input, as the build chooses it.
        let fits = (usize::BITS - bytes.len().max(1).leading_zeros()).clamp(10, 22);
        let window = brotlic::WindowSize::new(fits as u8).unwrap();
        std::hint::black_box(
            brotlic::compress(
                bytes,
                &mut out,
                quality,
                window,
                brotlic::CompressionMode::Generic,
            )
            .unwrap(),
        );
    });
    let compress_ms = started.elapsed().as_secs_f64() * 1000.0;
    let bytes: usize = compressible.iter().map(|b| b.len()).sum();
    println!(
        "files {} compressible {} bytes {} write_ms {:.0} compress_ms {:.0} floor_ms {:.0}",
        loaded.len(),
        compressible.len(),
        bytes,
        write_ms,
        compress_ms,
        write_ms + compress_ms
    );
}
