//! Household Setting > Publish Information: Send Info through the SIP
//! server, History Info from redb (bounded, oldest first out).

use app::{
    backend::Caller,
    error::ApiError,
    model::{
        publish::{Publication, PublishPage, PublishRecord, MAX_HISTORY, PAGE_SIZE},
        settings::BasicSettings,
    },
};

use super::DeviceImpl;
use crate::store::{
    tables::{PUBLISH_LOG, SETTINGS_BASIC},
    Read,
};

impl DeviceImpl {
    pub(super) async fn publish_with(
        &self,
        caller: &Caller,
        publication: Publication,
    ) -> Result<PublishRecord, ApiError> {
        caller.session()?;
        if let Some((field, message)) = publication.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        if self.sip.is_client() {
            return Err(ApiError::invalid(
                "publish-no",
                "This VTO is not the SIP server (Network Setting > SIP Server)".to_string(),
            ));
        }
        let basic: BasicSettings = self.auth.read(|r| Ok(r.settings(SETTINGS_BASIC)?)).await?;
        let number = publication.number.trim().to_string();
        let target = (!publication.all).then_some(number.as_str());
        let title = publication.title.trim().to_string();
        let content = publication.content.trim().to_string();
        let deliveries = self
            .sip
            .publish(&basic.vto_no, target, &title, &content)
            .await
            .map_err(|m| ApiError::invalid("publish-no", m))?;
        let record = PublishRecord {
            at: self.time.now(),
            title,
            target: if publication.all {
                "All device".into()
            } else {
                number
            },
            deliveries,
        };
        let stored = record.clone();
        self.auth
            .write(move |w| {
                w.append(PUBLISH_LOG, &stored, MAX_HISTORY)?;
                Ok(())
            })
            .await?;
        tracing::info!(
            target = %record.target,
            summary = %record.summary(),
            "publish information sent"
        );
        Ok(record)
    }

    pub(super) async fn publish_history_page(
        &self,
        caller: &Caller,
        offset: u64,
    ) -> Result<PublishPage, ApiError> {
        caller.session()?;
        let (records, total) = self
            .auth
            .read(move |r| Ok(r.newest_first(PUBLISH_LOG, offset, PAGE_SIZE)?))
            .await?;
        Ok(PublishPage {
            records,
            total,
            offset,
            display: self.time.display(),
        })
    }
}
