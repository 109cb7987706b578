//! A private pcscd with the vpcd virtual readers, for tests and benchmarks (feature `testing`).
//!
//! [`PrivatePcscd::acquire`] reuses the pcscd that `scripts/test.sh` started (`$SSCARD_PCSCD_DIR`,
//! `$SSCARD_VPCD_PORT`) or starts its own through `scripts/pcscd-private.sh`, in its own folder
//! on free ports, in its own mount namespace so that a system pcscd is never disturbed. An own
//! pcscd is stopped and its folder removed on drop; a shared one is left running (and started
//! again if a test restarted it). When pcscd, vpcd or root are missing, `acquire` prints why and
//! answers `None`, so the test can pass with that notice; `scripts/test.sh` installs them.
//! Test support: it panics on failures, as tests want.
#![allow(clippy::panic, clippy::print_stdout)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A running private pcscd and its two virtual readers' ports (`port`, `port + 1`).
#[derive(Debug)]
pub struct PrivatePcscd {
    script: PathBuf,
    dir: PathBuf,
    port: u16,
    owned: bool,
}

impl PrivatePcscd {
    /// The pcscd for test `name`: the shared one when it runs, else an own one on free ports in
    /// `$TMPDIR/sscard-pcscd-<name>-<pid>`. Sets `PCSCLITE_CSOCK_NAME` for this process (pcsc-lite
    /// reads it once, before its first call) and clears `SSCARD_READER`. `None` after printing
    /// `SKIPPED <name>: <why>` when a private pcscd cannot run here.
    pub fn acquire(name: &str, ports: std::ops::Range<u16>) -> Option<PrivatePcscd> {
        if let Some(why) = missing_prerequisite() {
            println!("SKIPPED {name}: {why}");
            return None;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pcscd-private.sh");
        let shared = std::env::var_os("SSCARD_PCSCD_DIR").map(|dir| PrivatePcscd {
            script: script.clone(),
            dir: PathBuf::from(dir),
            port: std::env::var("SSCARD_VPCD_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(35991),
            owned: false,
        });
        let pcscd = match shared {
            Some(shared) if shared.run("status").status.success() => shared,
            _ => PrivatePcscd {
                script,
                dir: std::env::temp_dir()
                    .join(format!("sscard-pcscd-{name}-{}", std::process::id())),
                port: free_port_pair(ports)?,
                owned: true,
            },
        };
        std::env::set_var("PCSCLITE_CSOCK_NAME", pcscd.socket());
        std::env::remove_var("SSCARD_READER");
        if let Err(e) = pcscd.try_start() {
            // only a sandbox without mount namespaces (and another pcscd running) is a reason
            // to skip; any other failure is a failure
            if e.contains("no mount namespaces here") {
                println!("SKIPPED {name}: {e}");
                return None;
            }
            panic!("{e}");
        }
        if !pcscd.owned {
            pcscd.wait_for_empty_readers();
        }
        println!(
            "pcscd: {} instance in {} (vpcd ports {}/{})",
            if pcscd.owned { "own" } else { "shared" },
            pcscd.dir.display(),
            pcscd.port,
            pcscd.port + 1
        );
        Some(pcscd)
    }

    /// Waits until no reader of the shared pcscd shows a card: the virtual cards of the test
    /// program before this one go when it exits, but pcscd notices only at its next poll.
    fn wait_for_empty_readers(&self) {
        let occupied = || -> Vec<String> {
            crate::Pcsc::establish()
                .and_then(|mut p| p.list_readers())
                .map(|rs| {
                    rs.into_iter()
                        .filter(|r| r.card_present)
                        .map(|r| r.name)
                        .collect()
                })
                .unwrap_or_default()
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = occupied();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "a card of an earlier test is still in {left:?} of the shared pcscd"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `scripts/pcscd-private.sh ACTION` for this instance.
    pub fn run(&self, action: &str) -> Output {
        Command::new("bash")
            .arg(&self.script)
            .arg(action)
            .env("SSCARD_PCSCD_DIR", &self.dir)
            .env("SSCARD_VPCD_PORT", self.port.to_string())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.script.display()))
    }

    /// Starts it (no-op when running); the script's output on failure.
    pub fn try_start(&self) -> Result<(), String> {
        let out = self.run("start");
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "pcscd-private.sh start failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }

    /// Starts it; panics when the script fails.
    pub fn start(&self) {
        if let Err(e) = self.try_start() {
            panic!("{e}");
        }
    }

    /// Stops it; panics when the script fails.
    pub fn stop(&self) {
        let out = self.run("stop");
        assert!(out.status.success(), "pcscd-private.sh stop failed");
    }

    /// Restarts it (the clients' contexts die: what `NoService` recovery is tested with).
    pub fn restart(&self) {
        let out = self.run("restart");
        assert!(
            out.status.success(),
            "pcscd-private.sh restart failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The vpcd address of virtual reader `slot` (0 or 1).
    pub fn addr(&self, slot: u16) -> String {
        format!("127.0.0.1:{}", self.port + slot)
    }

    /// The first virtual reader's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its folder (socket, reader configuration, pid, log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The client socket (`PCSCLITE_CSOCK_NAME`).
    pub fn socket(&self) -> PathBuf {
        self.dir.join("pcscd.comm")
    }

    /// Whether this instance was started here (and is stopped on drop).
    pub fn owned(&self) -> bool {
        self.owned
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        if !self.owned {
            // somebody else's: make sure it runs again (a restart case may have stopped it)
            let _ = self.run("start");
            return;
        }
        let _ = self.run("stop");
        if std::env::var_os("SSCARD_PCSCD_DEBUG").is_some() {
            println!("pcscd log kept in {}", self.dir.join("pcscd.log").display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Why a private pcscd with vpcd cannot run here, if it cannot.
pub fn missing_prerequisite() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("not Linux".into());
    }
    let in_path = |prog: &str| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
            .unwrap_or(false)
            || Path::new("/usr/sbin").join(prog).is_file()
    };
    if !in_path("pcscd") {
        return Some("pcscd is not installed (scripts/install-deps.sh installs it)".into());
    }
    if !Path::new("/etc/reader.conf.d/vpcd").is_file() {
        return Some("vsmartcard-vpcd is not installed (scripts/install-deps.sh)".into());
    }
    if !in_path("unshare") {
        return Some("unshare (util-linux) is not installed".into());
    }
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Some("not root: a private pcscd needs a mount namespace".into());
    }
    None
}

/// A base port in `range` with it and the next one free.
fn free_port_pair(range: std::ops::Range<u16>) -> Option<u16> {
    range.step_by(2).find(|&base| {
        TcpListener::bind(("0.0.0.0", base)).is_ok()
            && TcpListener::bind(("0.0.0.0", base + 1)).is_ok()
    })
}

/// Polls `done` every 10 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}
