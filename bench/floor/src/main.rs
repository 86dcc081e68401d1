//! `build-floor SITE SCRATCH`: the time to write every file of the built site `SITE`
//! (read into memory first, then written under `SCRATCH` on two threads) and to
//! compress each file that has a `.gz` sibling once to gzip at libdeflate's level 1
//! and once to Brotli at quality 0, the fastest levels (on two threads). That is less
//! than any build of that output can do: nothing is read, parsed or rendered, and the
//! siblings are smaller at the build's levels. Prints one line of milliseconds.
//!
//! It also times the same work at the levels the site is served with ("served"): each
//! sibling made again by the encoder and level that gives the very size of the one the
//! build wrote (found before the clock starts), large files streamed in pieces as the
//! build streams them. Whatever a build of that output renders, it cannot take less:
//! what is left between the build and this is the rendering's share.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

const THREADS: usize = 2;
/// The build's streamed files are written in pieces of this size.
const PIECE: usize = 1 << 20;

/// One way the build makes a sibling.
#[derive(Clone, Copy, Debug)]
enum Encoder {
    /// libdeflate, one call, at this level.
    Gzip(i32),
    /// zlib (zlib-rs, as flate2 in the build), streamed in pieces, at this level.
    GzipStreamed(u32),
    /// Brotli, one call, at this quality, with a window no larger than the input.
    Brotli(u8),
    /// Brotli streamed in pieces at this quality, with the largest window.
    BrotliStreamed(u8),
}

const GZIP_CANDIDATES: [Encoder; 3] =
    [Encoder::Gzip(1), Encoder::Gzip(6), Encoder::GzipStreamed(3)];
const BROTLI_CANDIDATES: [Encoder; 3] = [
    Encoder::Brotli(4),
    Encoder::Brotli(2),
    Encoder::BrotliStreamed(2),
];

/// A window no larger than the input, as the build chooses it.
fn fitted_window(bytes: &[u8]) -> brotlic::WindowSize {
    let fits = (usize::BITS - bytes.len().max(1).leading_zeros()).clamp(10, 22);
    brotlic::WindowSize::new(fits as u8).unwrap()
}

/// The size of `bytes` compressed by `encoder`.
fn compressed_len(encoder: Encoder, bytes: &[u8]) -> usize {
    match encoder {
        Encoder::Gzip(level) => {
            thread_local! {
                // A compressor's tables, made once per thread and level, as the build does.
                static GZIP: std::cell::RefCell<Vec<(i32, libdeflater::Compressor)>> =
                    const { std::cell::RefCell::new(Vec::new()) };
            }
            GZIP.with_borrow_mut(|made| {
                let at = match made.iter().position(|(l, _)| *l == level) {
                    Some(at) => at,
                    None => {
                        let lvl = libdeflater::CompressionLvl::new(level).unwrap();
                        made.push((level, libdeflater::Compressor::new(lvl)));
                        made.len() - 1
                    }
                };
                let gzip = &mut made[at].1;
                let mut out = vec![0; gzip.gzip_compress_bound(bytes.len())];
                gzip.gzip_compress(bytes, &mut out).unwrap()
            })
        }
        Encoder::GzipStreamed(level) => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            for piece in bytes.chunks(PIECE) {
                gz.write_all(piece).unwrap();
            }
            gz.finish().unwrap().len()
        }
        Encoder::Brotli(quality) => {
            let quality = brotlic::Quality::new(quality).unwrap();
            // Brotli's bound is only given from quality 2; the input plus its framing is
            // enough below, where it never expands much.
            let bound = brotlic::compress_bound(bytes.len(), quality)
                .unwrap_or(bytes.len() + bytes.len() / 8 + 1024);
            let mut out = vec![0; bound];
            brotlic::compress(
                bytes,
                &mut out,
                quality,
                fitted_window(bytes),
                brotlic::CompressionMode::Generic,
            )
            .unwrap()
        }
        Encoder::BrotliStreamed(quality) => {
            let encoder = brotlic::BrotliEncoderOptions::new()
                .quality(brotlic::Quality::new(quality).unwrap())
                .window_size(brotlic::WindowSize::new(22).unwrap())
                .build()
                .unwrap();
            let mut br = brotlic::CompressorWriter::with_encoder(encoder, Vec::new());
            for piece in bytes.chunks(PIECE) {
                br.write_all(piece).unwrap();
            }
            br.into_inner().unwrap().len()
        }
    }
}

