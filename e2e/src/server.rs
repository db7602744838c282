//! A real `kefu` server process for one test: its own data directory and loopback port.

use std::{
    ffi::{OsStr, OsString},
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread,
    time::Duration,
};

use crate::{free_port, fresh_dir, poll, tail};

/// How long a starting server may take to answer `GET /healthz` with 200.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
const STDOUT_LOG: &str = "kefu.stdout.log";
const STDERR_LOG: &str = "kefu.stderr.log";

/// Extra set-up for [`KefuServer::start_with`]: arguments after `serve ...`, environment
/// variables, and files written into the data directory before the first start (e.g. a
/// configuration file).
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    files: Vec<(PathBuf, String)>,
}

impl ServerOptions {
    /// Appends an argument to `kefu serve --data-dir DIR --listen ADDR --assets DIR`.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> ServerOptions {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Sets an environment variable of the server (and of [`KefuServer::run_cli`]).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> ServerOptions {
        self.env
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// Writes `contents` to `relative_path` inside the data directory before the start.
    pub fn file(
        mut self,
        relative_path: impl Into<PathBuf>,
        contents: impl Into<String>,
    ) -> ServerOptions {
        self.files.push((relative_path.into(), contents.into()));
        self
    }
}

/// A running `kefu serve` on `127.0.0.1` with a fresh data directory.
///
/// Its stdout and stderr go to `kefu.stdout.log` and `kefu.stderr.log` in the data
/// directory. Dropping it kills the process; when the test failed, the logs are printed
/// and the data directory is kept for a look, otherwise it is removed.
pub struct KefuServer {
    launcher: Launcher,
    options: ServerOptions,
    data_dir: PathBuf,
    port: u16,
    process: Option<Child>,
}

/// What to execute for `kefu`: the binary, and arguments that come before the command's own
/// (none for the real server; the self-test's stand-in needs some).
#[derive(Debug, Clone)]
pub(crate) struct Launcher {
    pub(crate) program: PathBuf,
    pub(crate) leading_args: Vec<OsString>,
    pub(crate) assets: PathBuf,
}

impl KefuServer {
    /// Starts `$KEFU_BIN serve` with the widget from `$KEFU_ASSETS` and waits until it is
    /// healthy. Panics when it does not answer `GET /healthz` with 200 within 30 s.
    pub fn start() -> KefuServer {
        KefuServer::start_with(ServerOptions::default())
    }

    /// Like [`KefuServer::start`], with extra arguments, environment or files.
    pub fn start_with(options: ServerOptions) -> KefuServer {
        let env_path = |key: &str| {
            std::env::var_os(key).map(PathBuf::from).unwrap_or_else(|| {
                panic!("{key} is not set: run the e2e tests via `cargo xtask test`, which builds the server and the widget and sets KEFU_BIN and KEFU_ASSETS")
            })
        };
        let launcher = Launcher {
            program: env_path("KEFU_BIN"),
            leading_args: Vec::new(),
            assets: env_path("KEFU_ASSETS"),
        };
        KefuServer::launch(launcher, options)
    }

    /// Like [`KefuServer::start_with`], with the binary and the widget directory given
    /// explicitly instead of through `KEFU_BIN` and `KEFU_ASSETS` (for programs such as the
    /// reliability checker, which take them on their command line).
    pub fn start_program(
        program: impl Into<PathBuf>,
        assets: impl Into<PathBuf>,
        options: ServerOptions,
    ) -> KefuServer {
        let launcher = Launcher {
            program: program.into(),
            leading_args: Vec::new(),
            assets: assets.into(),
        };
        KefuServer::launch(launcher, options)
    }

