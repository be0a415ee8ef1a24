//! Image Management Service console: one crate, built twice — `ssr` (the server binary) and
//! `hydrate` (the WASM front end). Server-only modules sit behind `#[cfg(feature = "ssr")]`.

// Leptos views are deeply nested types; builds without `--cfg erase_components` (release,
// benchmarks) need more room than the default 128 to lay them out.
#![recursion_limit = "256"]

// The server allocates many small short-lived values per request (rows, JSON); glibc's malloc
// spent a third of the API lists' time on them, mimalloc much less (README, Performance).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod auth;
pub mod buckets;
pub mod caller;
pub mod compute;
pub mod error;
pub mod format;
pub mod images;
pub mod jobs;
pub mod keys;
pub mod market;
pub mod quotas;
pub mod regions;
pub mod sharing;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod demo_private;
#[cfg(feature = "ssr")]
pub mod engine;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod storage;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets tests (and styles) know the page is interactive.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
