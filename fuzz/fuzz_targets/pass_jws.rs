#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| symbolon_fuzz::pass::pass_jws(data));