    /// The loopback port the server listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn launch(launcher: Launcher, options: ServerOptions) -> KefuServer {
        let data_dir = fresh_dir("kefu");
        for (relative_path, contents) in &options.files {
            let path = data_dir.join(relative_path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .unwrap_or_else(|error| panic!("cannot create {}: {error}", parent.display()));
            }
            fs::write(&path, contents)
                .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        }
        let mut server = KefuServer {
            launcher,
            options,
            data_dir,
            port: free_port(),
            process: None,
        };
        server.spawn_and_wait();
        server
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The server's data directory (its SQLite file, and the logs).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// What the server printed on stdout so far (e.g. the demo agent's credentials).
    pub fn stdout(&self) -> String {
        fs::read_to_string(self.data_dir.join(STDOUT_LOG)).unwrap_or_default()
    }

    /// What the server printed on stderr so far (its logs).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.data_dir.join(STDERR_LOG)).unwrap_or_default()
    }

    /// `GET path` on the server: the status code and the body as text.
    pub fn get(&self, path: &str) -> (u16, String) {
        http_get(&self.url(path)).unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    /// Kills the server with SIGKILL, like a crash or a power cut: no shutdown code runs.
    pub fn kill9(&mut self) {
        if let Some(mut process) = self.process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Stops the server gracefully (SIGTERM), killing it if it is not gone within 10 s.
    pub fn stop(&mut self) {
        let Some(mut process) = self.process.take() else {
            return;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(process.id().to_string())
            .status();
        let exited = poll(Duration::from_secs(10), Duration::from_millis(50), || {
            process.try_wait().ok().flatten()
        });
        if exited.is_none() {
            let _ = process.kill();
            let _ = process.wait();
        }
    }

    /// Starts the server again on the same data directory and port (stopping it first if
    /// it runs), and waits until it is healthy.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn_and_wait();
    }

    /// Runs `kefu <args> --data-dir <data dir>`, e.g. `["agent", "add", ...]`, and returns
    /// its output whatever the exit status.
    pub fn run_cli<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = self.command();
        command.args(args).arg("--data-dir").arg(&self.data_dir);
        command.output().unwrap_or_else(|error| {
            panic!("cannot run {}: {error}", self.launcher.program.display())
        })
    }

    /// Like [`KefuServer::run_cli`], but panics unless the command succeeds, and returns its
    /// stdout.
    pub fn run_cli_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args
            .into_iter()
            .map(|arg| arg.as_ref().to_os_string())
            .collect();
        let output = self.run_cli(&args);
        if !output.status.success() {
            panic!(
                "`kefu {}` failed ({}):\nstdout:\n{}\nstderr:\n{}",
                args.iter()
                    .map(|arg| arg.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.launcher.program);
        command
            .args(&self.launcher.leading_args)
            .stdin(Stdio::null());
        for (key, value) in &self.options.env {
            command.env(key, value);
        }
        command
    }

    fn spawn_and_wait(&mut self) {
        let log = |name: &str| {
            let path = self.data_dir.join(name);
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()))
        };
        let (stdout, stderr) = (log(STDOUT_LOG), log(STDERR_LOG));
        let mut command = self.command();
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--assets")
            .arg(&self.launcher.assets)
            .args(&self.options.args)
            .stdout(stdout)
            .stderr(stderr);
        let process = command.spawn().unwrap_or_else(|error| {
            panic!("cannot start {}: {error}", self.launcher.program.display())
        });
        // Stored before waiting, so that a panic below reaches Drop, which prints the logs.
        self.process = Some(process);
        let healthz = self.url("/healthz");
        let healthy = poll(STARTUP_TIMEOUT, Duration::from_millis(50), || {
            let process = self.process.as_mut().expect("the process was just stored");
            if let Ok(Some(status)) = process.try_wait() {
                panic!("kefu exited ({status}) before answering GET /healthz");
            }
            matches!(http_get(&healthz), Ok((200, _))).then_some(())
        });
        if healthy.is_none() {
            panic!(
                "kefu did not answer GET /healthz with 200 within {} s",
                STARTUP_TIMEOUT.as_secs()
            );
        }
    }
}

