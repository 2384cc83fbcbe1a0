//! How API errors are shown on a page.

use leptos::prelude::*;

use crate::{components::hydration::load_page, error::ApiError};

/// An error panel; a lost session leads back to the login page.
#[component]
pub fn ErrorNotice(error: ApiError) -> impl IntoView {
    if error == ApiError::Unauthorized {
        Effect::new(move |_| load_page("/login"));
    }
    view! { <p class="form-message error" role="alert">{error.to_string()}</p> }
}

/// Loads a page's data from the device, then shows it with `show`: a
/// loading line first, the error panel if the load fails.
pub fn loaded<T, Fut, V>(
    fetch: impl Fn() -> Fut + Send + Sync + 'static,
    show: impl Fn(T) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    V: IntoView + 'static,
{
    let data = Resource::new(|| (), move |_| fetch());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading\u{2026}"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => show(d).into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
