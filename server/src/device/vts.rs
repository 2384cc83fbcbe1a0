//! Household Setting > VTS Management: the management centres are SIP
//! accounts like the rooms (their Register Password kept as digests only,
//! a generated one shown once), and each may register only from its IP
//! Address.

use app::{
    backend::Caller,
    error::ApiError,
    model::{
        room::check_register_password,
        vts::{Vts, VtsEntry, VtsPage, MAX_VTS},
    },
};

use super::{
    room::{digests_for, generate_password},
    DeviceImpl,
};
use crate::store::{
    tables::{VtsRecord, SIP_VTS},
    Read,
};

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::invalid(field, message.into())
}

fn normalized(v: Vts) -> Vts {
    Vts {
        vts_no: v.vts_no.trim().to_string(),
        ip: v.ip.trim().to_string(),
    }
}

const PAGE: &str = "VTS Management";

impl DeviceImpl {
    async fn vts_records(&self) -> Result<Vec<VtsRecord>, ApiError> {
        Ok(self
            .auth
            .read(|r| Ok(r.all::<VtsRecord>(SIP_VTS)?))
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    async fn vts_changed(&self) -> Result<VtsPage, ApiError> {
        let records = self.vts_records().await?;
        self.sip
            .set_vts(&records)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(VtsPage {
            list: records
                .into_iter()
                .map(|r| VtsEntry {
                    online: self.sip.online(std::slice::from_ref(&r.vts.vts_no)) > 0,
                    vts: r.vts,
                })
                .collect(),
            ..VtsPage::default()
        })
    }

    pub(super) async fn vts_page(&self, caller: &Caller) -> Result<VtsPage, ApiError> {
        caller.session()?;
        self.vts_changed().await
    }

    pub(super) async fn add_vts_with(
        &self,
        caller: &Caller,
        vts: Vts,
        password: Option<String>,
    ) -> Result<VtsPage, ApiError> {
        let session = caller.session()?;
        let vts = normalized(vts);
        if let Some((field, message)) = vts.validate().into_iter().next() {
            return Err(invalid(field, message));
        }
        let typed = password.filter(|p| !p.is_empty());
        let (password, warnings, generated) = match typed {
            Some(p) => {
                let w = check_register_password(&p).map_err(|m| invalid("vts-password", m))?;
                (p, w, false)
            }
            None => (generate_password()?, Vec::new(), true),
        };
        let record = VtsRecord {
            digests: digests_for(vec![vts.vts_no.clone()], &password),
            vts: vts.clone(),
        };
        self.auth
            .save_settings(&session.user, caller.ip, PAGE, move |w| {
                let all: Vec<(String, VtsRecord)> = w.all(SIP_VTS)?;
                if all.iter().any(|(no, _)| *no == record.vts.vts_no) {
                    return Err(invalid(
                        "vts-no",
                        format!("VTS {} exists already", record.vts.vts_no),
                    ));
                }
                if all.len() >= MAX_VTS {
                    return Err(invalid(
                        "vts-no",
                        format!("All {MAX_VTS} VTS are in use: delete one first"),
                    ));
                }
                w.put(SIP_VTS, record.vts.vts_no.as_str(), &record)?;
                Ok(vec!["Add"])
            })
            .await?;
        let mut page = self.vts_changed().await?;
        page.warnings = warnings;
        if generated {
            page.new_passwords = vec![(vts.vts_no, password)];
        }
        Ok(page)
    }

    /// Modify: the IP Address.
    pub(super) async fn save_vts_with(
        &self,
        caller: &Caller,
        vts: Vts,
    ) -> Result<VtsPage, ApiError> {
        let session = caller.session()?;
        let vts = normalized(vts);
        if let Some((field, message)) = vts.validate().into_iter().next() {
            return Err(invalid(field, message));
        }
        self.auth
            .save_settings(&session.user, caller.ip, PAGE, move |w| {
                let mut record: VtsRecord = w
                    .get(SIP_VTS, vts.vts_no.as_str())?
                    .ok_or_else(|| invalid("vts-no", format!("No VTS {}", vts.vts_no)))?;
                if record.vts.ip == vts.ip {
                    return Ok(vec![]);
                }
                record.vts.ip = vts.ip;
                w.put(SIP_VTS, record.vts.vts_no.as_str(), &record)?;
                Ok(vec!["Modify"])
            })
            .await?;
        self.vts_changed().await
    }

    pub(super) async fn delete_vts_with(
        &self,
        caller: &Caller,
        vts_no: String,
    ) -> Result<VtsPage, ApiError> {
        let session = caller.session()?;
        self.auth
            .save_settings(&session.user, caller.ip, PAGE, move |w| {
                if !w.remove(SIP_VTS, vts_no.as_str())? {
                    return Err(invalid("vts-no", format!("No VTS {vts_no}")));
                }
                Ok(vec!["Delete"])
            })
            .await?;
        self.vts_changed().await
    }
}
