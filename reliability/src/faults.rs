//! The faults: the server process (`kill -9` and a restart on the same database file and
//! port, through the e2e harness's [`KefuServer`]) and the database's disk (a small tmpfs
//! holding only the SQLite files, filled so writes fail with SQLITE_FULL, then given room
//! again). Client-side faults (dropped connections, old resume cursors, duplicate sends)
//! are the driver's, since only a client can do them.
//!
//! Everything is bounded and local: the server listens on 127.0.0.1, the tmpfs is mounted
//! under the system temporary directory and unmounted when [`Disk`] is dropped.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use kefu_e2e::{KefuServer, ServerOptions};

/// `kefu.toml` for the run: the database on `database` (an absolute path, on the tmpfs when
/// there is one); every client comes from 127.0.0.1, so the rate limits are lifted; agents'
/// chats stay theirs across the restarts (a long grace period), so the agent who holds a
/// chat is the one whose transcript is checked, and a queued chat waits for its visitor
/// across the drops (a long `queue_visitor_grace_seconds`). Its clients do not ping: the idle
/// close is set beyond the run, so that the drops are the faults it chooses.
pub fn settings(database: &Path) -> String {
    format!(
        "identity_secret = \"reliability\"\ndatabase = \"{}\"\nagent_disconnect_grace_seconds = 3600\nidle_close_seconds = 86400\n\
         queue_visitor_grace_seconds = 86400\n\
         visitor_frames_per_second = 1000000.0\nvisitor_frame_burst = 1000000.0\n\
         ip_frames_per_second = 1000000.0\nip_frame_burst = 1000000.0\n",
        database.display()
    )
}

/// Starts `kefu serve` (the binary at `program`) with [`settings`] and `agents` agents
/// added through its CLI before the start (`agent0`, … with password `reliability`).
pub fn start_server(program: &Path, assets: &Path, database: &Path, agents: usize) -> KefuServer {
    let mut server = KefuServer::start_program(
        program,
        assets,
        ServerOptions::default().file("kefu.toml", settings(database)),
    );
    for index in 0..agents {
        server.run_cli_ok([
            "agent",
            "add",
            "--login",
            &format!("agent{index}"),
            "--password",
            "reliability",
            "--max-chats",
            "1000",
        ]);
    }
    // Agents added while it ran are known to the hub only from the next start.
    server.kill9();
    server.restart();
    server
}

/// `kill -9` then restart on the same data directory, database and port.
pub fn kill_and_restart(server: &mut KefuServer, pause: std::time::Duration) {
    server.kill9();
    std::thread::sleep(pause);
    server.restart();
}

/// The directory the database lives in: a tmpfs of its own when mounting works (we run as
/// root), else a plain directory, with the reason kept for the report.
pub struct Disk {
    pub dir: PathBuf,
    mounted: bool,
    size_mb: u64,
    /// Why the disk-full fault cannot be injected, when it cannot.
    pub unavailable: Option<String>,
}

const FILLER: &str = "filler";

impl Disk {
    /// Mounts a tmpfs of `size_mb` MiB on a fresh directory.
    pub fn mount(size_mb: u64) -> Disk {
        let dir = std::env::temp_dir().join(format!("kefu-reliability-{}", std::process::id()));
        let _ = fs::create_dir_all(&dir);
        let result = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mb}m"), "tmpfs"])
            .arg(&dir)
            .output();
        let unavailable = match result {
            Ok(output) if output.status.success() => None,
            Ok(output) => Some(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .trim_end_matches('.')
            )),
            Err(error) => Some(format!("cannot run mount: {error}")),
        };
        Disk {
            mounted: unavailable.is_none(),
            dir,
            size_mb,
            unavailable,
        }
    }

    pub fn database(&self) -> PathBuf {
        self.dir.join("kefu.db")
    }

    /// Fills the tmpfs so that no write can grow a file: first shrinks it to what is used
    /// (rounded up to 1 MiB), then writes a filler file until ENOSPC. Returns the bytes
    /// written.
    pub fn fill(&mut self) -> Result<u64> {
        if !self.mounted {
            bail!("the database is not on a tmpfs");
        }
        let used_mb = used_bytes(&self.dir)?.div_ceil(1 << 20) + 1;
        if used_mb < self.size_mb {
            self.remount(used_mb)?;
        }
        let mut file = fs::File::create(self.dir.join(FILLER)).context("creating the filler")?;
        let mut written = 0u64;
        for chunk in [1 << 20, 4096, 512] {
            let block = vec![0u8; chunk];
            while file.write_all(&block).is_ok() {
                written += chunk as u64;
            }
        }
        let _ = file.flush();
        Ok(written)
    }

    /// Gives room again: a bigger size (`mount -o remount,size=…`) and the filler removed.
    pub fn recover(&mut self, grow_mb: u64) -> Result<()> {
        self.remount(self.size_mb.max(used_bytes(&self.dir)? >> 20) + grow_mb)?;
        fs::remove_file(self.dir.join(FILLER)).context("removing the filler")?;
        Ok(())
    }

    fn remount(&mut self, size_mb: u64) -> Result<()> {
        let output = Command::new("mount")
            .args(["-o", &format!("remount,size={size_mb}m")])
            .arg(&self.dir)
            .output()?;
        if !output.status.success() {
            bail!(
                "mount -o remount,size={size_mb}m failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        self.size_mb = size_mb;
        Ok(())
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Bytes in use on the file system holding `dir`.
fn used_bytes(dir: &Path) -> Result<u64> {
    let path =
        std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).context("path with NUL")?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid NUL-terminated path and a zeroed statvfs to fill.
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        bail!(
            "statvfs {}: {}",
            dir.display(),
            std::io::Error::last_os_error()
        );
    }
    Ok((stat.f_blocks - stat.f_bfree) as u64 * stat.f_frsize as u64)
}
