//! The signed-in account's role on the page: the layout loads it once
//! (`me`) and puts it in the context; the menu and the pages show only
//! what the role may use (the device refuses the rest anyway).

use leptos::prelude::*;

use crate::{
    api,
    error::ApiError,
    model::users::{Me, Right},
};

/// Who is signed in, loaded by the layout.
#[derive(Clone, Copy)]
pub struct MeResource(pub Resource<Result<Me, ApiError>>);

impl MeResource {
    /// Loads it and puts it in the context (once per page, by the layout).
    pub fn provide() -> Self {
        let me = Self(Resource::new(|| (), |_| api::me()));
        provide_context(me);
        me
    }
}

/// A resource for a part that [`IfMay`] shows: it loads only when the
/// signed-in role has `right` (`Forbidden` otherwise, never shown).
///
/// Make it in the page's body and hand it to the part: a component built
/// inside a Suspense is built again on each server pass (Leptos's dry run,
/// then the render), and a resource it made itself would load, and go to
/// the browser, once per pass.
pub fn resource_if_may<T, Fut>(
    right: Right,
    fetch: impl Fn() -> Fut + Send + Sync + 'static,
) -> Resource<Result<T, ApiError>>
where
    T: Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let me = use_context::<MeResource>();
    Resource::new(
        || (),
        move |_| {
            // Lazy: nothing loads before the check below.
            let fetched = fetch();
            async move {
                let Some(me) = me else {
                    return Err(ApiError::Unauthorized);
                };
                let role = me.0.await?.role;
                if !role.may(right) {
                    return Err(ApiError::Forbidden { role });
                }
                fetched.await
            }
        },
    )
}

/// `children` when the signed-in role has `right` (nothing while unknown,
/// or outside the layout).
#[component]
pub fn IfMay(right: Right, children: ChildrenFn) -> impl IntoView {
    let me = use_context::<MeResource>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let may = match me {
                    Some(me) => me.0.await.is_ok_and(|m| m.role.may(right)),
                    None => false,
                };
                may.then(|| children.read_value()())
            })}
        </Suspense>
    }
}
