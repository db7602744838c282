//! `cargo xtask setup [--test]`: installs what building (and, with `--test`, testing) needs,
//! each tool only when it is missing or has the wrong version.
//!
//! Versions are pinned in one place each: wasm-bindgen by `Cargo.lock` (the CLI must match
//! the library exactly) and wasm-opt by [`BINARYEN_VERSION`] (installed from npm's
//! `binaryen@N`, because Debian's binaryen is too old for current Rust output); for the tests,
//! axe-core by [`AXE_CORE_VERSION`] (npm's `axe-core@N`, which the e2e suite injects into
//! pages to check their accessibility). Everything comes from crates.io, npm or Debian
//! packages; nothing is downloaded from elsewhere.

use std::{
    env, fs,
    path::{Path, PathBuf},
};

use crate::{Error, Result, cmd::Cmd, project_root};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Binaryen's release whose `wasm-opt` shrinks the widget (npm's `binaryen@132`).
const BINARYEN_VERSION: &str = "132";
/// The axe-core release the e2e suite's accessibility scans run (npm's `axe-core@N`); the
/// harness (`e2e/src/axe.rs`) looks for the same version, which a test below checks.
pub(crate) const AXE_CORE_VERSION: &str = "4.14.1";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub(crate) fn setup(with_test_tools: bool) -> Result<()> {
    let versions = PinnedVersions::read()?;
    // The browser comes from apt (mostly download and unpack) while the tools compile (CPU):
    // on a fresh machine the two overlap instead of adding up.
    std::thread::scope(|scope| {
        let browser = with_test_tools.then(|| scope.spawn(browser));
        let tools = (|| {
            wasm_target()?;
            wasm_bindgen(&versions.wasm_bindgen)?;
            wasm_opt(&versions.binaryen)?;
            if with_test_tools {
                axe_core(AXE_CORE_VERSION)?;
            }
            Ok(())
        })();
        let browser = match browser {
            Some(handle) => handle
                .join()
                .unwrap_or_else(|_| Err(Error::new("installing the browser panicked"))),
            None => Ok(()),
        };
        tools.and(browser)
    })
}

/// The pinned `wasm-opt`, which npm installs outside `PATH`.
pub(crate) fn wasm_opt_path() -> Result<PathBuf> {
    Ok(binaryen_bin_dir(BINARYEN_VERSION)?.join("wasm-opt"))
}

/// The tool versions the repository pins.
struct PinnedVersions {
    /// The `wasm-bindgen` crate's version in `Cargo.lock`, e.g. `0.2.130`.
    wasm_bindgen: String,
    /// Binaryen's release number, e.g. `132`.
    binaryen: String,
}

impl PinnedVersions {
    fn read() -> Result<PinnedVersions> {
        let lock = read_to_string(&project_root().join("Cargo.lock"))?;
        let wasm_bindgen = cargo_lock_version(&lock, "wasm-bindgen")
            .ok_or_else(|| Error::new("Cargo.lock has no `wasm-bindgen` package"))?;
        Ok(PinnedVersions {
            wasm_bindgen,
            binaryen: BINARYEN_VERSION.to_string(),
        })
    }
}

fn wasm_target() -> Result<()> {
    let probe = "rustup target list --installed";
    let installed = Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .probe();
    if installed.is_some_and(|list| list.lines().any(|line| line.trim() == WASM_TARGET)) {
        return ok(WASM_TARGET, &format!("listed by `{probe}`"));
    }
    installing(
        WASM_TARGET,
        "not listed by `rustup target list --installed`",
    );
    Cmd::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .run()
}

fn wasm_bindgen(version: &str) -> Result<()> {
    let wanted = format!("wasm-bindgen {version}");
    let found = Cmd::new("wasm-bindgen").arg("--version").probe();
    if found.as_deref() == Some(wanted.as_str()) {
        return ok("wasm-bindgen-cli", &wanted);
    }
    installing(
        "wasm-bindgen-cli",
        &format!("found {}, want {version}", describe(&found)),
    );
    // Not `--locked`: the CLI's own lock file pins dependencies that no longer build with a
    // current toolchain, and `cargo install` resolves compatible ones instead.
    quick_release(Cmd::cargo())
        .args(["install", "wasm-bindgen-cli", "--version", version])
        .run()?;
    let found = Cmd::new("wasm-bindgen").arg("--version").probe();
    verify(
        "wasm-bindgen-cli",
        found.as_deref() == Some(wanted.as_str()),
        &found,
    )
}