/// The candidate that gives `bytes` the size `len`; none when no candidate does (the
/// build changed its levels, and this tool must follow).
fn encoder_of(candidates: &[Encoder], bytes: &[u8], len: u64) -> Option<Encoder> {
    candidates
        .iter()
        .copied()
        .find(|&e| compressed_len(e, bytes) as u64 == len)
}

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

/// Runs `work` on each item on [`THREADS`] threads, each taking the next item when it
/// is free: given the largest first, no thread is left with a long tail.
fn side_by_side<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            let (work, next) = (&work, &next);
            s.spawn(move || {
                while let Some(item) =
                    items.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    work(item);
                }
            });
        }
    });
}

/// The time to make every sibling of `jobs` (a file's bytes and an encoder each),
/// the largest first, in ms.
fn time_compressing(mut jobs: Vec<(&[u8], Encoder)>) -> f64 {
    jobs.sort_by_key(|(bytes, _)| std::cmp::Reverse(bytes.len()));
    let started = Instant::now();
    side_by_side(&jobs, |&(bytes, encoder)| {
        std::hint::black_box(compressed_len(encoder, bytes));
    });
    started.elapsed().as_secs_f64() * 1000.0
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
    let sibling_len = |rel: &Path, suffix: &str| {
        let mut path = site.join(rel).into_os_string();
        path.push(suffix);
        std::fs::metadata(path).ok().map(|m| m.len())
    };
    let compressible: Vec<(&[u8], u64, u64)> = loaded
        .iter()
        .filter_map(|(rel, bytes)| {
            Some((
                bytes.as_slice(),
                sibling_len(rel, ".gz")?,
                sibling_len(rel, ".br")?,
            ))
        })
        .collect();
    // Before the clock: which encoder made each sibling, found on two threads.
    let served: std::sync::Mutex<Vec<(usize, Encoder, Encoder)>> = Default::default();
    let numbered: Vec<_> = compressible.iter().enumerate().collect();
    side_by_side(&numbered, |&(i, &(bytes, gz_len, br_len))| {
        let found = (
            encoder_of(&GZIP_CANDIDATES, bytes, gz_len),
            encoder_of(&BROTLI_CANDIDATES, bytes, br_len),
        );
        let (Some(gz), Some(br)) = found else {
            eprintln!(
                "build-floor: no known encoder gives the siblings of a {}-byte file \
                 ({gz_len} gzip, {br_len} Brotli bytes)",
                bytes.len()
            );
            std::process::exit(1);
        };
        served.lock().unwrap().push((i, gz, br));
    });
    let mut served = served.into_inner().unwrap();
    served.sort_by_key(|&(i, ..)| i);

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

    let fastest = compressible
        .iter()
        .flat_map(|&(bytes, ..)| [(bytes, Encoder::Gzip(1)), (bytes, Encoder::Brotli(0))]);
    let compress_ms = time_compressing(fastest.collect());
    let at_served_levels = served
        .iter()
        .flat_map(|&(i, gz, br)| [(compressible[i].0, gz), (compressible[i].0, br)]);
    let served_ms = time_compressing(at_served_levels.collect());
    let bytes: usize = compressible.iter().map(|(b, ..)| b.len()).sum();
    println!(
        "files {} compressible {} bytes {} write_ms {:.0} compress_ms {:.0} floor_ms {:.0} \
         served_compress_ms {:.0} served_ms {:.0}",
        loaded.len(),
        compressible.len(),
        bytes,
        write_ms,
        compress_ms,
        write_ms + compress_ms,
        served_ms,
        write_ms + served_ms
    );
}
