//! Progress of long commands (`batch`) on stderr: a bar on a terminal, a plain line every
//! [`PLAIN_EVERY`] and at the end when stderr is a file or a pipe (a log), nothing with
//! `--no-progress` or `--quiet`. The rate is shown as people say it: "300 cards/s",
//! "1.5 cards/s", "12 s per card".

use std::io::IsTerminal;
use std::sync::atomic::{AtomicI8, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// -1: `--quiet`; 0: normal; n: `-v` given n times.
static LEVEL: AtomicI8 = AtomicI8::new(0);

/// Sets how much this process says on stderr (`--quiet`, `-v`).
pub fn set_level(quiet: bool, verbose: u8) {
    let level = if quiet {
        -1
    } else {
        i8::try_from(verbose).unwrap_or(i8::MAX)
    };
    LEVEL.store(level, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    LEVEL.load(Ordering::Relaxed) < 0
}

/// How many `-v` were given.
pub fn verbose() -> u8 {
    u8::try_from(LEVEL.load(Ordering::Relaxed)).unwrap_or(0)
}

/// An informational line on stderr, unless `--quiet`.
pub fn note(message: impl std::fmt::Display) {
    if !quiet() {
        eprintln!("{message}");
    }
}

/// How often the plain progress line is printed when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// A rate of `count` things in `elapsed`, in words: `300 cards/s`, `1.5 cards/s`, `12 s per
/// card`; `-` before anything was done.
pub fn rate(count: u64, elapsed: Duration, singular: &str, plural: &str) -> String {
    let secs = elapsed.as_secs_f64();
    if count == 0 || secs <= 0.0 {
        return "-".into();
    }
    let per_sec = count as f64 / secs;
    if per_sec >= 10.0 {
        format!("{per_sec:.0} {plural}/s")
    } else if per_sec >= 1.0 {
        format!("{per_sec:.1} {plural}/s")
    } else {
        format!("{:.0} s per {singular}", 1.0 / per_sec)
    }
}

/// `n` with the singular or plural noun: `1 card`, `2 cards`.
pub fn count(n: u64, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// A plain line now and then, and one at the end.
    Plain,
    /// Nothing.
    Off,
}

impl Mode {
    /// The mode for this process: off when asked, a bar on a terminal, else plain lines.
    pub fn for_stderr(no_progress: bool, quiet: bool) -> Mode {
        if no_progress || quiet {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        }
    }
}

/// Progress of `total` things (cards) done by several threads.
pub struct Progress {
    mode: Mode,
    bar: ProgressBar,
    total: u64,
    done: AtomicU64,
    start: Instant,
    last_line: Mutex<Instant>,
    what: &'static str,
}

impl Progress {
    /// Progress of `total` `what` (a plural noun: `cards`), shown as `mode` says.
    pub fn new(mode: Mode, total: u64, what: &'static str) -> Progress {
        let bar = match mode {
            Mode::Bar => {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} {what}  {{rate}}  ETA {{eta}}  {{elapsed_precise}}"
                ))
                .map(|s| {
                    s.with_key(
                        "rate",
                        move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = w.write_str(&rate(state.pos(), state.elapsed(), "card", what));
                        },
                    )
                });
                if let Ok(style) = style {
                    bar.set_style(style);
                }
                bar
            }
            Mode::Plain | Mode::Off => ProgressBar::hidden(),
        };
        let now = Instant::now();
        Progress {
            mode,
            bar,
            total,
            done: AtomicU64::new(0),
            start: now,
            last_line: Mutex::new(now),
            what,
        }
    }

    /// One more done.
    pub fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        match self.mode {
            Mode::Bar => self.bar.inc(1),
            Mode::Plain => {
                let mut last = self
                    .last_line
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if last.elapsed() >= PLAIN_EVERY {
                    *last = Instant::now();
                    eprintln!("{}", self.line(done));
                }
            }
            Mode::Off => {}
        }
    }

    fn line(&self, done: u64) -> String {
        format!(
            "progress: {done}/{} {}, {}, {:.1} s",
            self.total,
            self.what,
            rate(done, self.start.elapsed(), "card", self.what),
            self.start.elapsed().as_secs_f64()
        )
    }

    /// Prints `message` on its own line without breaking the bar (unless `--quiet`).
    pub fn note(&self, message: &str) {
        if !quiet() {
            self.bar.suspend(|| eprintln!("{message}"));
        }
    }

    /// Ends the display: the bar is cleared, a plain display prints its last line.
    pub fn finish(&self) {
        match self.mode {
            Mode::Bar => self.bar.finish_and_clear(),
            Mode::Plain => eprintln!("{}", self.line(self.done.load(Ordering::SeqCst))),
            Mode::Off => {}
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_counts_read_as_people_say_them() {
        let s = Duration::from_secs;
        assert_eq!(rate(3000, s(10), "card", "cards"), "300 cards/s");
        assert_eq!(rate(3, s(2), "card", "cards"), "1.5 cards/s");
        assert_eq!(rate(1, s(12), "card", "cards"), "12 s per card");
        assert_eq!(rate(0, s(12), "card", "cards"), "-");
        assert_eq!(count(1, "try", "tries"), "1 try");
        assert_eq!(count(2, "try", "tries"), "2 tries");
        assert_eq!(count(0, "card", "cards"), "0 cards");
    }
}
