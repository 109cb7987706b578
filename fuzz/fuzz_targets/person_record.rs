//! Fuzz target `person_record`: the property is [`sscard_fuzz::check_person_record`] (see fuzz/src/lib.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sscard_fuzz::check_person_record(data);
});
