#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| symbolon_fuzz::seal::seal_header(data));
