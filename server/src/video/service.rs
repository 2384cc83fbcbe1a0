//! Video as every front door sees it: Local Setting > Video & Audio (the
//! door camera), live viewers (WebRTC), IPC Setting (the other cameras).

use std::sync::Arc;

use app::{
    error::ApiError,
    model::{
        ipc::{Ipc, IpcEntry, IpcExport, IpcPage},
        live::{LiveAnswer, SourceStatus},
        mail::PasswordUpdate,
        video::{self, VideoPage, VideoSettings},
    },
    services::{Caller, Video},
};

use super::{
    ipc::{self, IpcChange},
    Media,
};
use crate::{
    error::Error,
    store::{
        secret::Secret,
        settings::{SettingsStore, IPCS, VIDEO},
        tables::{IpcRecord, VideoRecord},
        Read,
    },
    video::{door_ingest, ipc_ingest},
};

pub struct VideoService {
    pub settings: Arc<SettingsStore>,
    pub media: Arc<Media>,
}

impl VideoService {
    pub fn has_source(&self, name: &str) -> bool {
        self.media.source(name).is_some()
    }

    /// Ends a live viewer; false when there is none of that id.
    pub async fn end_viewer(&self, id: &str) -> bool {
        match self.media.live_if_started() {
            Some(live) => live.end(id).await,
            None => false,
        }
    }

    /// A JPEG of a camera's current picture; `None` for no such camera.
    pub async fn snapshot(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self.media.source(name) {
            Some(source) => source.snapshot().await.map(Some),
            None => Ok(None),
        }
    }

    /// The door camera and the IPCs as stored, fed (a source whose ingest
    /// is unchanged goes on as it is).
    pub async fn apply(&self, door: &VideoRecord, ipcs: &IpcRecord) {
        match door_ingest(
            &door.settings,
            door.camera_password.as_ref().map(Secret::as_str),
        ) {
            Ok(ingest) => self.media.set_door(ingest).await,
            Err(e) => {
                // A stored address that no longer parses must not leave the
                // device without a picture: the built-in camera stands in.
                tracing::error!(error = %e, "door camera settings: using the built-in camera");
                if let Ok(ingest) = door_ingest(&VideoSettings::default(), None) {
                    self.media.set_door(ingest).await;
                }
            }
        }
        self.apply_ipcs(ipcs).await;
    }

    fn video_page(&self, record: &VideoRecord) -> VideoPage {
        VideoPage {
            settings: record.settings.clone(),
            password_set: record.camera_password.is_some(),
            status: self.media.door.status(),
        }
    }

    async fn ipc_record(&self) -> Result<IpcRecord, ApiError> {
        self.settings.get(IPCS).await
    }

