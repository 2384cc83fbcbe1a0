//! IPC Setting (manual 5.4): what a change does to the stored list, pure;
//! [`super::service`] stores it with its audit entry, then the sources
//! follow.

use app::{
    error::ApiError,
    model::{
        ipc::{validate_list, Ipc, MAX_IPCS},
        mail::PasswordUpdate,
    },
};

use crate::{
    store::{
        secret::Secret,
        tables::{IpcRecord, StoredIpc},
    },
    video as media,
};

/// What an IPC change does to the stored list.
pub enum IpcChange {
    /// Add (`None`) or modify a camera.
    Save(Option<u32>, Ipc, PasswordUpdate),
    Delete(u32),
    /// Replace the whole list with an imported one.
    Import(Vec<Ipc>),
}

impl IpcChange {
    pub fn audit(&self) -> &'static str {
        match self {
            Self::Save(None, ..) => "Add",
            Self::Save(Some(_), ..) => "Modify",
            Self::Delete(_) => "Delete",
            Self::Import(_) => "Import Config",
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message)
}

/// Applies `change` to `record`, or says why not (nothing changes then).
pub fn apply(record: &mut IpcRecord, change: IpcChange) -> Result<(), ApiError> {
    match change {
        IpcChange::Save(id, mut ipc, password) => {
            ipc.name = ipc.name.trim().to_string();
            ipc.ip = ipc.ip.trim().to_string();
            if let Some((field, message)) = ipc.validate().into_iter().next() {
                return Err(invalid(field, message));
            }
            if let PasswordUpdate::Set(p) = &password {
                if p.chars().count() > app::model::ipc::MAX_CREDENTIAL {
                    return Err(invalid("ipc-password", "At most 64 characters"));
                }
            }
            if record
                .ipcs
                .iter()
                .any(|s| Some(s.id) != id && s.ipc.name == ipc.name)
            {
                return Err(invalid("ipc-name", format!("{} is taken", ipc.name)));
            }
            match id {
                None => {
                    if record.ipcs.len() >= MAX_IPCS {
                        return Err(invalid(
                            "ipc-list",
                            format!("All {MAX_IPCS} devices are in use: delete one first"),
                        ));
                    }
                    let password = Secret::updated(password, None);
                    media::ipc_ingest(&ipc, password.as_ref().map(Secret::as_str))
                        .map_err(|m| invalid("ipc-protocol", m))?;
                    record.next_id = record.next_id.max(1);
                    record.ipcs.push(StoredIpc {
                        id: record.next_id,
                        ipc,
                        password,
                    });
                    record.next_id += 1;
                }
                Some(id) => {
                    let stored = record
                        .ipcs
                        .iter_mut()
                        .find(|s| s.id == id)
                        .ok_or_else(|| invalid("ipc", "This device was deleted meanwhile"))?;
                    let same = ipc.same_destination(&stored.ipc);
                    let password = Secret::updated_for(password, stored.password.clone(), same)
                        .map_err(|_| {
                            invalid(
                                "ipc-password",
                                "The IP Addr. or Port No. changed: enter the Password again (or clear it)",
                            )
                        })?;
                    media::ipc_ingest(&ipc, password.as_ref().map(Secret::as_str))
                        .map_err(|m| invalid("ipc-protocol", m))?;
                    stored.ipc = ipc;
                    stored.password = password;
                }
            }
        }
        IpcChange::Delete(id) => {
            let before = record.ipcs.len();
            record.ipcs.retain(|s| s.id != id);
            if record.ipcs.len() == before {
                return Err(invalid("ipc", "No such device"));
            }
        }
        IpcChange::Import(list) => {
            if let Some((i, _, message)) = validate_list(&list).into_iter().next() {
                return Err(invalid(
                    "file",
                    match i {
                        Some(i) => format!("Device {}: {message}", i + 1),
                        None => message,
                    },
                ));
            }
            let mut next_id = record.next_id.max(1);
            let mut imported = Vec::with_capacity(list.len());
            for (i, ipc) in list.into_iter().enumerate() {
                // The file has no passwords: one stays where the same
                // camera (address, port, user, channel) was already known.
                let password = record
                    .ipcs
                    .iter()
                    .find(|s| {
                        (&s.ipc.ip, s.ipc.port, &s.ipc.user, s.ipc.channel)
                            == (&ipc.ip, ipc.port, &ipc.user, ipc.channel)
                    })
                    .and_then(|s| s.password.clone());
                media::ipc_ingest(&ipc, password.as_ref().map(Secret::as_str))
                    .map_err(|m| invalid("file", format!("Device {}: {m}", i + 1)))?;
                imported.push(StoredIpc {
                    id: next_id,
                    ipc,
                    password,
                });
                next_id += 1;
            }
            record.ipcs = imported;
            record.next_id = next_id;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camera(name: &str, ip: &str) -> Ipc {
        Ipc {
            name: name.into(),
            ip: ip.into(),
            ..Ipc::default()
        }
    }

    fn add(record: &mut IpcRecord, name: &str, ip: &str, pw: Option<&str>) -> Result<(), ApiError> {
        let pw = pw.map_or(PasswordUpdate::Keep, |p| PasswordUpdate::Set(p.into()));
        apply(record, IpcChange::Save(None, camera(name, ip), pw))
    }

    fn field(e: ApiError) -> String {
        match e {
            ApiError::Invalid { field, .. } => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn ids_are_new_for_every_camera_and_never_reused() {
        let mut r = IpcRecord::default();
        add(&mut r, "A", "10.0.0.1", None).unwrap_or_else(|e| panic!("{e}"));
        add(&mut r, "B", "10.0.0.2", None).unwrap_or_else(|e| panic!("{e}"));
        apply(&mut r, IpcChange::Delete(2)).unwrap_or_else(|e| panic!("{e}"));
        add(&mut r, "C", "10.0.0.3", None).unwrap_or_else(|e| panic!("{e}"));
        let ids: Vec<u32> = r.ipcs.iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![1, 3]);
    }

    #[test]
    fn the_total_is_fixed_and_names_are_unique() {
        let mut r = IpcRecord::default();
        for i in 0..MAX_IPCS {
            add(&mut r, &format!("C{i}"), "10.0.0.1", None).unwrap_or_else(|e| panic!("{e}"));
        }
        let full = add(&mut r, "One more", "10.0.0.1", None).err();
        assert_eq!(full.map(field).as_deref(), Some("ipc-list"));
        assert_eq!(r.ipcs.len(), MAX_IPCS);
        let mut r = IpcRecord::default();
        add(&mut r, "Gate", "10.0.0.1", None).unwrap_or_else(|e| panic!("{e}"));
        let twice = add(&mut r, " Gate ", "10.0.0.2", None).err();
        assert_eq!(twice.map(field).as_deref(), Some("ipc-name"));
    }

    #[test]
    fn a_kept_password_never_follows_a_new_address_or_port() {
        let mut r = IpcRecord::default();
        add(&mut r, "Gate", "10.0.0.1", Some("pw1")).unwrap_or_else(|e| panic!("{e}"));
        let moved = IpcChange::Save(Some(1), camera("Gate", "10.6.6.6"), PasswordUpdate::Keep);
        assert_eq!(
            apply(&mut r, moved).err().map(field).as_deref(),
            Some("ipc-password")
        );
        let mut other_port = camera("Gate", "10.0.0.1");
        other_port.port += 1;
        let moved = IpcChange::Save(Some(1), other_port.clone(), PasswordUpdate::Keep);
        assert_eq!(
            apply(&mut r, moved).err().map(field).as_deref(),
            Some("ipc-password")
        );
        assert_eq!(r.ipcs[0].ipc.ip, "10.0.0.1", "nothing changed");
        // Typed again, it may go there.
        let typed = IpcChange::Save(Some(1), other_port, PasswordUpdate::Set("pw2".into()));
        apply(&mut r, typed).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.ipcs[0].password.as_ref().map(Secret::as_str), Some("pw2"));
    }

    #[test]
    fn passwords_are_kept_changed_or_cleared_and_survive_a_matching_import() {
        let mut r = IpcRecord::default();
        add(&mut r, "Gate", "10.0.0.1", Some("pw1")).unwrap_or_else(|e| panic!("{e}"));
        let keep = IpcChange::Save(Some(1), camera("Gate 2", "10.0.0.1"), PasswordUpdate::Keep);
        apply(&mut r, keep).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.ipcs[0].password.as_ref().map(Secret::as_str), Some("pw1"));
        assert_eq!(r.ipcs[0].ipc.name, "Gate 2");
        // An import keeps the password of the same camera, not of others.
        let list = vec![camera("Gate", "10.0.0.1"), camera("Yard", "10.0.0.9")];
        apply(&mut r, IpcChange::Import(list)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.ipcs[0].password.as_ref().map(Secret::as_str), Some("pw1"));
        assert_eq!(r.ipcs[1].password, None);
        let clear = IpcChange::Save(
            Some(r.ipcs[0].id),
            camera("Gate", "10.0.0.1"),
            PasswordUpdate::Clear,
        );
        apply(&mut r, clear).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.ipcs[0].password, None);
    }

    #[test]
    fn a_bad_import_changes_nothing() {
        let mut r = IpcRecord::default();
        add(&mut r, "Gate", "10.0.0.1", None).unwrap_or_else(|e| panic!("{e}"));
        let bad = vec![camera("Yard", "10.0.0.9"), camera("Yard", "10.0.0.8")];
        let e = apply(&mut r, IpcChange::Import(bad)).err();
        assert_eq!(e.map(field).as_deref(), Some("file"));
        // (The caller drops the record on error; nothing was half-applied
        // before the check either.)
        assert_eq!(r.ipcs.len(), 1);
        assert_eq!(r.ipcs[0].ipc.name, "Gate");
    }
}
