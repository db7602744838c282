//! `cargo xtask build-widget`: the widget bundle in `target/dist/`, built with the same three
//! tools a Wasm bundler would call, without one:
//!
//! 1. `cargo build` of both binaries of the widget crate (`kefu-widget` for visitors,
//!    `kefu-agent` for the workspace) for wasm32 with the size-tuned `wasm-release` profile;
//! 2. `wasm-bindgen --target web` for each, which writes the JS glue `<bin>.js` and
//!    `<bin>_bg.wasm` (the version in `Cargo.lock`, installed by `cargo xtask setup`);
//! 3. `wasm-opt -Oz` (npm's binaryen, pinned in `setup.rs`) over each `_bg.wasm`;
//!
//! and `style/kefu.css` copied beside them. The file names are stable (no content hash): the
//! server writes its own pages that load them under a fixed path with a version query, which
//! a strict Content-Security-Policy allows without `'unsafe-inline'` (server/src/pages.rs).
//! The project built this with Trunk until it was the single largest cost of a fresh
//! machine's CI run (~10 minutes to compile Trunk) for four commands it ran in this order.
//! The gzipped sizes printed at the end are what a visitor downloads.

use std::{fs, path::Path};

use crate::{Error, Result, cmd::Cmd, project_root, setup, target_dir};

/// The widget crate's binaries: (cargo binary, output name).
const BINARIES: [&str; 2] = ["kefu-widget", "kefu-agent"];
/// wasm-opt's flags: the features current Rust output uses, and the assumptions that let it
/// shrink more (memory not imported, so unused low memory and zero-filled memory are safe).
const WASM_OPT_FLAGS: [&str; 6] = [
    "-Oz",
    "--low-memory-unused",
    "--zero-filled-memory",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
];

pub(crate) fn build_widget() -> Result<()> {
    let dist = project_root().join("target/dist");
    let stage = target_dir().join("widget-stage");
    let mut cargo = Cmd::cargo().args([
        "build",
        "--package",
        "kefu-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]);
    for binary in BINARIES {
        cargo = cargo.args(["--bin", binary]);
    }
    cargo.run()?;
    fresh_dir(&stage)?;
    fresh_dir(&dist)?;
    let wasm_dir = target_dir().join("wasm32-unknown-unknown/wasm-release");
    for binary in BINARIES {
        Cmd::new("wasm-bindgen")
            .arg("--target=web")
            .arg(format!("--out-dir={}", stage.display()))
            .arg(format!("--out-name={binary}"))
            .arg("--no-typescript")
            .arg(wasm_dir.join(format!("{binary}.wasm")))
            .run()?;
        fs::copy(
            stage.join(format!("{binary}.js")),
            dist.join(format!("{binary}.js")),
        )?;
        Cmd::new(setup::wasm_opt_path()?)
            .args(WASM_OPT_FLAGS)
            .arg(stage.join(format!("{binary}_bg.wasm")))
            .arg("-o")
            .arg(dist.join(format!("{binary}_bg.wasm")))
            .run()?;
    }
    fs::copy(project_root().join("style/kefu.css"), dist.join("kefu.css"))?;
    print_sizes()
}

/// Empties `dir` (creating it when missing), so nothing of an earlier build is left.
fn fresh_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)
            .map_err(|error| Error::new(format!("cannot empty {}: {error}", dir.display())))?;
    }
    fs::create_dir_all(dir)?;
    Ok(())
}

fn print_sizes() -> Result<()> {
    let dist = project_root().join("target/dist");
    let mut files = fs::read_dir(&dist)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()?;
    files.retain(|path| {
        path.extension()
            .is_some_and(|ext| ext == "wasm" || ext == "js" || ext == "css")
    });
    files.sort();
    let mut sizes = Vec::new();
    for path in &files {
        let raw = fs::metadata(path)?.len();
        let gzipped = Cmd::new("gzip")
            .args(["-9", "--stdout"])
            .arg(path)
            .read_stdout()?
            .len();
        sizes.push((
            path.file_name().unwrap_or_default().to_string_lossy(),
            raw,
            gzipped,
        ));
    }
    println!("widget bundle in {}:", dist.display());
    for (name, raw, gzipped) in &sizes {
        println!(
            "  {name:<28} {:>9} raw  {:>9} gzip -9",
            kib(*raw),
            kib(*gzipped as u64)
        );
    }
    let total: usize = sizes.iter().map(|(_, _, gzipped)| gzipped).sum();
    println!(
        "  {:<28} {:>9}      {:>9} gzip -9",
        "total",
        "",
        kib(total as u64)
    );
    Ok(())
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
