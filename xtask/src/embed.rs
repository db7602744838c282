//! `cargo xtask minify-embed`: regenerates `embed/embed.min.js`, the form of the loader the
//! server sends, from `embed/embed.js`, the form people read and edit.
//!
//! The loader is paid for on every page of every host site, so it ships minified (terser,
//! pinned, run through npm). The output is committed, so building the server never needs
//! Node; its first line records a fingerprint of the source it came from, and a server test
//! (`pages::tests`) fails when `embed.js` changed without running this task again.

use std::fs;

use crate::{Error, Result, cmd::Cmd, project_root};

/// The terser release the committed output was made with.
const TERSER: &str = "terser@5.51.4";

pub(crate) fn minify_embed() -> Result<()> {
    let root = project_root();
    let source = fs::read(root.join("embed/embed.js"))?;
    let minified = root.join("target/embed.min.js");
    fs::create_dir_all(root.join("target"))?;
    Cmd::new("npm")
        .args([
            "exec",
            "--yes",
            "--package",
            TERSER,
            "--",
            "terser",
            "embed/embed.js",
        ])
        .args(["--compress", "--mangle", "--ecma", "2015", "--output"])
        .arg(&minified)
        .run()?;
    let body = fs::read_to_string(&minified)?;
    if body.trim().is_empty() {
        return Err(Error::new("terser wrote nothing"));
    }
    let output = format!("{}\n{}\n", header(&source), body.trim_end());
    fs::write(root.join("embed/embed.min.js"), output)?;
    println!("embed/embed.min.js written ({} bytes)", body.len());
    Ok(())
}

/// The first line of `embed.min.js`. The server's test computes the same line.
fn header(source: &[u8]) -> String {
    format!(
        "/*! Kefu loader: minified embed/embed.js, fnv1a64 {:016x} */",
        fnv1a64(source)
    )
}

/// FNV-1a, 64 bits: enough to notice an edit, and a few lines in both places that need it.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
