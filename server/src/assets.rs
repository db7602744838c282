//! The built widget (`cargo xtask build-widget`'s output), loaded into memory once at start-up and compressed once,
//! so every request is a map lookup. A missing directory is not fatal: the API and the
//! sockets still work, and the pages say what to build.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::pages;

/// One file ready to serve.
pub struct Asset {
    pub content_type: &'static str,
    pub raw: Vec<u8>,
    /// The gzip form, when it is smaller.
    pub gzip: Option<Vec<u8>>,
}

/// Every file served under `/static/`, plus a version string that changes with any of them.
pub struct Assets {
    files: HashMap<String, Asset>,
    pub version: String,
}

impl Assets {
    /// Loads `kefu-widget.js`, `kefu-widget_bg.wasm` and the stylesheets from `dir`.
    pub fn load(dir: Option<&Path>) -> Assets {
        let mut files = HashMap::new();
        files.insert(
            "boot.js".to_owned(),
            prepare("boot.js", pages::BOOT_JS.as_bytes().to_vec()),
        );
        files.insert(
            "boot-agent.js".to_owned(),
            prepare("boot-agent.js", pages::BOOT_AGENT_JS.as_bytes().to_vec()),
        );
        if let Some(dir) = dir {
            match std::fs::read_dir(dir) {
                Ok(entries) => {
                    for entry in entries.flatten() {
                        let name = entry.file_name().to_string_lossy().into_owned();
                        let servable = name.ends_with(".js")
                            || name.ends_with(".wasm")
                            || name.ends_with(".css");
                        if servable && let Ok(bytes) = std::fs::read(entry.path()) {
                            files.insert(name.clone(), prepare(&name, bytes));
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(dir = %dir.display(), %error, "widget assets not found; run `cargo xtask run`")
                }
            }
        }
        let mut names: Vec<&String> = files.keys().collect();
        names.sort();
        let mut hasher = Sha256::new();
        for name in names {
            hasher.update(name.as_bytes());
            hasher.update(&files[name].raw);
        }
        let version = hex::encode(&hasher.finalize()[..6]);
        Assets { files, version }
    }

    pub fn get(&self, name: &str) -> Option<&Asset> {
        self.files.get(name)
    }

    /// Whether the Wasm bundle is there at all.
    pub fn has_widget(&self) -> bool {
        self.files.contains_key("kefu-widget_bg.wasm")
    }
}

fn prepare(name: &str, raw: Vec<u8>) -> Asset {
    let content_type = content_type(name);
    let gzip = gzip(&raw).filter(|gzip| gzip.len() < raw.len());
    Asset {
        content_type,
        raw,
        gzip,
    }
}

/// `bytes` gzipped at the best level (assets are compressed once, not per request).
pub fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .ok()
}

pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_bundle_compresses_it_and_versions_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kefu-widget.js"),
            "export default 1;\n".repeat(50),
        )
        .unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>").unwrap();
        let assets = Assets::load(Some(dir.path()));
        let js = assets.get("kefu-widget.js").unwrap();
        assert_eq!(js.content_type, "text/javascript; charset=utf-8");
        assert!(js.gzip.as_ref().unwrap().len() < js.raw.len());
        assert!(
            assets.get("index.html").is_none(),
            "an index.html is not served: a bundler's would have an inline script"
        );
        assert!(assets.get("boot.js").is_some());
        std::fs::write(dir.path().join("kefu-widget.js"), "changed").unwrap();
        assert_ne!(Assets::load(Some(dir.path())).version, assets.version);
    }
}
