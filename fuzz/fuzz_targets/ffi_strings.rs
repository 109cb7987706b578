//! Fuzz target `ffi_strings`: the property is [`sscard_fuzz::ffi_strings::check_ffi_strings`]
//! (libsscard's string parsers, see fuzz/src/ffi_strings.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sscard_fuzz::ffi_strings::check_ffi_strings(data);
});
