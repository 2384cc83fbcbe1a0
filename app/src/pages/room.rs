//! Household Setting > Room No. Management (manual 5.2): the rooms whose
//! indoor monitors register here. Add one room in a dialog, or many in
//! batch (floors of rooms); Modify changes the names; Delete and Clear ask
//! first. A generated Register Password is shown once, right after Add,
//! with Export to keep the list.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api,
    components::{
        dialog::{ConfirmDialog, Dialog},
        form::{while_busy, Field, FormErrors, FormMessage, Select, Submit},
        hydration::{download, use_hydrated},
        notice::loaded,
    },
    model::room::{RegisterType, Room, RoomBatch, RoomEntry, RoomPage, EXTENSIONS, MAX_ROOMS},
};

/// The file the shown-once passwords can be saved as.
const PASSWORDS_FILE: &str = "register-passwords.csv";

#[component]
pub fn RoomPage() -> impl IntoView {
    view! {
        <h1>"Room No. Management"</h1>
        {loaded(api::rooms, |p| view! { <Rooms saved=p /> })}
    }
}

/// The Add / Modify dialog's fields.
#[derive(Clone, Copy, Default)]
struct Form {
    /// Modify (names only) rather than Add.
    modify: RwSignal<bool>,
    first_name: RwSignal<String>,
    last_name: RwSignal<String>,
    nick_name: RwSignal<String>,
    room_no: RwSignal<String>,
    register_type: RwSignal<String>,
    password: RwSignal<String>,
}

impl Form {
    fn new() -> Self {
        Self {
            register_type: RwSignal::new(RegisterType::default().key().into()),
            ..Self::default()
        }
    }

    fn fill(&self, modify: bool, room: &Room) {
        self.modify.set(modify);
        self.first_name.set(room.first_name.clone());
        self.last_name.set(room.last_name.clone());
        self.nick_name.set(room.nick_name.clone());
        self.room_no.set(room.room_no.clone());
        self.register_type.set(room.register_type.key().into());
        self.password.set(String::new());
    }

    fn room(&self) -> Room {
        Room {
            first_name: self.first_name.get().trim().to_string(),
            last_name: self.last_name.get().trim().to_string(),
            nick_name: self.nick_name.get().trim().to_string(),
            room_no: self.room_no.get().trim().to_string(),
            register_type: RegisterType::from_key(&self.register_type.get()).unwrap_or_default(),
        }
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        let mut errors = self.room().validate();
        let p = self.password.get();
        if !self.modify.get() && !p.is_empty() {
            if let Err(e) = crate::model::room::check_register_password(&p) {
                errors.push(("room-password", e));
            }
        }
        errors
    }

    fn track(&self) {
        for s in [
            self.first_name,
            self.last_name,
            self.nick_name,
            self.room_no,
            self.password,
        ] {
            s.track();
        }
    }
}

/// The batch form's fields, as typed.
#[derive(Clone, Copy)]
struct Batch {
    layers: RwSignal<String>,
    per_layer: RwSignal<String>,
    first: RwSignal<String>,
    second: RwSignal<String>,
    password: RwSignal<String>,
}

impl Batch {
    fn new() -> Self {
        let d = RoomBatch::default();
        Self {
            layers: RwSignal::new(d.unit_layer_amount.to_string()),
            per_layer: RwSignal::new(d.room_amount_in_one_layer.to_string()),
            first: RwSignal::new(d.first_floor_number.to_string()),
            second: RwSignal::new(d.second_floor_number.to_string()),
            password: RwSignal::new(String::new()),
        }
    }

    /// The batch, or the field that is not a number.
    fn batch(&self) -> Result<RoomBatch, (&'static str, String)> {
        fn num<T: std::str::FromStr>(
            field: &'static str,
            v: String,
        ) -> Result<T, (&'static str, String)> {
            v.trim()
                .parse()
                .map_err(|_| (field, "Enter a whole number".to_string()))
        }
        Ok(RoomBatch {
            unit_layer_amount: num("batch-layers", self.layers.get())?,
            room_amount_in_one_layer: num("batch-per-layer", self.per_layer.get())?,
            first_floor_number: num("batch-first", self.first.get())?,
            second_floor_number: num("batch-second", self.second.get())?,
        })
    }

