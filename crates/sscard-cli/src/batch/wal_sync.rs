//! Making the batch journal's entries durable: the fsync of SQLite's write-ahead log, shared by
//! the readers (a group commit).
//!
//! - One fsync at a time. A reader whose entry is committed while another's fsync is under way
//!   waits for it and looks again: an fsync covers every entry committed before it began.
//! - The commit delay (\[design\] D39, after PostgreSQL's `commit_delay`): with more than one
//!   reader at work, a reader about to fsync first waits until every reader at work waits
//!   too, so that one fsync covers all their `started` entries; it waits at most as long as
//!   the last fsync took (waiting longer would cost more than the fsync it saves: on a disk
//!   hundreds of microseconds, on tmpfs nothing) and never more than [`COMMIT_DELAY`].
//!   Readers doing the same work then stay in step, and a batch on two readers costs about one
//!   fsync per two cards instead of one per card. A lone reader never waits.
//! - Waits are short (an fsync, a fraction of a card's work): a waiting reader yields its CPU
//!   and looks again rather than sleeping, since waking a sleeping thread costs a good part of
//!   an fsync on a virtual machine; after [`SPIN_FOR`] it sleeps between looks.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{CliError, CliResult};

/// How long a reader about to fsync waits for the other readers at work to reach the same
/// point (see the module documentation).
pub const COMMIT_DELAY: Duration = Duration::from_micros(300);

/// How long a waiting reader yields and looks again before it sleeps between looks.
pub const SPIN_FOR: Duration = Duration::from_millis(2);

/// Makes committed journal entries durable (see the module documentation). Used outside the
/// journal's lock.
pub struct WalSync {
    wal: File,
    /// Entries committed (written to the log).
    committed: AtomicU64,
    /// Entries known to be on the disk.
    synced: AtomicU64,
    /// fsyncs of the journal's files (ours and the checkpoints').
    syncs: AtomicU64,
    /// An fsync of the log is under way.
    syncing: AtomicBool,
    /// The readers at work and those of them waiting for company.
    company: Mutex<Company>,
    /// Bumped each time every reader at work waits (a round of the commit delay ends).
    round: AtomicU64,
    /// The longest commit delay ([`COMMIT_DELAY`]).
    delay: Duration,
    /// How long the last fsync of the log took, in nanoseconds: the commit delay.
    last_fsync_ns: AtomicU64,
}

#[derive(Default)]
struct Company {
    at_work: usize,
    waiting: usize,
}

/// A reader at work, counted by the commit delay until dropped.
pub struct AtWork<'a>(&'a WalSync);

impl Drop for AtWork<'_> {
    fn drop(&mut self) {
        let mut company = self.0.company();
        company.at_work = company.at_work.saturating_sub(1);
        // the readers waiting for this one need not wait any longer
        if company.waiting > 0 && company.waiting >= company.at_work {
            self.0.end_round(&mut company);
        }
    }
}

/// Clears the "fsync under way" mark however the fsync ends.
struct Syncing<'a>(&'a AtomicBool);

