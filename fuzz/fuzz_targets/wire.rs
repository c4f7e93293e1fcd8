//! Every Admin API response decoder on arbitrary bytes: the first byte picks the kind of
//! body (user, page of invites, error envelope, ...), the rest is the body.

#![no_main]

use orgform_api::{Body, decode_body};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let kind = Body::ALL[usize::from(pick) % Body::ALL.len()];
    if let Err(err) = decode_body(kind, body) {
        let _ = err.to_string();
    }
});
