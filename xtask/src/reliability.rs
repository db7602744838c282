//! `cargo xtask reliability`: the long run of the history checker (RELIABILITY.md): at
//! least 10,000 messages and 20 `kill -9` restarts against the release server, with the
//! figures printed. The short run is a step of `cargo xtask test` ([`run_short`]).

use std::path::Path;

use crate::{Result, cmd::Cmd, project_root, target_dir};

/// Builds the release server and runs `kefu-reliability long` against it.
pub(crate) fn reliability() -> Result<()> {
    Cmd::cargo().args(["build", "--release", "--package", "kefu-server", "--package", "kefu-reliability"]).run()?;
    Cmd::new(target_dir().join("release/kefu-reliability"))
        .arg("long")
        .arg("--kefu")
        .arg(target_dir().join("release/kefu"))
        .arg("--assets")
        .arg(project_root().join("target/dist"))
        .run()
}

/// `kefu-reliability short` against the debug server `cargo xtask test` just built.
pub(crate) fn run_short(kefu: &Path, assets: &Path) -> Result<()> {
    Cmd::cargo()
        .args(["run", "--package", "kefu-reliability", "--", "short", "--kefu"])
        .arg(kefu)
        .arg("--assets")
        .arg(assets)
        .run()
}
