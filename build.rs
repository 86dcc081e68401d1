//! Gives the program an identity for the build's reuse keys: a hash of everything that
//! goes into the binary (its sources, manifest and lock file, the compiler, profile,
//! target and features), as `PETROL_WATCH_PROGRAM_ID`. Any change to the renderer
//! changes it, so `build` never keeps pages an older program rendered.
//!
//! Chosen over hashing the running executable: that would read the whole binary
//! (100 MB+ in debug) on every build and on every `dev` rebuild, while this costs
//! nothing at run time and is the same on every machine that builds the same source.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

fn main() {
    let mut h = DefaultHasher::new();
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    files.sort();
    files.extend(["Cargo.toml", "Cargo.lock", "build.rs"].map(PathBuf::from));
    for f in &files {
        f.to_string_lossy().replace('\\', "/").hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default();
    version.hash(&mut h);
    for (k, v) in std::env::vars() {
        if k.starts_with("CARGO_FEATURE_")
            || matches!(k.as_str(), "PROFILE" | "TARGET" | "OPT_LEVEL" | "DEBUG")
            || k.starts_with("CARGO_CFG_TARGET_FEATURE")
        {
            (k, v).hash(&mut h);
        }
    }
    let first = h.finish();
    // A second, salted pass for 128 bits: two different programs should never share an id.
    0xa5u8.hash(&mut h);
    let second = h.finish();
    println!("cargo:rustc-env=PETROL_WATCH_PROGRAM_ID={first:016x}{second:016x}");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}
