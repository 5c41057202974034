#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| symbolon_fuzz::http::json_extractors(data));
