//! `cargo xtask run`: what a newcomer types first. Set-up, the widget, the server, then the
//! server in the foreground with a SQLite data directory under `target/` by default.
//! The server itself prints the demo page URL, the agent workspace URL and, on first run,
//! the demo agent's credentials.

use std::{fs, path::PathBuf};

use crate::{Result, cmd::Cmd, project_root, setup, target_dir, widget};

pub(crate) struct RunOptions {
    pub(crate) port: u16,
    pub(crate) data_dir: PathBuf,
    /// Build and run the optimised server; the default debug build is the one the tests
    /// use, so `run` after `test` (or the reverse) compiles nothing twice.
    pub(crate) release: bool,
}

pub(crate) fn run(options: &RunOptions) -> Result<()> {
    setup::setup(false)?;
    widget::build_widget()?;
    let mut build = Cmd::cargo().args(["build", "--package", "kefu-server"]);
    if options.release {
        build = build.arg("--release");
    }
    build.run()?;
    let profile_dir = if options.release { "release" } else { "debug" };
    let kefu = target_dir().join(profile_dir).join("kefu");
    fs::create_dir_all(&options.data_dir)?;
    Cmd::new(kefu)
        .arg("serve")
        .arg("--data-dir")
        .arg(&options.data_dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", options.port))
        .arg("--assets")
        .arg(project_root().join("target/dist"))
        .run()
}
