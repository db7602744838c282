//! The size budget of what a visitor downloads, gzipped as a server would send it:
//! the loader every page of the host site pays for (`embed/embed.min.js`, the minified
//! `embed/embed.js` the server sends), at most 2 KB, and
//! the widget bundle (wasm, JS glue, CSS in `$KEFU_ASSETS`) that the first open pays for, at
//! most 250 KB. Over budget fails the build; the figures are printed either way
//! (`cargo test -p kefu-e2e --test size_budget -- --nocapture`).

use std::{fs, io::Write, path::PathBuf};

use flate2::{Compression, write::GzEncoder};

/// KB as the issue counts them (1 KB = 1,000 bytes), the stricter reading.
const EMBED_BUDGET_BYTES: usize = 2_000;
const WIDGET_BUDGET_BYTES: usize = 250_000;

fn gzipped_len(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory").len()
}

fn sizes(path: &PathBuf) -> (usize, usize) {
    let bytes =
        fs::read(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    (bytes.len(), gzipped_len(&bytes))
}

/// embed.js ≤ 2 KB and widget wasm + JS + CSS ≤ 250 KB, gzipped.
#[test]
fn embed_and_widget_stay_within_their_gzipped_size_budgets() {
    let embed = kefu_e2e::project_root().join("embed/embed.min.js");
    let (embed_raw, embed_gzip) = sizes(&embed);
    println!(
        "embed.js: {embed_raw} bytes, {embed_gzip} bytes gzipped (budget {EMBED_BUDGET_BYTES})"
    );

    let assets = PathBuf::from(std::env::var_os("KEFU_ASSETS").expect(
        "KEFU_ASSETS is not set: run via `cargo xtask test`, which builds the widget into target/dist",
    ));
    let mut widget_gzip = 0;
    for name in ["kefu-widget_bg.wasm", "kefu-widget.js", "kefu.css"] {
        let (raw, gzip) = sizes(&assets.join(name));
        println!("{name}: {raw} bytes, {gzip} bytes gzipped");
        widget_gzip += gzip;
    }
    println!("widget total: {widget_gzip} bytes gzipped (budget {WIDGET_BUDGET_BYTES})");

    assert!(
        embed_gzip <= EMBED_BUDGET_BYTES,
        "embed.js is {embed_gzip} bytes gzipped, over its budget of {EMBED_BUDGET_BYTES}"
    );
    assert!(
        widget_gzip <= WIDGET_BUDGET_BYTES,
        "the widget is {widget_gzip} bytes gzipped, over its budget of {WIDGET_BUDGET_BYTES}"
    );
}
