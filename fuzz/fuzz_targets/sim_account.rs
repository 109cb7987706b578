//! Fuzz target `sim_account`: the property is [`sscard_fuzz::account::check_sim_account`] (see
//! fuzz/src/account.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sscard_fuzz::account::check_sim_account(data);
});
