//! Storage Point (Local Setting > Basic): the folder snapshots are saved
//! to. Empty setting: `snapshots` in the data folder, made when needed. A
//! folder given by the installer (an SD card's mount point) is never
//! made: if it is missing the card is, and writing into the bare mount
//! point would fill the system's own disk.
//!
//! File names are ours (`unlock-<ms>-<seq>.jpg`, `message-<ms>-<ms>.mp4`),
//! so a name from a request that does not match that form names nothing:
//! no path ever leaves the folder. Visitors' messages are written as they
//! are recorded ([`Part`]).
//!
//! Bounded: after each file saved, our files (snapshots and messages
//! alike) are rotated to at most [`Limits`] files and bytes, the oldest
//! first ([`StoragePoint::rotate`]). Other files in the folder are not
//! ours: neither counted nor touched.

use std::{
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use app::model::{settings::StorageUsage, time::UnixMillis};

/// `--storage-max-files` and `--storage-max-mb` unless given.
pub const DEFAULT_MAX_FILES: u32 = 1_000;
pub const DEFAULT_MAX_MB: u32 = 1_024;

/// How much of the Storage Point is ours at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_files: usize,
    pub max_bytes: u64,
}

impl Limits {
    pub fn new(max_files: u32, max_mb: u32) -> Self {
        Self {
            max_files: usize::try_from(max_files).unwrap_or(usize::MAX),
            max_bytes: u64::from(max_mb) << 20,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FILES, DEFAULT_MAX_MB)
    }
}

/// Of `files` (oldest first: name, bytes), those to remove, oldest first,
/// so that at most `limits` stay.
pub fn to_remove(files: &[(String, u64)], limits: Limits) -> Vec<String> {
    let mut count = files.len();
    let mut total: u64 = files.iter().map(|(_, b)| b).sum();
    let mut out = Vec::new();
    for (name, bytes) in files {
        if count <= limits.max_files && total <= limits.max_bytes {
            break;
        }
        out.push(name.clone());
        count -= 1;
        total = total.saturating_sub(*bytes);
    }
    out
}

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
    limits: Limits,
}

impl StoragePoint {
    pub fn new(data_dir: &Path, limits: Limits) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
            limits,
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

    /// A JPEG of `door`'s current picture saved as `name`; the name, or
    /// why not (Auto Snapshot at an unlock or an answer).
    pub async fn save_picture(
        self: Arc<Self>,
        door: Option<Arc<super::Source>>,
        setting: String,
        name: String,
    ) -> Result<String, String> {
        let jpeg = door.ok_or("no door camera")?.snapshot().await?;
        tokio::task::spawn_blocking(move || -> Result<String, String> {
            self.save(&setting, &name, &jpeg)
                .map_err(|e| e.to_string())?;
            self.rotate(&setting);
            Ok(name)
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// A file written as it comes (a message being recorded), named
    /// `name` by [`Part::commit`]; removed if dropped before.
    pub fn create(&self, setting: &str) -> Result<Part, SaveError> {
        let folder = self.folder(setting);
        if setting.is_empty() {
            std::fs::create_dir_all(&folder).map_err(|e| classify(&e, &folder))?;
        }
        let mut id = [0u8; 8];
        let _ = getrandom::fill(&mut id);
        let path = folder.join(format!(".recording-{}.part", u64::from_be_bytes(id)));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| classify(&e, &folder))?;
        Ok(Part {
            file,
            path,
            folder,
            done: false,
        })
    }

    /// Our files of `kind` (`message`), oldest first: (name, bytes).
    pub fn list(&self, setting: &str, kind: &str) -> Vec<(String, u64)> {
        let prefix = format!("{kind}-");
        self.files(setting)
            .into_iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .collect()
    }

    /// All our files, oldest first (by the time in their names): (name,
    /// bytes).
    pub fn files(&self, setting: &str) -> Vec<(String, u64)> {
        let Ok(dir) = std::fs::read_dir(self.folder(setting)) else {
            return Vec::new();
        };
        let mut out: Vec<(u64, String, u64)> = dir
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                if !valid_name(&name) {
                    return None;
                }
                let time = name.split('-').nth(1)?.parse().ok()?;
                let meta = e.metadata().ok()?;
                meta.is_file().then_some((time, name, meta.len()))
            })
            .collect();
        out.sort();
        out.into_iter().map(|(_, n, b)| (n, b)).collect()
    }

    /// Removes one of our files; false if it was not there.
    pub fn remove(&self, setting: &str, name: &str) -> bool {
        valid_name(name) && std::fs::remove_file(self.folder(setting).join(name)).is_ok()
    }

    /// Keeps at most the [`Limits`] of our files: the oldest go first.
    /// Returns the names removed.
    pub fn rotate(&self, setting: &str) -> Vec<String> {
        let removed: Vec<String> = to_remove(&self.files(setting), self.limits)
            .into_iter()
            .filter(|name| self.remove(setting, name))
            .collect();
        if !removed.is_empty() {
            tracing::info!(
                removed = ?removed,
                max_files = self.limits.max_files,
                max_bytes = self.limits.max_bytes,
                "Storage Point: the oldest files removed to stay within its bounds"
            );
        }
        removed
    }

