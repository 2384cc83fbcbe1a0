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