    fn errors(&self) -> Vec<(&'static str, String)> {
        let mut errors: Vec<_> = self
            .batch()
            .and_then(|b| b.room_numbers())
            .err()
            .into_iter()
            .collect();
        let p = self.password.get();
        if !p.is_empty() {
            if let Err(e) = crate::model::room::check_register_password(&p) {
                errors.push(("batch-password", e));
            }
        }
        errors
    }

    /// "101-104, 201-204 (8 rooms)" while the numbers are valid.
    fn preview(&self) -> Option<String> {
        let b = self.batch().ok()?;
        let rooms = b.room_numbers().ok()?;
        let per = usize::try_from(b.room_amount_in_one_layer).ok()?.max(1);
        let floors: Vec<String> = rooms
            .chunks(per)
            .map(|f| match (f.first(), f.last()) {
                (Some(a), Some(z)) if a != z => format!("{a}-{z}"),
                (Some(a), _) => a.clone(),
                _ => String::new(),
            })
            .collect();
        let shown = if floors.len() > 4 {
            format!(
                "{}, {}, \u{2026}, {}",
                floors[0],
                floors[1],
                floors[floors.len() - 1]
            )
        } else {
            floors.join(", ")
        };
        Some(format!("{shown} ({} rooms)", rooms.len()))
    }

    fn track(&self) {
        for s in [
            self.layers,
            self.per_layer,
            self.first,
            self.second,
            self.password,
        ] {
            s.track();
        }
    }
}

/// The shown-once passwords as a CSV file.
fn passwords_csv(list: &[(String, String)]) -> String {
    let mut out = String::from("Room No.,Register Password\r\n");
    for (room, password) in list {
        out.push_str(&format!("{room},{password}\r\n"));
    }
    out
}

