//! The manifest loader on arbitrary text: it returns a manifest or problems, and rendering
//! the problems works too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(err) = orgform_manifest::load_str("fuzz.yaml", &text) {
        let _ = orgform_manifest::render(&err, false);
    }
});
