//! What only happens in the browser once the page is hydrated.

use leptos::prelude::*;

/// Sets `data-hydrated` on `<html>` once the wasm has taken over (called
/// when hydration is complete), so tests and styles can tell a live page
/// from server-rendered HTML.
#[cfg(feature = "hydrate")]
pub fn mark_document_hydrated() {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}

/// `false` during server rendering and until hydration, then `true`: forms
/// keep their buttons disabled until they can be handled in the browser.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// Loads `path` as a new page (after login, logout or a reset, so that the
/// server decides afresh what the session may see).
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Waits `ms` milliseconds (a browser timer).
#[cfg(feature = "hydrate")]
pub async fn sleep_ms(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Calls `tick` every `ms` milliseconds while the calling component is
/// shown (live pages ask the device again).
pub fn every(ms: u64, tick: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(tick.clone(), std::time::Duration::from_millis(ms))
        {
            on_cleanup(move || handle.clear());
        }
    });
}

/// Reloads the current page.
pub fn reload_page() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().reload();
    }
}

/// An Export button's work: asks the device for the file, saves it in the
/// browser with `save`, and says in `message` how it went (`done` when
/// saved).
pub fn export_file<T: 'static>(
    message: RwSignal<Option<(bool, String)>>,
    request: impl std::future::Future<Output = Result<T, crate::error::ApiError>> + 'static,
    save: impl FnOnce(T) -> Result<(), String> + 'static,
    done: String,
) {
    message.set(None);
    leptos::task::spawn_local(async move {
        let saved = request.await.map_err(|e| e.to_string()).and_then(save);
        message.set(Some(match saved {
            Ok(()) => (true, done),
            Err(e) => (false, e),
        }));
    });
}

/// Saves `value` as a pretty JSON file called `name` (Export buttons).
pub fn download_json<T: serde::Serialize>(name: &str, value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    download(name, "application/json", &text)
}

/// Saves `text` as a file named `name` (the browser's download).
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    {
        let href = format!("data:{mime};charset=utf-8,{}", percent_encode(text));
        click_download(name, &href)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (name, mime, text);
        Ok(())
    }
}

/// Saves `text` as a file named `name` through a Blob: for files of
/// megabytes, which a `data:` link may not carry.
pub fn download_large(name: &str, mime: &str, text: &str) -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    {
        let fail = |what: &str| format!("cannot save the file ({what})");
        let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
        let bag = web_sys::BlobPropertyBag::new();
        bag.set_type(mime);
        let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &bag)
            .map_err(|_| fail("blob"))?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| fail("url"))?;
        let clicked = click_download(name, &url);
        // The download has its own reference by now.
        let _ = web_sys::Url::revoke_object_url(&url);
        clicked
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (name, mime, text);
        Ok(())
    }
}

/// Clicks a link to `href` that downloads as `name`.
#[cfg(feature = "hydrate")]
fn click_download(name: &str, href: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let fail = |what: &str| format!("cannot save the file ({what})");
    let doc = document();
    let a = doc
        .create_element("a")
        .map_err(|_| fail("create"))?
        .dyn_into::<web_sys::HtmlElement>()
        .map_err(|_| fail("element"))?;
    a.set_attribute("href", href).map_err(|_| fail("href"))?;
    a.set_attribute("download", name)
        .map_err(|_| fail("name"))?;
    let body = doc.body().ok_or_else(|| fail("body"))?;
    body.append_child(&a).map_err(|_| fail("append"))?;
    a.click();
    a.remove();
    Ok(())
}

#[cfg(any(feature = "hydrate", test))]
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of the file chosen in the file input `input_id`, if any;
/// files over `max_bytes` are refused before they are read.
pub async fn chosen_file_text(input_id: &str, max_bytes: usize) -> Option<Result<String, String>> {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let input = document()
            .get_element_by_id(input_id)?
            .dyn_into::<web_sys::HtmlInputElement>()
            .ok()?;
        let file = input.files()?.get(0)?;
        if file.size() > max_bytes as f64 {
            return Some(Err(format!(
                "The file is larger than {} KiB",
                max_bytes / 1024
            )));
        }
        let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
        Some(
            text.ok()
                .and_then(|v| v.as_string())
                .ok_or_else(|| "The file cannot be read".to_string()),
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (input_id, max_bytes);
        None
    }
}

/// The chosen file's text for an import; when there is none or it cannot
/// be read, says so in `message` (`missing` names what to choose) and
/// gives `None`.
pub async fn file_to_import(
    input_id: &str,
    max_bytes: usize,
    missing: &str,
    message: leptos::prelude::RwSignal<Option<(bool, String)>>,
) -> Option<String> {
    use leptos::prelude::Set;
    match chosen_file_text(input_id, max_bytes).await {
        None => {
            message.set(Some((false, format!("Choose {missing} first."))));
            None
        }
        Some(Err(e)) => {
            message.set(Some((false, e)));
            None
        }
        Some(Ok(t)) => Some(t),
    }
}

/// Keeps `value` current: asks the device again and again with the
/// version seen (`fetch`), each answer coming at the next change (a long
/// poll), until the component is gone; after an error (the device
/// restarting, the network gone) it asks again in 3 s.
pub fn follow<T, F, Fut>(value: RwSignal<T>, version: fn(&T) -> u64, fetch: F)
where
    T: Send + Sync + 'static,
    F: Fn(u64) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, crate::error::ApiError>> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        // Started once, on the first run of the effect.
        let mut fetch = Some(fetch);
        Effect::new(move |_| {
            let Some(fetch) = fetch.take() else { return };
            leptos::task::spawn_local(async move {
                while let Some(seen) = value.try_with_untracked(version) {
                    match fetch(seen).await {
                        Ok(v) => {
                            if value.try_set(v).is_some() {
                                break;
                            }
                        }
                        // The session ended (logged out elsewhere, ended
                        // from Online Users, the account deleted).
                        Err(crate::error::ApiError::Unauthorized) => {
                            load_page("/login");
                            break;
                        }
                        Err(_) => sleep_ms(3000).await,
                    }
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (value, version, fetch);
}

#[cfg(test)]
mod tests {
    #[test]
    fn percent_encodes_everything_but_unreserved() {
        assert_eq!(
            super::percent_encode("{\"a\": 1}\n"),
            "%7B%22a%22%3A%201%7D%0A"
        );
        assert_eq!(super::percent_encode("é"), "%C3%A9");
    }
}