/// Builds a tool with light optimisation, without its own release profile's fat LTO and
/// single codegen unit: wasm-bindgen spends a second or two per binary, so its speed hardly
/// matters, while those settings cost minutes of a fresh machine's CI time.
fn quick_release(cargo: Cmd) -> Cmd {
    cargo
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
}

fn wasm_opt(binaryen: &str) -> Result<()> {
    let prefix = binaryen_prefix(binaryen)?;
    let wasm_opt = binaryen_bin_dir(binaryen)?.join("wasm-opt");
    // The third word of `wasm-opt --version` is the release ("wasm-opt version 132 (...)").
    let is_pinned = |output: &str| output.split(' ').nth(2) == Some(binaryen);
    let found = Cmd::new(&wasm_opt).arg("--version").probe();
    if let Some(version) = found.as_deref().filter(|output| is_pinned(output)) {
        return ok("wasm-opt", &format!("{version} in {}", prefix.display()));
    }
    installing(
        "wasm-opt",
        &format!("found {}, want binaryen {binaryen}", describe(&found)),
    );
    npm_install(&prefix, &format!("binaryen@{binaryen}"))?;
    let found = Cmd::new(&wasm_opt).arg("--version").probe();
    verify("wasm-opt", found.as_deref().is_some_and(is_pinned), &found)
}

/// Installs one npm package (`name@version`) under `prefix`, installing npm first if needed.
fn npm_install(prefix: &Path, package: &str) -> Result<()> {
    if Cmd::new("npm").arg("--version").probe().is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    fs::create_dir_all(prefix)?;
    Cmd::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(prefix)
        .arg(package)
        .run()
}

/// axe-core's `axe.min.js`, which the e2e harness reads and injects into the pages it scans.
pub(crate) fn axe_core_script() -> Result<PathBuf> {
    Ok(tool_prefix(&format!("axe-core-{AXE_CORE_VERSION}"))?
        .join("node_modules/axe-core/axe.min.js"))
}

fn axe_core(version: &str) -> Result<()> {
    let prefix = tool_prefix(&format!("axe-core-{version}"))?;
    let script = axe_core_script()?;
    let manifest = prefix.join("node_modules/axe-core/package.json");
    let installed = |manifest: &Path| {
        fs::read_to_string(manifest)
            .ok()
            .and_then(|json| package_json_version(&json))
    };
    let found = installed(&manifest);
    if found.as_deref() == Some(version) && script.exists() {
        return ok("axe-core", &format!("{version} in {}", prefix.display()));
    }
    installing(
        "axe-core",
        &format!("found {}, want {version}", describe(&found)),
    );
    npm_install(&prefix, &format!("axe-core@{version}"))?;
    let found = installed(&manifest);
    verify(
        "axe-core",
        found.as_deref() == Some(version) && script.exists(),
        &found,
    )
}

