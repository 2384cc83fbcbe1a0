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
