//! Fuzz target `replay_personalize`: the property is [`sscard_fuzz::check_replay_personalize`] (see fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sscard_fuzz::check_replay_personalize(data);
});
