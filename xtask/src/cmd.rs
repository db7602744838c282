//! Running external commands the same way everywhere: echoed before they run (`$ ...`),
//! started in the project root, and turned into an [`Error`] that names the command when
//! they fail.

use std::{
    ffi::{OsStr, OsString},
    process::{Command, Stdio},
};

use crate::{Error, Result, project_root};

/// An external command about to run.
pub(crate) struct Cmd {
    command: Command,
    /// The command line as echoed: environment overrides worth showing, program, arguments.
    display: String,
}

impl Cmd {
    pub(crate) fn new(program: impl AsRef<OsStr>) -> Cmd {
        let program = program.as_ref();
        let mut command = Command::new(program);
        command.current_dir(project_root());
        Cmd {
            command,
            display: shell_word(program),
        }
    }

    /// `cargo`, the same one that runs this xtask when called through `cargo xtask`.
    pub(crate) fn cargo() -> Cmd {
        Cmd::new(std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Cmd {
        self.display.push(' ');
        self.display.push_str(&shell_word(arg.as_ref()));
        self.command.arg(arg);
        self
    }

    pub(crate) fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Cmd {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    /// Sets an environment variable and shows it in the echoed command line.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Cmd {
        self.display = format!("{key}={} {}", shell_word(value.as_ref()), self.display);
        self.command.env(key, value);
        self
    }

    /// Echoes the command, runs it with inherited stdio, and fails unless it exits with 0.
    pub(crate) fn run(mut self) -> Result<()> {
        println!("$ {}", self.display);
        let status = self
            .command
            .status()
            .map_err(|error| Error::new(format!("could not start `{}`: {error}", self.display)))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::new(format!("`{}` failed ({status})", self.display)))
        }
    }

    /// Echoes the command, runs it, and returns its stdout; stderr goes to the terminal.
    pub(crate) fn read_stdout(mut self) -> Result<Vec<u8>> {
        println!("$ {}", self.display);
        let output = self
            .command
            .stderr(Stdio::inherit())
            .output()
            .map_err(|error| Error::new(format!("could not start `{}`: {error}", self.display)))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(Error::new(format!(
                "`{}` failed ({})",
                self.display, output.status
            )))
        }
    }

    /// Echoes the command, runs it, prints its stderr once it ends (cargo's progress and
    /// errors) and returns that stderr as text; stdout goes to the terminal.
    pub(crate) fn read_stderr(mut self) -> Result<String> {
        println!("$ {}", self.display);
        let output = self
            .command
            .stdout(Stdio::inherit())
            .output()
            .map_err(|error| Error::new(format!("could not start `{}`: {error}", self.display)))?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        eprint!("{stderr}");
        if output.status.success() {
            Ok(stderr)
        } else {
            Err(Error::new(format!(
                "`{}` failed ({})",
                self.display, output.status
            )))
        }
    }

    /// Runs a read-only probe such as `wasm-bindgen --version` without echoing it, and returns its
    /// trimmed stdout, or `None` when the program is missing or fails. Callers print the
    /// probe in their one-line status, so nothing runs unseen.
    pub(crate) fn probe(mut self) -> Option<String> {
        let output = self
            .command
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
    }
}

/// Quotes a word for the echoed command line when a shell would need it.
fn shell_word(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./=:,@~+%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
