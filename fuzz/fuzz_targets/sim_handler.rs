//! Fuzz target `sim_handler`: the property is [`sscard_fuzz::check_sim_handler`] (see fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sscard_fuzz::check_sim_handler(data);
});
