//! What follows a door record once it is stored, off the lock's path:
//! - an opening: Auto Snapshot (unlock) saves the door camera's picture to
//!   the Storage Point and links it from the record (or records why not);
//! - an alarm: a SIP MESSAGE to the management centre (Centre Call No.),
//!   its outcome kept with the alarm.
//!
//! The door never waits for any of it: a full card or an absent centre
//! changes nothing but the record.

use std::sync::Arc;

use app::model::{
    access::{AlarmRecord, UnlockRecord, UnlockSnapshot},
    publish::DeliveryResult,
    settings::BasicSettings,
};
use tokio::sync::broadcast::error::RecvError;

use super::{lock::Written, DoorService};
use crate::{
    store::{
        settings::BASIC,
        tables::{ALARM_LOG, UNLOCK_LOG},
    },
    video::storage_point,
};

impl DoorService {
    /// Runs until the lock service stops.
    pub async fn follow_door(self: Arc<Self>) {
        let mut written = self.lock.written();
        loop {
            match written.recv().await {
                Ok(Written::Unlock(seq, record)) if record.refused.is_none() => {
                    let me = self.clone();
                    tokio::spawn(async move { me.snapshot_unlock(seq, record).await });
                }
                Ok(Written::Alarm(seq, alarm)) => {
                    let me = self.clone();
                    tokio::spawn(async move { me.alarm_to_centre(seq, alarm).await });
                }
                Ok(Written::Unlock(..)) => {}
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "door records not followed (too many at once)");
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    async fn basic(&self) -> Option<BasicSettings> {
        match self.settings.get(BASIC).await {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::error!(error = %e, "Local Setting > Basic unreadable");
                None
            }
        }
    }

    async fn snapshot_unlock(&self, seq: u64, mut record: UnlockRecord) {
        let Some(basic) = self.basic().await else {
            return;
        };
        if !basic.auto_snapshot_unlock {
            return;
        }
        let name = storage_point::unlock_file(record.time, seq);
        record.snapshot = Some(match self.save_snapshot(basic.storage_point, name).await {
            Ok(name) => UnlockSnapshot::Saved(name),
            Err(why) => {
                tracing::warn!(error = %why, "unlock snapshot not saved");
                UnlockSnapshot::Failed(why)
            }
        });
        self.rewrite(UNLOCK_LOG, seq, record).await;
    }

    async fn save_snapshot(&self, storage_point: String, name: String) -> Result<String, String> {
        let door = self.media.source("door");
        self.storage
            .clone()
            .save_picture(door, storage_point, name)
            .await
    }

    /// A saved snapshot, from the Storage Point set now.
    pub async fn stored_snapshot(&self, name: String) -> Option<Vec<u8>> {
        let basic = self.basic().await?;
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || storage.open(&basic.storage_point, &name))
            .await
            .ok()
            .flatten()
    }

    async fn alarm_to_centre(&self, seq: u64, mut alarm: AlarmRecord) {
        let Some(basic) = self.basic().await else {
            return;
        };
        let outcome = if self.sip.is_client() {
            // Another server's centre is reached through it: not yet.
            "Not sent: this VTO is not the SIP server".to_string()
        } else {
            let body = format!(
                "{} at VTO {} (building {}, unit {})",
                alarm.kind.label(),
                basic.vto_no,
                basic.building_no,
                basic.unit_no
            );
            match self
                .sip
                .publish(&basic.vto_no, Some(&basic.centre_call_no), "Alarm", &body)
                .await
            {
                Ok(deliveries) => centre_outcome(&basic.centre_call_no, &deliveries),
                Err(why) => format!("Not sent: {why}"),
            }
        };
        tracing::info!(alarm = alarm.kind.label(), centre = %outcome, "alarm to the management centre");
        alarm.centre = Some(outcome);
        self.rewrite(ALARM_LOG, seq, alarm).await;
    }

    /// Stores what followed into the record, if it is still kept.
    async fn rewrite<T: serde::Serialize + Send + 'static>(
        &self,
        table: redb::TableDefinition<'static, u64, &'static [u8]>,
        seq: u64,
        record: T,
    ) {
        let stored = self
            .settings
            .write(move |w| Ok(w.update(table, seq, &record)?))
            .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, %table, "door record not updated");
        }
    }
}

/// "Delivered to 888888", else each device's answer.
fn centre_outcome(number: &str, deliveries: &[app::model::publish::Delivery]) -> String {
    if deliveries
        .iter()
        .any(|d| d.result == DeliveryResult::Delivered)
    {
        return format!("Delivered to {number}");
    }
    let each: Vec<String> = deliveries
        .iter()
        .map(|d| format!("{}: {}", d.device, d.result.text()))
        .collect();
    format!("Not delivered ({})", each.join(", "))
}
