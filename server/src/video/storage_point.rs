//! Storage Point (Local Setting > Basic): the folder snapshots are saved
//! to. Empty setting: `snapshots` in the data folder, made when needed. A
//! folder given by the installer (an SD card's mount point) is never
//! made: if it is missing the card is, and writing into the bare mount
//! point would fill the system's own disk.
//!
//! File names are ours (`unlock-<ms>-<seq>.jpg`), so a name from a request
//! that does not match that form names nothing: no path ever leaves the
//! folder.

use std::{
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
};

use app::model::time::UnixMillis;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SaveError {
    #[error("the storage point {0} is missing")]
    Missing(String),
    #[error("the storage point is full")]
    Full,
    #[error("cannot write to the storage point: {0}")]
    Io(String),
}

pub struct StoragePoint {
    data_dir: PathBuf,
}

impl StoragePoint {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// The folder the Storage Point setting names.
    pub fn folder(&self, setting: &str) -> PathBuf {
        if setting.is_empty() {
            self.data_dir.join("snapshots")
        } else {
            PathBuf::from(setting)
        }
    }

    /// Saves `jpeg` as `name`, whole or not at all (a partial file is
    /// removed).
    pub fn save(&self, setting: &str, name: &str, jpeg: &[u8]) -> Result<(), SaveError> {
        if !valid_name(name) {
            return Err(SaveError::Io(format!("not a snapshot name: {name}")));
        }
        let folder = self.folder(setting);
        if setting.is_empty() {
            std::fs::create_dir_all(&folder).map_err(|e| classify(&e, &folder))?;
        }
        let part = folder.join(format!(".{name}.part"));
        let written = write_file(&part, jpeg)
            .and_then(|()| std::fs::rename(&part, folder.join(name)))
            .map_err(|e| classify(&e, &folder));
        if written.is_err() {
            let _ = std::fs::remove_file(&part);
        }
        written
    }

    /// A saved snapshot; `None` for a name that is not one of ours or a
    /// file that is gone.
    pub fn open(&self, setting: &str, name: &str) -> Option<Vec<u8>> {
        if !valid_name(name) {
            return None;
        }
        std::fs::read(self.folder(setting).join(name)).ok()
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    fill(f, bytes)
}

fn fill(mut f: std::fs::File, bytes: &[u8]) -> std::io::Result<()> {
    f.write_all(bytes)?;
    // On the card before the record points at it.
    f.sync_all()
}

fn classify(e: &std::io::Error, folder: &Path) -> SaveError {
    match e.kind() {
        ErrorKind::NotFound => SaveError::Missing(folder.display().to_string()),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => SaveError::Full,
        _ => SaveError::Io(e.to_string()),
    }
}

/// The file of the snapshot of unlock record `seq`.
pub fn unlock_file(time: UnixMillis, seq: u64) -> String {
    format!("unlock-{}-{seq}.jpg", time.0)
}

/// `<letters>-<digits>-<digits>.jpg`: the only names this module makes.
pub fn valid_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".jpg") else {
        return false;
    };
    let mut parts = stem.split('-');
    let kind = parts.next().unwrap_or_default();
    let numbers: Vec<&str> = parts.collect();
    !kind.is_empty()
        && kind.bytes().all(|b| b.is_ascii_lowercase())
        && numbers.len() == 2
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_names() {
        assert!(valid_name(&unlock_file(UnixMillis(1_795_693_839_000), 7)));
        for bad in [
            "",
            "unlock-1-2.png",
            "../unlock-1-2.jpg",
            "unlock-1.jpg",
            "unlock-1-2-3.jpg",
            "unlock--2.jpg",
            "Unlock-1-2.jpg",
            "unlock-1-2.jpg/",
            ".unlock-1-2.jpg.part",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn saves_in_the_data_folder_by_default_and_reads_back() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let storage = StoragePoint::new(dir.path());
        assert_eq!(storage.save("", "unlock-1-2.jpg", b"\xff\xd8jpeg"), Ok(()));
        assert_eq!(
            storage.open("", "unlock-1-2.jpg").as_deref(),
            Some(&b"\xff\xd8jpeg"[..])
        );
        assert!(dir.path().join("snapshots/unlock-1-2.jpg").exists());
        assert_eq!(storage.open("", "unlock-1-3.jpg"), None);
        assert_eq!(storage.open("", "../data.redb"), None);
        // Saved again: replaced whole.
        assert!(storage.save("", "unlock-1-2.jpg", b"other").is_ok());
        assert_eq!(
            storage.open("", "unlock-1-2.jpg").as_deref(),
            Some(&b"other"[..])
        );
    }

    #[test]
    fn a_missing_card_is_not_made() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let card = dir.path().join("sd");
        let setting = card.display().to_string();
        let storage = StoragePoint::new(dir.path());
        assert_eq!(
            storage.save(&setting, "unlock-1-2.jpg", b"jpeg"),
            Err(SaveError::Missing(setting.clone()))
        );
        assert!(!card.exists());
    }

    #[test]
    fn a_full_card_is_told() {
        // /dev/full answers every write with ENOSPC, as a full card does.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
        let full = full.unwrap_or_else(|e| panic!("/dev/full: {e}"));
        let e = fill(full, b"jpeg").err();
        let e = e.unwrap_or_else(|| panic!("/dev/full took a write"));
        assert_eq!(classify(&e, Path::new("/media/sd")), SaveError::Full);
    }
}