    /// What our files take of the Storage Point, and the bounds.
    pub fn usage(&self, setting: &str) -> StorageUsage {
        let files = self.files(setting);
        StorageUsage {
            files: u64::try_from(files.len()).unwrap_or(u64::MAX),
            bytes: files.iter().map(|(_, b)| b).sum(),
            max_files: u64::try_from(self.limits.max_files).unwrap_or(u64::MAX),
            max_bytes: self.limits.max_bytes,
        }
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

/// A file being written (see [`StoragePoint::create`]).
pub struct Part {
    file: std::fs::File,
    path: PathBuf,
    folder: PathBuf,
    done: bool,
}

impl Part {
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SaveError> {
        self.file
            .write_all(bytes)
            .map_err(|e| classify(&e, &self.folder))
    }

    /// On the card, under `name`.
    pub fn commit(mut self, name: &str) -> Result<(), SaveError> {
        if !valid_name(name) {
            return Err(SaveError::Io(format!("not one of our names: {name}")));
        }
        self.file
            .sync_all()
            .map_err(|e| classify(&e, &self.folder))?;
        std::fs::rename(&self.path, self.folder.join(name))
            .map_err(|e| classify(&e, &self.folder))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
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

/// The file of a visitor's message that began at `time` and lasts
/// `duration_ms`.
pub fn message_file(time: UnixMillis, duration_ms: u64) -> String {
    format!("message-{}-{duration_ms}.mp4", time.0)
}

/// `<letters>-<digits>-<digits>.jpg` or `.mp4`: the only names this module
/// makes.
pub fn valid_name(name: &str) -> bool {
    let Some(stem) = name
        .strip_suffix(".jpg")
        .or_else(|| name.strip_suffix(".mp4"))
    else {
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
            "message-1-2.mp4.part",
            ".recording-1.part",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn saves_in_the_data_folder_by_default_and_reads_back() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let storage = StoragePoint::new(dir.path(), Limits::default());
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
    fn a_message_is_written_as_it_comes_and_the_oldest_go_first() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let storage = StoragePoint::new(dir.path(), Limits::default());
        for (t, size) in [(3, 30), (1, 10), (2, 20)] {
            let mut part = storage.create("").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(part.write(&vec![0; size]), Ok(()));
            let name = message_file(UnixMillis(t), 5000);
            assert!(valid_name(&name), "{name}");
            assert_eq!(part.commit(&name), Ok(()));
        }
        // One dropped before its commit leaves nothing behind.
        let mut part = storage.create("").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(part.write(b"half"), Ok(()));
        drop(part);
        let names = |s: &StoragePoint| -> Vec<String> {
            s.list("", "message").into_iter().map(|(n, _)| n).collect()
        };
        assert_eq!(
            names(&storage),
            [
                "message-1-5000.mp4",
                "message-2-5000.mp4",
                "message-3-5000.mp4"
            ]
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("snapshots"))
                .map(|d| d.count())
                .ok(),
            Some(3)
        );
        assert!(storage.rotate("").is_empty(), "within the bounds");
        // At most 50 bytes: the oldest goes.
        let storage = StoragePoint {
            limits: Limits {
                max_files: 10,
                max_bytes: 50,
            },
            ..storage
        };
        assert_eq!(storage.rotate(""), ["message-1-5000.mp4"]);
        // At most one file.
        let storage = StoragePoint {
            limits: Limits {
                max_files: 1,
                max_bytes: 1000,
            },
            ..storage
        };
        assert_eq!(storage.rotate(""), ["message-2-5000.mp4"]);
        assert_eq!(names(&storage), ["message-3-5000.mp4"]);
        assert!(storage.remove("", "message-3-5000.mp4"));
        assert!(!storage.remove("", "../message-3-5000.mp4"));
        assert!(names(&storage).is_empty());
    }

    fn files(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(n, b)| (n.to_string(), *b)).collect()
    }

    #[test]
    fn rotation_removes_the_oldest_first_by_count_and_by_size() {
        let limits = |max_files, max_bytes| Limits {
            max_files,
            max_bytes,
        };
        let old_first = files(&[("a", 10), ("b", 500), ("c", 10), ("d", 10)]);
        // Within both: nothing.
        assert!(to_remove(&old_first, limits(4, 530)).is_empty());
        assert!(to_remove(&[], limits(0, 0)).is_empty());
        // One file too many: the oldest, however small.
        assert_eq!(to_remove(&old_first, limits(3, 1000)), ["a"]);
        // Too many bytes: the oldest until they fit, not the biggest.
        assert_eq!(to_remove(&old_first, limits(10, 500)), ["a", "b"]);
        // Both: whichever asks for more.
        assert_eq!(to_remove(&old_first, limits(1, 1000)), ["a", "b", "c"]);
        // A newest file bigger than the bound goes too: the bound holds.
        assert_eq!(to_remove(&old_first, limits(10, 5)), ["a", "b", "c", "d"]);
        assert_eq!(Limits::new(3, 2), limits(3, 2 << 20));
    }

    #[test]
    fn every_kind_is_rotated_oldest_first_and_other_files_are_left() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let storage = StoragePoint::new(dir.path(), Limits::new(3, 1));
        let folder = dir.path().join("snapshots");
        std::fs::create_dir_all(&folder).unwrap_or_else(|e| panic!("{e}"));
        for (name, size) in [
            ("message-1000-5000.mp4", 10),
            ("talk-2000-2500.jpg", 10),
            ("notes.txt", 2 << 20),
            ("unlock-3000-7.jpg", 10),
        ] {
            std::fs::write(folder.join(name), vec![0; size]).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(storage.save("", "unlock-4000-8.jpg", b"jpeg"), Ok(()));
        assert_eq!(storage.rotate(""), ["message-1000-5000.mp4"]);
        let usage = storage.usage("");
        assert_eq!(
            usage,
            StorageUsage {
                files: 3,
                bytes: 24,
                max_files: 3,
                max_bytes: 1 << 20,
            }
        );
        assert!(folder.join("notes.txt").exists(), "not ours: left alone");
    }

    #[test]
    fn a_missing_card_is_not_made() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let card = dir.path().join("sd");
        let setting = card.display().to_string();
        let storage = StoragePoint::new(dir.path(), Limits::default());
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
