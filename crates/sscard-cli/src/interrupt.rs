//! Ctrl-C: the first one asks the running command to stop at the next safe point (a batch
//! finishes the card in hand and writes its return file); a second one ends the process.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The flag set by Ctrl-C (installs the handler on first use).
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let handler_flag = Arc::clone(&flag);
        let installed = ctrlc::set_handler(move || {
            if handler_flag.swap(true, Ordering::SeqCst) {
                std::process::exit(crate::error::EXIT_INTERRUPTED);
            }
            eprintln!("\ninterrupted: stopping after the card in hand (Ctrl-C again to quit now)");
        });
        if let Err(e) = installed {
            eprintln!("warning: cannot handle Ctrl-C: {e}");
        }
        flag
    }))
}
