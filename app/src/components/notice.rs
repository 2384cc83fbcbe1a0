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
    suspended(Resource::new(|| (), move |_| fetch()), show)
}

/// [`loaded`] for a resource the page keeps (one that depends on the
/// address, or that the page asks to load again).
pub fn suspended<T, V>(
    data: Resource<Result<T, ApiError>>,
    show: impl Fn(T) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! { <Suspense fallback=loading>{outcome(data, show)}</Suspense> }
}

/// [`suspended`] under a Transition: while the resource loads again (a
/// log's next page, a refresh) the rows shown stay until the new ones are
/// there.
pub fn transition<T, V>(
    data: Resource<Result<T, ApiError>>,
    show: impl Fn(T) -> V + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! { <Transition fallback=loading>{outcome(data, show)}</Transition> }
}

/// The line shown while a page's data loads.
fn loading() -> impl IntoView {
    view! { <p class="loading">"Loading\u{2026}"</p> }
}

/// What a loaded resource shows: `show`'s view, or the error panel.
fn outcome<T, V>(
    data: Resource<Result<T, ApiError>>,
    show: impl Fn(T) -> V + Copy + Send + Sync + 'static,
) -> impl Fn() -> Suspend<AnyView> + Send + Sync + 'static
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    move || {
        Suspend::new(async move {
            match data.await {
                Ok(d) => show(d).into_any(),
                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
            }
        })
    }
}