impl Drop for Syncing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Waits until `done()` or `deadline`, yielding the CPU for [`SPIN_FOR`], then sleeping
/// briefly between looks. Returns whether `done()` held.
fn wait_until(deadline: Option<Instant>, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return false;
        }
        if now.duration_since(start) < SPIN_FOR {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

impl WalSync {
    /// Durability for the log `wal` (its committed entries told by
    /// [`WalSync::committed_through`]).
    pub fn new(wal: File) -> WalSync {
        WalSync {
            wal,
            committed: AtomicU64::new(0),
            synced: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            syncing: AtomicBool::new(false),
            company: Mutex::new(Company::default()),
            round: AtomicU64::new(0),
            delay: COMMIT_DELAY,
            last_fsync_ns: AtomicU64::new(u64::MAX),
        }
    }

    fn company(&self) -> std::sync::MutexGuard<'_, Company> {
        self.company.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn end_round(&self, company: &mut Company) {
        company.waiting = 0;
        self.round.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts a reader at work for the commit delay, until the returned value is dropped.
    pub fn at_work(&self) -> AtWork<'_> {
        self.company().at_work += 1;
        AtWork(self)
    }

    /// Entries up to `seq` are committed (in the log, not yet durable).
    pub fn committed_through(&self, seq: u64) {
        self.committed.store(seq, Ordering::SeqCst);
    }

    /// A checkpoint made every committed entry durable with `fsyncs` fsyncs of its own.
    pub fn checkpointed(&self, seq: u64, fsyncs: u64) {
        self.syncs.fetch_add(fsyncs, Ordering::SeqCst);
        self.synced.fetch_max(seq, Ordering::SeqCst);
    }

    fn synced_through(&self, seq: u64) -> bool {
        self.synced.load(Ordering::SeqCst) >= seq
    }

    /// Makes every entry up to `seq` durable like [`WalSync::sync_through`], after the commit
    /// delay: a reader's `started` entry, which the other readers' may join.
    pub fn sync_in_company(&self, seq: u64) -> CliResult<()> {
        if self.synced_through(seq) {
            return Ok(());
        }
        let round = {
            let mut company = self.company();
            let round = self.round.load(Ordering::SeqCst);
            company.waiting += 1;
            if company.waiting >= company.at_work {
                // everyone at work waits (or this reader is alone): no delay
                self.end_round(&mut company);
                None
            } else {
                Some(round)
            }
        };
        if let Some(round) = round {
            let last = Duration::from_nanos(self.last_fsync_ns.load(Ordering::SeqCst));
            let joined = wait_until(Some(Instant::now() + self.delay.min(last)), || {
                self.round.load(Ordering::SeqCst) != round || self.synced_through(seq)
            });
            if !joined {
                let mut company = self.company();
                if self.round.load(Ordering::SeqCst) == round {
                    company.waiting = company.waiting.saturating_sub(1);
                }
            }
        }
        self.sync_through(seq)
    }

    /// Makes every entry up to `seq` durable, with one fsync of the log unless another
    /// reader's fsync covered it already.
    pub fn sync_through(&self, seq: u64) -> CliResult<()> {
        // one fsync at a time: wait for the one under way, which may cover `seq`
        let mut free = false;
        wait_until(None, || {
            self.synced_through(seq) || {
                free = !self.syncing.swap(true, Ordering::SeqCst);
                free
            }
        });
        if !free {
            return Ok(());
        }
        let _syncing = Syncing(&self.syncing);
        if self.synced_through(seq) {
            return Ok(());
        }
        // everything committed by now is in the log's page cache: this fsync covers it
        let upto = self.committed.load(Ordering::SeqCst);
        let start = Instant::now();
        self.wal
            .sync_data()
            .map_err(|e| CliError::Other(format!("journal: fsync of the write-ahead log: {e}")))?;
        let took = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_fsync_ns.store(took, Ordering::SeqCst);
        self.syncs.fetch_add(1, Ordering::SeqCst);
        self.synced.fetch_max(upto, Ordering::SeqCst);
        Ok(())
    }

    /// Makes every committed entry durable.
    pub fn sync_all(&self) -> CliResult<()> {
        self.sync_through(self.committed.load(Ordering::SeqCst))
    }

    /// fsyncs of the journal's files so far in this run.
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn log(delay: Duration) -> (tempfile::TempDir, Arc<WalSync>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, b"entries").unwrap();
        let file = File::options().read(true).write(true).open(&path).unwrap();
        let sync = WalSync {
            delay,
            ..WalSync::new(file)
        };
        (dir, Arc::new(sync))
    }

    #[test]
    fn an_fsync_covers_what_was_committed_before_it() {
        let (_dir, sync) = log(COMMIT_DELAY);
        sync.committed_through(3);
        sync.sync_through(2).unwrap();
        assert_eq!(sync.syncs(), 1);
        // the fsync covered everything committed before it: 3 as well
        sync.sync_through(3).unwrap();
        sync.sync_in_company(3).unwrap();
        assert_eq!(sync.syncs(), 1);
        sync.committed_through(4);
        sync.sync_all().unwrap();
        assert_eq!(sync.syncs(), 2);
        sync.checkpointed(4, 2);
        assert_eq!(sync.syncs(), 4);
    }

    #[test]
    fn a_lone_reader_never_waits_for_company() {
        // a delay no test could sit out: a reader that waited would hang the test
        let (_dir, sync) = log(Duration::from_secs(3600));
        let _me = sync.at_work();
        for seq in 1..=20 {
            sync.committed_through(seq);
            sync.sync_in_company(seq).unwrap();
        }
        assert_eq!(sync.syncs(), 20);
        // each call ended its round at once
        assert_eq!(sync.round.load(Ordering::SeqCst), 20);
    }

    /// Waits until `n` readers wait for company.
    fn until_waiting(sync: &WalSync, n: usize) {
        assert!(wait_until(
            Some(Instant::now() + Duration::from_secs(30)),
            || sync.company().waiting == n
        ));
    }

    #[test]
    fn two_readers_at_work_share_one_fsync() {
        let (_dir, sync) = log(Duration::from_secs(3600));
        let a = sync.at_work();
        let b = sync.at_work();
        sync.committed_through(1);
        let first = {
            let sync = Arc::clone(&sync);
            std::thread::spawn(move || sync.sync_in_company(1))
        };
        // the first reader waits for the second, which commits its entry and joins
        until_waiting(&sync, 1);
        assert_eq!(sync.syncs(), 0);
        sync.committed_through(2);
        sync.sync_in_company(2).unwrap();
        first.join().unwrap().unwrap();
        assert!(sync.synced_through(2));
        assert_eq!(sync.syncs(), 1, "one fsync for both readers' entries");
        drop((a, b));
    }

    #[test]
    fn a_reader_waits_for_company_no_longer_than_an_fsync_takes() {
        let (_dir, sync) = log(Duration::from_secs(3600));
        let _a = sync.at_work();
        let _b = sync.at_work();
        // an fsync measured (a file's fsync takes far less than the hour above)
        sync.committed_through(1);
        sync.sync_through(1).unwrap();
        // the other reader never comes: this one waits about one fsync's time, then goes alone
        sync.committed_through(2);
        sync.sync_in_company(2).unwrap();
        assert!(sync.synced_through(2));
        assert_eq!(sync.syncs(), 2);
        assert_eq!(sync.company().waiting, 0, "it stopped waiting");
    }

    #[test]
    fn a_reader_leaving_frees_the_one_waiting_for_it() {
        let (_dir, sync) = log(Duration::from_secs(3600));
        let a = sync.at_work();
        let b = sync.at_work();
        sync.committed_through(1);
        let waiting = {
            let sync = Arc::clone(&sync);
            std::thread::spawn(move || sync.sync_in_company(1))
        };
        until_waiting(&sync, 1);
        // the other reader ends its work (its queue is empty): no one is left to wait for
        drop(b);
        waiting.join().unwrap().unwrap();
        assert!(sync.synced_through(1));
        assert_eq!(sync.syncs(), 1);
        drop(a);
        assert_eq!(sync.company().at_work, 0);
    }
}
