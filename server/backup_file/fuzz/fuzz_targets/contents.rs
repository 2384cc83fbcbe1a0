//! Any bytes as a backup's plaintext (what a correctly sealed but crafted
//! file could hold): the parser never panics nor reserves memory the bytes
//! do not back, and what it accepts encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(contents) = backup_file::decode(data) {
        assert_eq!(backup_file::encode(&contents).ok().as_deref(), Some(data));
    }
});