#[component]
fn Rooms(saved: RoomPage) -> impl IntoView {
    let hydrated = use_hydrated();
    let list = RwSignal::new(saved.rooms);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let editing = RwSignal::new(false);
    let deleting = RwSignal::new(None::<String>);
    let delete_open = RwSignal::new(false);
    let clear_open = RwSignal::new(false);
    // Generated passwords, shown until the next change.
    let shown_once = RwSignal::new(Vec::<(String, String)>::new());
    let warnings = RwSignal::new(Vec::<String>::new());
    let form = Form::new();
    let submitted = RwSignal::new(false);
    let errors = FormErrors::new(move || form.track());
    let error_for = errors.after_submit(submitted, move || form.errors());
    let dialog_message = RwSignal::new(None::<(bool, String)>);
    let batch = Batch::new();
    let batch_submitted = RwSignal::new(false);
    let batch_errors = FormErrors::new(move || batch.track());
    let batch_error = batch_errors.after_submit(batch_submitted, move || batch.errors());

    // What an answer of the device changes on the page.
    let show = move |page: RoomPage, done: String| {
        list.set(page.rooms);
        warnings.set(page.warnings);
        shown_once.set(page.new_passwords);
        let skipped = if page.skipped.is_empty() {
            String::new()
        } else {
            format!(" Skipped (already there): {}.", page.skipped.join(", "))
        };
        message.set(Some((true, format!("{done}{skipped}"))));
    };

    let add = move |_| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        form.fill(false, &Room::default());
        editing.set(true);
    };
    let modify = move |room: Room| {
        message.set(None);
        dialog_message.set(None);
        submitted.set(false);
        form.fill(true, &room);
        editing.set(true);
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submitted.set(true);
        if !form.errors().is_empty() {
            return;
        }
        let room = form.room();
        let modify = form.modify.get_untracked();
        let password = Some(form.password.get_untracked()).filter(|p| !p.is_empty());
        busy.set(true);
        spawn_local(async move {
            let r = if modify {
                api::save_room(room.clone()).await
            } else {
                api::add_room(room.clone(), password).await
            };
            busy.set(false);
            match r {
                Ok(page) => {
                    editing.set(false);
                    let done = if modify { "Saved" } else { "Added" };
                    show(page, format!("{done}: room {}.", room.room_no));
                }
                Err(e) => errors.take(e, dialog_message),
            }
        });
    };
    let add_batch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        batch_submitted.set(true);
        message.set(None);
        if !batch.errors().is_empty() {
            return;
        }
        let Ok(b) = batch.batch() else { return };
        let password = Some(batch.password.get_untracked()).filter(|p| !p.is_empty());
        while_busy(busy, api::add_rooms(b, password), move |r| match r {
            Ok(page) => {
                let n = page.new_passwords.len();
                show(page, format!("Added {n} rooms."));
                batch_submitted.set(false);
            }
            Err(e) => batch_errors.take(e, message),
        });
    };
    let delete = move || {
        let Some(room_no) = deleting.get_untracked() else {
            return;
        };
        while_busy(busy, api::delete_room(room_no.clone()), move |r| {
            delete_open.set(false);
            match r {
                Ok(page) => show(page, format!("Deleted: room {room_no}.")),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let clear = move || {
        while_busy(busy, api::clear_rooms(), move |r| {
            clear_open.set(false);
            match r {
                Ok(page) => show(page, "Cleared: every room.".into()),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let refresh = move |_| {
        spawn_local(async move {
            match api::rooms().await {
                Ok(page) => list.set(page.rooms),
                Err(e) => message.set(Some((false, e.to_string()))),
            }
        });
    };
    let export_passwords = move |_| {
        let saved = download(
            PASSWORDS_FILE,
            "text/csv",
            &passwords_csv(&shown_once.get_untracked()),
        );
        if let Err(e) = saved {
            message.set(Some((false, e)));
        }
    };
    let monitors = EXTENSIONS + 1;

    view! {
        <section class="card wide" aria-labelledby="room-list-title">
            <div class="card-head">
                <h2 id="room-list-title">"Rooms"</h2>
                <span class="muted" id="room-count">{move || format!("{} / {MAX_ROOMS}", list.with(Vec::len))}</span>
            </div>
            <Show
                when=move || list.with(|l| !l.is_empty())
                fallback=|| view! { <p class="muted" id="room-empty">"No rooms yet: click Add, or add them in batch below."</p> }
            >
                <div class="table-wrap">
                    <table class="log" id="room-table">
                        <thead>
                            <tr>
                                <th>"Room No."</th>
                                <th>"First Name"</th>
                                <th>"Last Name"</th>
                                <th>"Nick Name"</th>
                                <th>"Register Type"</th>
                                <th>"Online"</th>
                                <th></th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || list.get() key=|e: &RoomEntry| format!("{e:?}") let:entry>
                                {
                                    let for_modify = entry.room.clone();
                                    let room_no = entry.room.room_no.clone();
                                    view! {
                                        <tr data-room=entry.room.room_no.clone()>
                                            <td>{entry.room.room_no.clone()}</td>
                                            <td>{entry.room.first_name.clone()}</td>
                                            <td>{entry.room.last_name.clone()}</td>
                                            <td>{entry.room.nick_name.clone()}</td>
                                            <td>{entry.room.register_type.label()}</td>
                                            <td class="online" title=format!("monitors registered, of {monitors} possible")>
                                                {entry.online}
                                            </td>
                                            <td class="row-actions">
                                                <button type="button" class="secondary small" on:click=move |_| modify(for_modify.clone())>
                                                    "Modify"
                                                </button>
                                                <a class="button secondary small" href=format!("/household/cards/{}", entry.room.room_no)>
                                                    "Cards"
                                                </a>
                                                <button type="button" class="secondary small danger" on:click=move |_| {
                                                    deleting.set(Some(room_no.clone()));
                                                    delete_open.set(true);
                                                }>
                                                    "Delete"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                }
                            </For>
                        </tbody>
                    </table>
                </div>
            </Show>
            <Show when=move || shown_once.with(|l| !l.is_empty())>
                <div class="warning shown-once" id="room-passwords" role="status">
                    <p>
                        <strong>"Register Passwords, shown this once."</strong>
                        " Enter each on its room's indoor monitors, or Export the list now: the device keeps only digests of them."
                    </p>
                    <table class="log compact">
                        <thead><tr><th>"Room No."</th><th>"Register Password"</th></tr></thead>
                        <tbody>
                            {move || shown_once.get().into_iter().map(|(room, password)| view! {
                                <tr><td>{room}</td><td class="mono">{password}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <button type="button" id="room-passwords-export" class="secondary" on:click=export_passwords>
                        "Export"
                    </button>
                </div>
            </Show>
            <Show when=move || warnings.with(|w| !w.is_empty())>
                <p class="warning" id="room-warnings">{move || warnings.get().join(". ")}</p>
            </Show>
            <FormMessage message />
            <div class="actions left">
                <button type="button" id="room-add" class="primary" disabled=move || !hydrated.get() on:click=add>
                    "Add"
                </button>
                <button type="button" id="room-refresh" class="secondary" disabled=move || !hydrated.get() on:click=refresh>
                    "Refresh"
                </button>
                <button
                    type="button"
                    id="room-clear"
                    class="secondary danger"
                    disabled=move || !hydrated.get() || list.with(Vec::is_empty)
                    on:click=move |_| clear_open.set(true)
                >
                    "Clear"
                </button>
            </div>
        </section>

        <section class="card wide" aria-labelledby="room-batch-title">
            <h2 id="room-batch-title">"Add in Batch"</h2>
            <form id="room-batch-form" on:submit=add_batch novalidate>
                <div class="grid-2">
                    <Field id="batch-layers" label="Unit Layer Amount" kind="number" value=batch.layers error=batch_error("batch-layers") />
                    <Field id="batch-per-layer" label="Room Amount in One Layer" kind="number" value=batch.per_layer error=batch_error("batch-per-layer") />
                    <Field id="batch-first" label="First Floor Number" kind="number" value=batch.first error=batch_error("batch-first") />
                    <Field id="batch-second" label="Second Floor Number" kind="number" value=batch.second error=batch_error("batch-second") />
                    <Field id="batch-password" label="Register Password" kind="password" autocomplete="new-password" value=batch.password error=batch_error("batch-password")>
                        <p class="hint">"Empty: each room gets a strong one of its own, shown once."</p>
                    </Field>
                </div>
                <p class="hint" id="batch-preview">
                    {move || batch.preview().map(|p| format!("Rooms: {p}")).unwrap_or_default()}
                </p>
                <div class="actions left">
                    <Submit label="Add" id="batch-add" busy />
                </div>
            </form>
        </section>

        <Dialog open=editing title="Room">
            <form id="room-form" on:submit=save novalidate>
                <div class="grid-2">
                    <Field id="room-first-name" label="First Name" value=form.first_name error=error_for("room-first-name") autofocus=true />
                    <Field id="room-last-name" label="Last Name" value=form.last_name error=error_for("room-last-name") />
                    <Field id="room-nick-name" label="Nick Name" value=form.nick_name error=error_for("room-nick-name") />
                    {move || {
                        let readonly = form.modify.get();
                        view! { <Field id="room-no" label="Room No." value=form.room_no error=error_for("room-no") readonly /> }
                    }}
                    <Select id="room-register-type" label="Register Type" options=RegisterType::options() value=form.register_type />
                    <Show when=move || !form.modify.get()>
                        <Field id="room-password" label="Register Password" kind="password" autocomplete="new-password" value=form.password error=error_for("room-password")>
                            <p class="hint">"Empty: a strong one is generated and shown once."</p>
                        </Field>
                    </Show>
                </div>
                <FormMessage message=dialog_message />
                <div class="actions">
                    <Show when=move || form.modify.get()>
                        <a
                            class="button secondary"
                            id="room-issue-card"
                            href=move || format!("/household/cards/{}", form.room_no.get())
                        >
                            "Issue Card"
                        </a>
                    </Show>
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>
                        "Cancel"
                    </button>
                    <button type="submit" id="room-save" class="primary" disabled=move || busy.get()>
                        "Save"
                    </button>
                </div>
            </form>
        </Dialog>

        <ConfirmDialog
            open=delete_open
            title="Delete"
            question=Signal::derive(move || {
                deleting.get().map(|r| format!("Delete room {r}? Its monitors are unregistered.")).unwrap_or_default()
            })
            id="room-delete"
            confirm="Delete"
            busy
            on_confirm=delete
        />
        <ConfirmDialog
            open=clear_open
            title="Clear"
            question="Delete every room? All their monitors are unregistered.".to_string()
            id="room-clear"
            confirm="Clear"
            busy
            on_confirm=clear
        />
    }
}
