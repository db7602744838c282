//! `cargo xtask bench`: the benchmark suite (not part of `cargo xtask test`). Builds the
//! widget, the optimised server and `kefu-bench`, then runs `kefu-bench all`, which prints
//! the tables and writes them to `target/bench/results.md` for BENCHMARKS.md. With
//! `--quick`, every benchmark runs once at tiny sizes (a smoke run). The criterion
//! micro-benchmarks of kefu-core run with `cargo bench -p kefu-core`.

use crate::{Result, cmd::Cmd, project_root, setup, target_dir, widget};

pub(crate) fn bench(quick: bool) -> Result<()> {
    setup::setup(true)?;
    widget::build_widget()?;
    Cmd::cargo()
        .args([
            "build",
            "--release",
            "--package",
            "kefu-server",
            "--package",
            "kefu-bench",
        ])
        .run()?;
    let mut command = Cmd::new(target_dir().join("release/kefu-bench"))
        .arg("all")
        .arg("--kefu")
        .arg(target_dir().join("release/kefu"))
        .arg("--assets")
        .arg(project_root().join("target/dist"))
        .arg("--out")
        .arg(target_dir().join("bench/results.md"));
    if quick {
        command = command.arg("--quick");
    }
    command.run()
}
