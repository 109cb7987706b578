//! Dynamic shell completion (`COMPLETE=bash sscard`, clap_complete's `CompleteEnv`): the
//! values of `--reader` and `--psam` completed from what is there when the user presses Tab:
//! the PC/SC readers pcscd knows, `sim:` card images and `feeder:` folders.

use std::ffi::OsStr;
use std::path::Path;

use clap_complete::engine::CompletionCandidate;

/// Candidates for a reader argument starting with `current`.
pub fn readers(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let mut out = Vec::new();
    if let Ok(readers) = sscard_pcsc::Pcsc::establish().and_then(|mut p| p.list_readers()) {
        for r in readers
            .iter()
            .filter(|r| r.name.starts_with(current.as_ref()))
        {
            let state = if r.card_present {
                "card present"
            } else {
                "empty"
            };
            out.push(CompletionCandidate::new(r.name.clone()).help(Some(state.into())));
        }
    }
    for (prefix, folders) in [("sim:", false), ("feeder:", true)] {
        match current.strip_prefix(prefix) {
            Some(rest) => out.extend(
                paths(rest, folders)
                    .into_iter()
                    .map(|p| CompletionCandidate::new(format!("{prefix}{p}"))),
            ),
            None if prefix.starts_with(current.as_ref()) => {
                out.push(CompletionCandidate::new(prefix));
            }
            None => {}
        }
    }
    out
}

/// Files (or folders) whose path starts with `partial`; folders end with `/` so that the
/// completion can go on into them.
fn paths(partial: &str, folders_only: bool) -> Vec<String> {
    let (dir, stem) = match partial.rfind('/') {
        Some(i) => (&partial[..=i], &partial[i + 1..]),
        None => ("", partial),
    };
    let read = std::fs::read_dir(if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(dir)
    });
    let Ok(entries) = read else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let wanted = is_dir || (!folders_only && name.ends_with(".json"));
            (name.starts_with(stem) && !name.starts_with('.') && wanted)
                .then(|| format!("{dir}{name}{}", if is_dir { "/" } else { "" }))
        })
        .collect();
    out.sort();
    out
}
