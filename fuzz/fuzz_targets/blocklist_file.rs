//! Fuzz target `blocklist_file`: the property is [`sscard_fuzz::blocklist::check_blocklist_file`] (see fuzz/src/blocklist.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sscard_fuzz::blocklist::check_blocklist_file(data);
});
