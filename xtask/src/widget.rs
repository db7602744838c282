//! `cargo xtask build-widget`: the widget bundle, built by Trunk into `target/dist/`.
//!
//! `Trunk.toml` sets the output directory and stable file names (`kefu-widget.js`,
//! `kefu-widget_bg.wasm`); `index.html` selects the size-tuned `wasm-release` profile and
//! wasm-opt. `--offline` makes a missing or wrong tool an error instead of a download.
//! The gzipped sizes printed at the end are what a visitor downloads.

use std::fs;

use crate::{Result, cmd::Cmd, project_root, setup};

pub(crate) fn build_widget() -> Result<()> {
    Cmd::new("trunk")
        .args(["build", "--release", "--offline"])
        .env_quiet("PATH", setup::path_with_tools()?)
        .run()?;
    print_sizes()
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
