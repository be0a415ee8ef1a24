//! The image engine: plain Rust with no web types, so it is unit-tested (and fuzzed) alone.
//! `inspect` reads disk image headers and refuses anything unsafe to hand to qemu-img.

pub mod convert;
pub mod demo_disk;
pub mod disk;
pub mod encrypted;
pub mod filesystem;
pub mod inspect;
pub mod sealed;
pub mod tool;
