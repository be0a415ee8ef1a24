//! Feeds arbitrary bytes to the inspector, with and without a declared format: it must never
//! panic, read out of bounds or allocate without bound, and an accepted image must report a
//! virtual size within the limit.
#![no_main]

#[allow(dead_code)]
#[path = "../../src/engine/inspect/mod.rs"]
mod inspect;

use inspect::{inspect as inspect_image, ImageFormat, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_virtual_size: 1 << 40 };
    let declared = data.first().map(|byte| ImageFormat::ALL[*byte as usize % ImageFormat::ALL.len()]);
    for declared in [None, declared] {
        let mut reader = data;
        if let Ok(report) = inspect_image(&mut reader, data.len() as u64, declared, &limits) {
            assert!(report.virtual_size > 0 && report.virtual_size <= limits.max_virtual_size);
        }
    }
});