    fn ipc_page_of(&self, record: &IpcRecord) -> IpcPage {
        IpcPage {
            ipcs: record
                .ipcs
                .iter()
                .map(|s| IpcEntry {
                    id: s.id,
                    ipc: s.ipc.clone(),
                    password_set: s.password.is_some(),
                    status: self
                        .media
                        .source(&format!("ipc-{}", s.id))
                        .map(|src| src.status())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// Feeds the IPC sources from `record` (at start and after a change).
    pub async fn apply_ipcs(&self, record: &IpcRecord) {
        let mut list = Vec::with_capacity(record.ipcs.len());
        for s in &record.ipcs {
            match ipc_ingest(&s.ipc, s.password.as_ref().map(Secret::as_str)) {
                Ok(ingest) => list.push((s.id, ingest)),
                Err(e) => tracing::warn!(id = s.id, error = %e, "IPC not relayed"),
            }
        }
        self.media.set_ipcs(list).await;
    }

    async fn change_ipcs(&self, caller: &Caller, change: IpcChange) -> Result<IpcPage, ApiError> {
        let session = caller.session()?;
        let what = change.audit();
        self.settings
            .save(&session.user, caller.ip, "IPC Setting", move |w| {
                let mut record = w.settings(IPCS)?;
                ipc::apply(&mut record, change)?;
                w.put_settings(IPCS, &record)?;
                Ok(vec![what])
            })
            .await?;
        let record = self.ipc_record().await?;
        self.apply_ipcs(&record).await;
        Ok(self.ipc_page_of(&record))
    }
}

/// Said next to a kept camera password whose address changed.
const MOVED_CAMERA: &str =
    "The address points to another host or port: enter the Password again (or clear it)";

#[async_trait::async_trait]
impl Video for VideoService {
    async fn video_settings(&self, caller: &Caller) -> Result<VideoPage, ApiError> {
        caller.session()?;
        let record = self.settings.get(VIDEO).await?;
        Ok(self.video_page(&record))
    }

    async fn save_video_settings(
        &self,
        caller: &Caller,
        mut settings: VideoSettings,
        password: PasswordUpdate,
    ) -> Result<VideoPage, ApiError> {
        let session = caller.session()?;
        settings.camera.url = settings.camera.url.trim().to_string();
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        if let PasswordUpdate::Set(p) = &password {
            if p.chars().count() > video::MAX_CREDENTIAL {
                return Err(ApiError::invalid(
                    "camera-password",
                    "At most 64 characters",
                ));
            }
        }
        // Checked before anything is stored: what cannot be applied is not
        // saved (the password plays no part in that).
        door_ingest(&settings, None).map_err(|m| ApiError::invalid("camera-url", m))?;
        // The kept password is read in the same transaction that writes,
        // so a password set meanwhile by someone else is not undone.
        let saved = Arc::new(std::sync::Mutex::new(None::<VideoRecord>));
        let out = saved.clone();
        self.settings
            .save(&session.user, caller.ip, "Video & Audio", move |w| {
                let old: VideoRecord = w.settings(VIDEO)?;
                let same = settings.camera.same_destination(&old.settings.camera);
                let camera_password =
                    Secret::updated_for(password, old.camera_password.clone(), same)
                        .map_err(|_| ApiError::invalid("camera-password", MOVED_CAMERA))?;
                let record = VideoRecord {
                    settings,
                    camera_password,
                };
                w.put_settings(VIDEO, &record)?;
                let mut changed = record.settings.changed_fields(&old.settings);
                if record.camera_password != old.camera_password {
                    changed.push("Password");
                }
                *out.lock().unwrap_or_else(|p| p.into_inner()) = Some(record);
                Ok(changed)
            })
            .await?;
        let record = saved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| Error::internal("the saved video settings went missing"))?;
        let ingest = door_ingest(
            &record.settings,
            record.camera_password.as_ref().map(Secret::as_str),
        )
        .map_err(|m| ApiError::invalid("camera-url", m))?;
        self.media.set_door(ingest).await;
        Ok(self.video_page(&record))
    }

    async fn live_offer(
        &self,
        caller: &Caller,
        source: String,
        sdp: String,
    ) -> Result<LiveAnswer, ApiError> {
        caller.session()?;
        let camera = self
            .media
            .source(&source)
            .ok_or_else(|| ApiError::invalid("source", format!("No camera named {source}")))?;
        if sdp.len() > 64 * 1024 {
            return Err(ApiError::invalid("sdp", "The offer is too large"));
        }
        let live = self.media.live().map_err(Error::Internal)?;
        let (id, sdp) = live
            .offer(camera, sdp)
            .await
            .map_err(|e| ApiError::invalid("sdp", e))?;
        tracing::info!(ip = %caller.ip, source, viewers = live.count(), "live view started");
        Ok(LiveAnswer { id, sdp })
    }

    async fn live_end(&self, caller: &Caller, id: String) -> Result<(), ApiError> {
        caller.session()?;
        self.end_viewer(&id).await;
        Ok(())
    }

    async fn live_status(&self, caller: &Caller, source: String) -> Result<SourceStatus, ApiError> {
        caller.session()?;
        self.media
            .source(&source)
            .map(|s| s.status())
            .ok_or_else(|| ApiError::invalid("source", format!("No camera named {source}")))
    }

    async fn ipc_list(&self, caller: &Caller) -> Result<IpcPage, ApiError> {
        caller.session()?;
        Ok(self.ipc_page_of(&self.ipc_record().await?))
    }

    async fn save_ipc(
        &self,
        caller: &Caller,
        id: Option<u32>,
        ipc: Ipc,
        password: PasswordUpdate,
    ) -> Result<IpcPage, ApiError> {
        self.change_ipcs(caller, IpcChange::Save(id, ipc, password))
            .await
    }

    async fn delete_ipc(&self, caller: &Caller, id: u32) -> Result<IpcPage, ApiError> {
        self.change_ipcs(caller, IpcChange::Delete(id)).await
    }

    async fn export_ipcs(&self, caller: &Caller) -> Result<IpcExport, ApiError> {
        caller.session()?;
        let record = self.ipc_record().await?;
        Ok(IpcExport::new(
            record.ipcs.into_iter().map(|s| s.ipc).collect(),
        ))
    }

    async fn import_ipcs(&self, caller: &Caller, file: String) -> Result<IpcPage, ApiError> {
        caller.session()?;
        if file.len() > 256 * 1024 {
            return Err(ApiError::invalid("file", "The file is too large"));
        }
        let list = IpcExport::parse(&file).map_err(|m| ApiError::invalid("file", m))?;
        self.change_ipcs(caller, IpcChange::Import(list)).await
    }
}
