//! `cargo xtask reliability`: the long run of the history checker (RELIABILITY.md): at
//! least 10,000 messages and 20 `kill -9` restarts, with the figures printed. It drives the
//! debug server, the build `cargo xtask test` already has (a release build from nothing
//! costs more than the whole run saves on this kind of machine). The short run is a step of
//! `cargo xtask test` ([`run_short`]).

use std::path::Path;

use crate::{Result, cmd::Cmd, project_root, target_dir};

/// Builds the server and runs `kefu-reliability long` against it.
pub(crate) fn reliability() -> Result<()> {
    Cmd::cargo()
        .args(["build", "--package", "kefu-server", "--bin", "kefu"])
        .run()?;
    run(
        &target_dir().join("debug/kefu"),
        &project_root().join("target/dist"),
        "long",
    )
}

/// `kefu-reliability short` against the debug server `cargo xtask test` just built.
pub(crate) fn run_short(kefu: &Path, assets: &Path) -> Result<()> {
    run(kefu, assets, "short")
}

fn run(kefu: &Path, assets: &Path, mode: &str) -> Result<()> {
    Cmd::cargo()
        .args(["run", "--package", "kefu-reliability", "--", mode, "--kefu"])
        .arg(kefu)
        .arg("--assets")
        .arg(assets)
        .run()
}