impl Drop for KefuServer {
    fn drop(&mut self) {
        self.kill9();
        if thread::panicking() {
            eprintln!(
                "e2e: kefu on port {} with data directory {} (kept)\n--- kefu stdout ---\n{}\n--- kefu stderr ---\n{}",
                self.port,
                self.data_dir.display(),
                tail(&self.stdout(), 4000),
                tail(&self.stderr(), 8000)
            );
        } else {
            let _ = fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// A plain `GET` on loopback with a short timeout.
fn http_get(url: &str) -> Result<(u16, String), ureq::Error> {
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent();
    let mut response = agent.get(url).call()?;
    let status = response.status().as_u16();
    Ok((status, response.body_mut().read_to_string()?))
}

#[cfg(test)]
mod tests {
    //! The server harness against a stand-in: this test binary itself, re-run so that only
    //! [`stand_in_kefu`] runs, which then behaves like a minimal `kefu` (a `/healthz` on the
    //! `--listen` address, or a CLI command that echoes its arguments).

    use std::{
        io::{BufRead, BufReader, Write},
        net::TcpListener,
    };

    use super::*;

    const STAND_IN_ENV: &str = "KEFU_E2E_STAND_IN";
    const STAND_IN_TEST: &str = "server::tests::stand_in_kefu";

    fn stand_in() -> Launcher {
        Launcher {
            program: std::env::current_exe().expect("the test binary has a path"),
            leading_args: [STAND_IN_TEST, "--exact", "--nocapture", "--quiet", "--"]
                .iter()
                .map(OsString::from)
                .collect(),
            assets: PathBuf::from("/nonexistent-assets"),
        }
    }

    /// Starts, answers, survives SIGKILL with a restart on the same port and data
    /// directory, runs CLI commands there, and cleans up after itself.
    #[test]
    fn server_harness_starts_restarts_and_runs_cli_commands() {
        let options = ServerOptions::default()
            .env(STAND_IN_ENV, "1")
            .file("kefu.toml", "x = 1\n");
        let mut server = KefuServer::launch(stand_in(), options);
        let data_dir = server.data_dir().to_path_buf();
        assert_eq!(
            fs::read_to_string(data_dir.join("kefu.toml")).unwrap(),
            "x = 1\n"
        );
        assert_eq!(server.get("/healthz"), (200, "ok".to_string()));
        assert_eq!(server.get("/missing").0, 404);

        let url = server.base_url();
        server.kill9();
        assert!(
            http_get(&server.url("/healthz")).is_err(),
            "the killed server still answers"
        );
        server.restart();
        assert_eq!(server.base_url(), url);
        assert_eq!(server.get("/healthz").0, 200);
        assert!(
            server.stdout().contains("stand-in serving"),
            "stdout: {}",
            server.stdout()
        );

        let output = server.run_cli_ok(["agent", "add", "--login", "小王"]);
        let data_dir_arg = format!("--data-dir {}", data_dir.display());
        assert!(
            output.contains(&format!(
                "stand-in cli: agent add --login 小王 {data_dir_arg}"
            )),
            "{output}"
        );

        server.restart();
        assert_eq!(server.get("/healthz").0, 200);
        drop(server);
        assert!(
            !data_dir.exists(),
            "the data directory of a passing test is removed"
        );
    }

    /// Not a test of its own: the stand-in `kefu` for the test above, active only in the
    /// process that test spawns (marked by an environment variable).
    #[test]
    fn stand_in_kefu() {
        if std::env::var_os(STAND_IN_ENV).is_none() {
            return;
        }
        let args: Vec<String> = std::env::args().collect();
        let command_args = &args[args
            .iter()
            .position(|arg| arg == "--")
            .expect("launched with --")
            + 1..];
        if command_args.first().map(String::as_str) != Some("serve") {
            println!("stand-in cli: {}", command_args.join(" "));
            std::process::exit(0);
        }
        let listen = command_args
            .iter()
            .position(|arg| arg == "--listen")
            .and_then(|index| command_args.get(index + 1))
            .expect("serve --listen ADDR");
        let listener = TcpListener::bind(listen).expect("the stand-in binds its port");
        println!("stand-in serving on {listen}");
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let (status, body) = if request_line.starts_with("GET /healthz ") {
                ("200 OK", "ok")
            } else {
                ("404 Not Found", "not found")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    }
}
