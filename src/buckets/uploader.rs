//! The browser side of chunked, resumable uploads (WASM only). Chunks are sliced from the
//! File and sent one at a time; a chunk that fails is retried; the server's record of stored
//! chunks lets a dropped connection or a reloaded page carry on where it stopped.

use super::model::{CompletedUpload, UploadState};
use super::page::UploadUi;
use crate::format::format_bytes;
use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

const RETRIES: u32 = 5;

pub async fn upload(bucket: String, key: String, file: web_sys::File, ui: UploadUi) {
    match run(&bucket, &key, &file, ui).await {
        Ok(sha256) => {
            ui.percent.set(100.0);
            ui.message.set(format!("Uploaded {key} · SHA-256 {sha256}"));
        }
        Err(message) => {
            ui.message.set(String::new());
            ui.error.set(Some(message));
        }
    }
    ui.running.set(false);
    ui.finished.update(|count| *count += 1);
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|window| window.performance()).map(|performance| performance.now()).unwrap_or(0.0)
}

async fn sleep_ms(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Sends a request; Ok(response) for any HTTP answer, Err for a network failure.
async fn fetch(method: &str, url: &str, body: Option<&wasm_bindgen::JsValue>, json: bool) -> Result<Response, String> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(body);
    }
    if json {
        let headers = Headers::new().map_err(|_| "The browser refused the request.".to_string())?;
        let _ = headers.set("Content-Type", "application/json");
        init.set_headers(&headers);
    }
    let window = web_sys::window().ok_or("No browser window.")?;
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "The connection to the server was lost.".to_string())?;
    response.dyn_into::<Response>().map_err(|_| "The server's answer was unreadable.".to_string())
}

async fn text(response: &Response) -> String {
    match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|value| value.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The server's error message, or the status when there is none.
async fn error_of(response: &Response) -> String {
    let body = text(response).await;
    serde_json::from_str::<ErrorBody>(&body)
        .map(|error| error.error)
        .unwrap_or_else(|_| format!("The server answered {}.", response.status()))
}

async fn json_call<T: for<'de> Deserialize<'de>>(method: &str, url: &str, body: Option<String>) -> Result<T, String> {
    let body = body.map(|body| wasm_bindgen::JsValue::from_str(&body));
    let response = fetch(method, url, body.as_ref(), true).await?;
    if !response.ok() {
        return Err(error_of(&response).await);
    }
    serde_json::from_str(&text(&response).await).map_err(|_| "The server's answer was unreadable.".to_string())
}

async fn run(bucket: &str, key: &str, file: &web_sys::File, ui: UploadUi) -> Result<String, String> {
    let size = file.size() as u64;
    let request = serde_json::json!({ "bucket": bucket, "key": key, "size": size }).to_string();
    let state: UploadState = json_call("POST", "/storage/uploads", Some(request)).await?;
    let chunk_length = |index: u64| (state.size - index * state.chunk_size).min(state.chunk_size);
    let mut stored: u64 = state.received.iter().map(|index| chunk_length(*index)).sum();
    if !state.received.is_empty() {
        ui.message.set(format!("Resuming: {} already stored", format_bytes(stored as i64)));
    }
    ui.percent.set(stored as f64 * 100.0 / size.max(1) as f64);

    let started = now_ms();
    let mut sent: u64 = 0;
    for index in (0..state.chunk_count).filter(|index| !state.received.contains(index)) {
        if ui.cancel.get_untracked() {
            let _ = fetch("DELETE", &format!("/storage/uploads/{}", state.upload_id), None, false).await;
            return Err("The upload was cancelled.".into());
        }
        let start = index * state.chunk_size;
        let end = start + chunk_length(index);
        let blob = file
            .slice_with_f64_and_f64(start as f64, end as f64)
            .map_err(|_| "The file could not be read.".to_string())?;
        let url = format!("/storage/uploads/{}/chunks/{index}", state.upload_id);
        let mut attempt = 0;
        loop {
            match fetch("PUT", &url, Some(&blob.clone().into()), false).await {
                Ok(response) if response.ok() => break,
                Ok(response) if response.status() < 500 => return Err(error_of(&response).await),
                failure => {
                    attempt += 1;
                    if attempt > RETRIES {
                        let reason = match failure {
                            Ok(response) => error_of(&response).await,
                            Err(message) => message,
                        };
                        return Err(format!("{reason} Choose the same file again to resume."));
                    }
                    ui.message.set(format!("Connection problem; retrying ({attempt} of {RETRIES})"));
                    sleep_ms(1000 * 2i32.pow(attempt - 1)).await;
                }
            }
        }
        stored += end - start;
        sent += end - start;
        let seconds = ((now_ms() - started) / 1000.0).max(0.001);
        ui.percent.set(stored as f64 * 100.0 / size as f64);
        ui.message.set(format!(
            "{} of {} · {}/s",
            format_bytes(stored as i64),
            format_bytes(size as i64),
            format_bytes((sent as f64 / seconds) as i64)
        ));
    }
    ui.message.set("Joining the pieces and computing the SHA-256".into());
    let completed: CompletedUpload =
        json_call("POST", &format!("/storage/uploads/{}/complete", state.upload_id), None).await?;
    Ok(completed.sha256)
}
