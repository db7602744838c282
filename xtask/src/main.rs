//! `cargo xtask <task>`: the automation behind the README's two commands.
//!
//! Tasks (one module each):
//! - `setup [--test]` ([`setup`]): installs the pinned tools the build needs, and with
//!   `--test` also Chromium, ChromeDriver and a CJK font for readable screenshots.
//!   Idempotent, and fast when nothing is missing.
//! - `build-widget` ([`widget`]): cargo, wasm-bindgen and wasm-opt into `target/dist/`.
//! - `run [--port 8080] [--data-dir target/kefu-run] [--release]` ([`run`]): set-up, widget,
//!   server, then the server in the foreground.
//! - `test` ([`test`]): everything CI checks, in order, stopping at the first failure.
//! - `bench [--quick]` ([`bench`]): the benchmark suite of `kefu-bench`.
//! - `reliability` ([`reliability`]): the long run of the history checker (`kefu-reliability`).
//!
//! This crate is deliberately boring: plain `std`, no dependencies, every external command
//! echoed before it runs (see [`cmd`]) so a failure can be reproduced by pasting one line.
//! `.cargo/config.toml` defines the `cargo xtask` alias.

mod bench;
mod cmd;
mod e2e;
mod embed;
mod reliability;
mod run;
mod setup;
mod test;
mod widget;

use std::{
    env,
    ffi::OsString,
    fmt,
    path::{Path, PathBuf},
    process::ExitCode,
};

const HELP: &str = "\
cargo xtask <task> [options]

Tasks:
  setup [--test]     install missing tools: wasm32 target, wasm-bindgen-cli
                     (Cargo.lock's version), wasm-opt (npm binaryen); --test adds
                     chromium, chromium-driver and a CJK font (apt) and axe-core (npm)
  build-widget       build the widget (cargo, wasm-bindgen, wasm-opt) into target/dist/
  run [--port 8080] [--data-dir target/kefu-run] [--release]
                     set up, build, and run the server on 127.0.0.1 in the foreground
  test               set-up, native tests, reliability (short), widget browser tests,
                     e2e tests
  e2e                build the widget and the server, then only the e2e tests, as
                     `test` runs them (KEFU_E2E_JOBS=1 for one test file at a time)
  bench [--quick]    sizes, host-page cost, server load against a bare relay, robot
                     throughput; writes target/bench/results.md (--quick: tiny sizes)
  minify-embed       regenerate embed/embed.min.js (what the server sends) from
                     embed/embed.js after editing it (terser, through npm)
  reliability        the long history-checker run: 10,000 messages, 20 kill -9 restarts,
                     dropped connections, old resumes, duplicate sends, disk full;
                     prints the figures (see RELIABILITY.md)
  help               this text
";

fn main() -> ExitCode {
    match run_task(env::args_os().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_task(args: Vec<OsString>) -> Result<()> {
    let mut args = Args::new(args)?;
    let Some(task) = args.task.take() else {
        print!("{HELP}");
        return Ok(());
    };
    match task.as_str() {
        "setup" => {
            let with_test_tools = args.flag("--test");
            args.finish()?;
            setup::setup(with_test_tools)
        }
        "build-widget" => {
            args.finish()?;
            widget::build_widget()
        }
        "run" => {
            let options = run::RunOptions {
                port: match args.value("--port")? {
                    Some(port) => port
                        .parse()
                        .map_err(|_| Error::new(format!("--port {port}: not a port number")))?,
                    None => 8080,
                },
                data_dir: match args.value("--data-dir")? {
                    Some(dir) => std::path::absolute(dir)?,
                    None => target_dir().join("kefu-run"),
                },
                release: args.flag("--release"),
            };
            args.finish()?;
            run::run(&options)
        }
        "test" => {
            args.finish()?;
            test::test()
        }
        "e2e" => {
            args.finish()?;
            widget::build_widget()?;
            cmd::Cmd::cargo()
                .args(["build", "--package", "kefu-server"])
                .run()?;
            e2e::run(
                &target_dir().join("debug/kefu"),
                &project_root().join("target/dist"),
            )
        }
        "bench" => {
            let quick = args.flag("--quick");
            args.finish()?;
            bench::bench(quick)
        }
        "minify-embed" => {
            args.finish()?;
            embed::minify_embed()
        }
        "reliability" => {
            args.finish()?;
            reliability::reliability()
        }
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(Error::new(format!("unknown task `{other}`\n\n{HELP}"))),
    }
}

/// The workspace root: every path the tasks use is relative to it, so `cargo xtask` works
/// from any directory of the repository.
pub(crate) fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives directly under the workspace root")
        .to_path_buf()
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` when set, else `<root>/target`.
pub(crate) fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => project_root().join(dir),
        None => project_root().join("target"),
    }
}

/// The error of a task: a message for a person, printed once by `main`.
pub(crate) struct Error(String);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Error {
        Error(error.to_string())
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// The command line after `cargo xtask`: a task name, then `--flag`, `--key value` or
/// `--key=value` options. Every option must be consumed, so a typo is an error, not ignored.
struct Args {
    task: Option<String>,
    rest: Vec<String>,
}

impl Args {
    fn new(args: Vec<OsString>) -> Result<Args> {
        let mut args = args
            .into_iter()
            .map(|arg| {
                arg.into_string()
                    .map_err(|arg| Error::new(format!("argument {arg:?} is not UTF-8")))
            })
            .collect::<Result<Vec<String>>>()?;
        let task = if args.is_empty() {
            None
        } else {
            Some(args.remove(0))
        };
        Ok(Args { task, rest: args })
    }

    fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|arg| arg != name);
        self.rest.len() != before
    }

    fn value(&mut self, name: &str) -> Result<Option<String>> {
        let prefix = format!("{name}=");
        if let Some(index) = self.rest.iter().position(|arg| arg.starts_with(&prefix)) {
            return Ok(Some(self.rest.remove(index)[prefix.len()..].to_string()));
        }
        let Some(index) = self.rest.iter().position(|arg| arg == name) else {
            return Ok(None);
        };
        if index + 1 >= self.rest.len() {
            return Err(Error::new(format!("{name} needs a value")));
        }
        let value = self.rest.remove(index + 1);
        self.rest.remove(index);
        Ok(Some(value))
    }

    fn finish(self) -> Result<()> {
        match self.rest.first() {
            None => Ok(()),
            Some(unknown) => Err(Error::new(format!(
                "unexpected argument `{unknown}` (see `cargo xtask help`)"
            ))),
        }
    }
}