fn browser() -> Result<()> {
    let mut missing = Vec::new();
    for (name, path, package) in [
        ("chromium", CHROMIUM, "chromium"),
        ("chromedriver", CHROMEDRIVER, "chromium-driver"),
    ] {
        if Path::new(path).exists() {
            ok(name, path)?;
        } else {
            installing(name, &format!("{path} is missing"));
            missing.push(package);
        }
    }
    // Without a CJK font every Chinese character in a screenshot is a box.
    let cjk_fonts = Cmd::new("fc-list").args([":lang=zh", "family"]).probe();
    match cjk_fonts.as_deref().and_then(|list| list.lines().next()) {
        Some(family) => ok("CJK font", family)?,
        None => {
            installing("CJK font", "`fc-list :lang=zh` lists none");
            missing.push("fonts-noto-cjk");
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        apt_install(&missing)
    }
}

/// Installs Debian packages, with `sudo` when not root; one call at a time (dpkg's lock).
fn apt_install(packages: &[&str]) -> Result<()> {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = APT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let is_root = Cmd::new("id").arg("-u").probe().as_deref() == Some("0");
    let apt_get = |args: &[&str]| {
        let cmd = if is_root {
            Cmd::new("apt-get")
        } else {
            Cmd::new("sudo").arg("apt-get")
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args)
    };
    apt_get(&["update"]).run()?;
    apt_get(&["install", "-y"]).args(packages).run()
}

/// Where npm installs binaryen: under the user's cache, so every clone shares one copy.
fn binaryen_prefix(binaryen: &str) -> Result<PathBuf> {
    tool_prefix(&format!("binaryen-{binaryen}"))
}

/// `~/.cache/kefu-tools/<name>`, where npm installs a pinned tool.
fn tool_prefix(name: &str) -> Result<PathBuf> {
    let home = env::var_os("HOME").ok_or_else(|| Error::new("HOME is not set"))?;
    Ok(PathBuf::from(home).join(".cache/kefu-tools").join(name))
}

fn binaryen_bin_dir(binaryen: &str) -> Result<PathBuf> {
    Ok(binaryen_prefix(binaryen)?.join("node_modules/.bin"))
}

fn ok(tool: &str, detail: &str) -> Result<()> {
    println!("{tool:<24} ok          {detail}");
    Ok(())
}

fn installing(tool: &str, reason: &str) {
    println!("{tool:<24} installing  ({reason})");
}

fn verify(tool: &str, is_ok: bool, found: &Option<String>) -> Result<()> {
    if is_ok {
        ok(tool, found.as_deref().unwrap_or_default())
    } else {
        Err(Error::new(format!(
            "{tool} was installed but the version check still finds {}; is ~/.cargo/bin on PATH?",
            describe(found)
        )))
    }
}

fn describe(found: &Option<String>) -> String {
    match found {
        Some(version) if !version.is_empty() => format!("`{version}`"),
        _ => "nothing".to_string(),
    }
}

fn read_to_string(path: &Path) -> Result<String> {
    fs::read_to_string(path)
        .map_err(|error| Error::new(format!("cannot read {}: {error}", path.display())))
}

/// The version of `package` in a `Cargo.lock`; an error-free `None` when it is absent.
fn cargo_lock_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version_line = lines.next()?.trim();
            return toml_string(version_line, "version");
        }
    }
    None
}

/// The `"version"` of a `package.json` (the first line that sets one: npm writes the
/// package's own near the top, before any nested object).
fn package_json_version(json: &str) -> Option<String> {
    json.lines().find_map(|line| {
        let value = line.trim().strip_prefix("\"version\"")?.trim_start();
        let value = value.strip_prefix(':')?.trim().strip_prefix('"')?;
        Some(value[..value.find('"')?].to_string())
    })
}

/// The string value of the first `key = "value"` line, which is all we read from TOML files.
fn toml_string(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (line_key, value) = line.split_once('=')?;
        if line_key.trim() != key {
            return None;
        }
        let value = value.trim();
        let value = value.strip_prefix('"')?;
        Some(value[..value.find('"')?].to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_wasm_bindgen_version_from_a_lock_file() {
        let lock = "[[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\nsource = \"x\"\n\n\
                    [[package]]\nname = \"wasm-bindgen-futures\"\nversion = \"0.4.50\"\n";
        assert_eq!(
            cargo_lock_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(cargo_lock_version(lock, "trunk"), None);
    }

    #[test]
    fn reads_the_version_of_a_package_json() {
        let json = "{\n  \"name\": \"axe-core\",\n  \"version\": \"4.14.1\",\n  \"deps\": { \"x\": { \"version\": \"1\" } }\n}";
        assert_eq!(package_json_version(json).as_deref(), Some("4.14.1"));
        assert_eq!(package_json_version("{}"), None);
    }

    #[test]
    fn the_e2e_harness_looks_for_the_axe_core_release_setup_installs() {
        let harness = fs::read_to_string(project_root().join("e2e/src/axe.rs"))
            .expect("e2e/src/axe.rs is readable");
        assert!(
            harness.contains(&format!("\"axe-core-{AXE_CORE_VERSION}\"")),
            "e2e/src/axe.rs must name axe-core-{AXE_CORE_VERSION}"
        );
    }

    #[test]
    fn reads_quoted_values_and_ignores_comments_after_them() {
        let toml = "# wasm_opt is binaryen\n[tools]\nwasm_bindgen = \"0.2.130\"\nwasm_opt = \"version_132\" # npm\n";
        assert_eq!(
            toml_string(toml, "wasm_bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            toml_string(toml, "wasm_opt").as_deref(),
            Some("version_132")
        );
        assert_eq!(toml_string(toml, "dist"), None);
    }
}
