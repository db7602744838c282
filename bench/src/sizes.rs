//! What a visitor downloads: the loader and the widget, raw, gzip and brotli.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

/// One file's sizes in bytes.
pub struct FileSize {
    pub name: String,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

pub fn measure(path: &Path) -> Result<FileSize> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&raw)?;
    let gzip = gzip.finish()?.len();
    let mut brotli = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        writer.write_all(&raw)?;
    }
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(FileSize {
        name,
        raw: raw.len(),
        gzip,
        brotli: brotli.len(),
    })
}
