//! The door: the lock and its controller ([`lock`]), who may open it
//! (cards and the keypad's access passwords, [`access`]), what follows a
//! stored record ([`events`]: snapshots, alarms to the centre), and
//! [`DoorService`], the door as every front door sees it: Local Setting >
//! Access Control > Local, the door panel, Issue Card, the simulator.

pub mod access;
pub mod audio;
mod cards;
mod events;
pub mod lock;

use std::{sync::Arc, time::Duration};

use app::{
    error::ApiError,
    model::{
        access::{AccessSettings, DoorStatus, SimAction, UnlockMethod, UnlockRecord, UnlockVia},
        card::{
            normalize_number, validate_access_password, validate_name, Card, CardChange, RoomCards,
            MAX_PER_ROOM,
        },
    },
    services::{Caller, Door},
};

use crate::{
    store::{
        settings::{SettingsStore, ACCESS},
        tables::{AccessCodeRecord, RoomRecord, ACCESS_CODES, CARDS, SIP_ROOMS},
        Read,
    },
    system::time::TimeService,
    video::{storage_point::StoragePoint, Media},
};
use access::AccessService;
pub use cards::forget_room;
use cards::{cards_of, no_room};
use lock::{Attempt, LockError, LockService};

/// How long a browser's wait for a change lasts before it asks again.
const STATUS_WAIT: Duration = Duration::from_secs(20);

impl From<LockError> for ApiError {
    fn from(e: LockError) -> Self {
        match e {
            LockError::NotSimulated => ApiError::invalid("simulator", e.to_string()),
            LockError::Stopped => crate::error::Error::internal(e).into(),
        }
    }
}

pub struct DoorService {
    pub settings: Arc<SettingsStore>,
    pub time: Arc<TimeService>,
    pub lock: Arc<LockService>,
    pub access: Arc<AccessService>,
    /// The door camera, for Auto Snapshot (unlock).
    pub media: Arc<Media>,
    /// Alarms go to the management centre through it.
    pub sip: Arc<crate::household::sip_server::SipService>,
    pub storage: Arc<StoragePoint>,
}

impl DoorService {
    /// Access Control > Local and Records Kept as stored, in force.
    pub async fn apply(&self, access: AccessSettings, keep: u64) -> Result<(), LockError> {
        self.lock.set_keep(keep);
        self.lock.apply(access).await
    }

    fn shown(&self, status: DoorStatus) -> DoorStatus {
        DoorStatus {
            display: self.time.display(),
            ..status
        }
    }

    /// The door once what was just done shows (a short wait: the lock's
    /// task runs it next).
    async fn door_after(&self, seen: u64) -> DoorStatus {
        self.shown(self.lock.changed(seen, Duration::from_millis(500)).await)
    }

    fn simulator_only(&self) -> Result<(), ApiError> {
        if self.lock.status().simulated {
            Ok(())
        } else {
            Err(LockError::NotSimulated.into())
        }
    }

    /// A card from a real reader (USB or Wiegand): another front door.
    pub async fn card_read(&self, number: &str) {
        match normalize_number(number) {
            Some(n) => {
                if let Err(e) = self.access.card(&n).await {
                    tracing::error!(error = %e, "card not handled");
                }
            }
            None => tracing::warn!("card reader: not a card number"),
        }
    }
}

#[async_trait::async_trait]
impl Door for DoorService {
    async fn access_settings(&self, caller: &Caller) -> Result<AccessSettings, ApiError> {
        caller.session()?;
        self.settings.get(ACCESS).await
    }

    async fn save_access_settings(
        &self,
        caller: &Caller,
        settings: AccessSettings,
    ) -> Result<AccessSettings, ApiError> {
        let session = caller.session()?;
        if let Some((field, message)) = settings.validate().into_iter().next() {
            return Err(ApiError::invalid(field, message));
        }
        let saved = settings.clone();
        self.settings
            .save(&session.user, caller.ip, "Access Control", move |w| {
                let old = w.settings(ACCESS)?;
                w.put_settings(ACCESS, &settings)?;
                Ok(settings.changed_fields(&old))
            })
            .await?;
        self.lock.apply(saved.clone()).await?;
        Ok(saved)
    }

    async fn door_status(&self, caller: &Caller, seen: u64) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        Ok(self.shown(self.lock.changed(seen, STATUS_WAIT).await))
    }

    async fn unlock(&self, caller: &Caller, via: UnlockVia) -> Result<UnlockRecord, ApiError> {
        let session = caller.session()?;
        let attempt = Attempt {
            method: match via {
                UnlockVia::Ui => UnlockMethod::Remote,
                UnlockVia::Api => UnlockMethod::Api,
            },
            who: session.user.clone(),
            source: caller.ip.to_string(),
        };
        let refused = self.lock.unlock(attempt.clone()).await.err();
        Ok(UnlockRecord {
            time: self.time.now(),
            method: attempt.method,
            who: attempt.who,
            source: attempt.source,
            refused,
            snapshot: None,
        })
    }

    async fn simulate(&self, caller: &Caller, action: SimAction) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        let seen = self.lock.status().version;
        self.lock.simulate(action).await?;
        Ok(self.door_after(seen).await)
    }

    async fn room_cards(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError> {
        caller.session()?;
        let key = room_no.clone();
        let (exists, cards, password_set) = self
            .settings
            .read(move |r| {
                Ok((
                    r.get::<&str, RoomRecord>(SIP_ROOMS, key.as_str())?
                        .is_some(),
                    cards_of(r, &key)?,
                    r.get::<&str, AccessCodeRecord>(ACCESS_CODES, key.as_str())?
                        .is_some(),
                ))
            })
            .await?;
        if !exists {
            return Err(no_room(&room_no));
        }
        Ok(RoomCards {
            issuing: self.access.issuing(&room_no),
            room_no,
            cards,
            password_set,
        })
    }

    async fn issue_card(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError> {
        let page = self.room_cards(caller, room_no).await?;
        if page.cards.len() >= MAX_PER_ROOM {
            return Err(ApiError::invalid(
                "issue-card",
                format!("A room has at most {MAX_PER_ROOM} cards"),
            ));
        }
        self.access.start_issue(&page.room_no);
        self.room_cards(caller, page.room_no).await
    }

    async fn name_card(
        &self,
        caller: &Caller,
        room_no: String,
        number: String,
        name: String,
    ) -> Result<RoomCards, ApiError> {
        caller.session()?;
        let name = validate_name(&name).map_err(|m| ApiError::invalid("card-name", m))?;
        if !self.access.name_captured(&room_no, &number, name) {
            return Err(ApiError::invalid(
                "card-name",
                "That card is no longer waiting: Issue Card again",
            ));
        }
        self.room_cards(caller, room_no).await
    }

    /// The named cards captured, in one transaction. A number another room
    /// took meanwhile is left out.
    async fn confirm_send_card(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError> {
        let session = caller.session()?;
        let cards = self.access.end_issue(&room_no);
        let key = room_no.clone();
        self.settings
            .save(&session.user, caller.ip, "Issue Card", move |w| {
                if w.get::<&str, RoomRecord>(SIP_ROOMS, key.as_str())?
                    .is_none()
                {
                    return Err(no_room(&key));
                }
                let mut issued = false;
                for c in &cards {
                    if w.get::<&str, Card>(CARDS, c.number.as_str())?.is_none() {
                        w.put(CARDS, c.number.as_str(), c)?;
                        issued = true;
                    }
                }
                Ok(if issued {
                    vec!["Confirm Send Card"]
                } else {
                    vec![]
                })
            })
            .await?;
        self.room_cards(caller, room_no).await
    }

    async fn cancel_issue(&self, caller: &Caller, room_no: String) -> Result<RoomCards, ApiError> {
        caller.session()?;
        self.access.end_issue(&room_no);
        self.room_cards(caller, room_no).await
    }

    async fn change_card(
        &self,
        caller: &Caller,
        room_no: String,
        number: String,
        change: CardChange,
    ) -> Result<RoomCards, ApiError> {
        let session = caller.session()?;
        let change = match change {
            CardChange::Rename(n) => CardChange::Rename(
                validate_name(&n).map_err(|m| ApiError::invalid("card-name", m))?,
            ),
            other => other,
        };
        let key = room_no.clone();
        self.settings
            .save(&session.user, caller.ip, "Issue Card", move |w| {
                let mut card: Card = w
                    .get(CARDS, number.as_str())?
                    .filter(|c: &Card| c.room_no == key)
                    .ok_or_else(|| {
                        ApiError::invalid("card", format!("No card {number} in room {key}"))
                    })?;
                let what = match change {
                    CardChange::Delete => {
                        w.remove(CARDS, number.as_str())?;
                        return Ok(vec!["Delete card"]);
                    }
                    CardChange::SetMain(m) => {
                        card.main = m;
                        "Main card"
                    }
                    CardChange::SetLost(l) => {
                        card.lost = l;
                        "Lost card"
                    }
                    CardChange::Rename(n) => {
                        card.name = n;
                        "Card user name"
                    }
                };
                w.put(CARDS, number.as_str(), &card)?;
                Ok(vec![what])
            })
            .await?;
        self.room_cards(caller, room_no).await
    }

    async fn set_access_password(
        &self,
        caller: &Caller,
        room_no: String,
        password: Option<String>,
    ) -> Result<RoomCards, ApiError> {
        let session = caller.session()?;
        let hash = match password {
            Some(p) => {
                validate_access_password(&p)
                    .map_err(|m| ApiError::invalid("access-password", m))?;
                Some(self.access.hash_password(p).await?)
            }
            None => None,
        };
        let key = room_no.clone();
        self.settings
            .save(&session.user, caller.ip, "Access Password", move |w| {
                if w.get::<&str, RoomRecord>(SIP_ROOMS, key.as_str())?
                    .is_none()
                {
                    return Err(no_room(&key));
                }
                match hash {
                    Some(hash) => {
                        w.put(ACCESS_CODES, key.as_str(), &AccessCodeRecord { hash })?;
                        Ok(vec!["Set"])
                    }
                    None => Ok(if w.remove(ACCESS_CODES, key.as_str())? {
                        vec!["Clear"]
                    } else {
                        vec![]
                    }),
                }
            })
            .await?;
        self.room_cards(caller, room_no).await
    }

    async fn present_card(&self, caller: &Caller, number: String) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        self.simulator_only()?;
        let number = normalize_number(&number)
            .ok_or_else(|| ApiError::invalid("sim-card", "1 to 20 digits 0-9 or A-F"))?;
        let seen = self.lock.status().version;
        self.access.card(&number).await?;
        Ok(self.door_after(seen).await)
    }

    async fn enter_password(
        &self,
        caller: &Caller,
        room_no: String,
        password: String,
    ) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        self.simulator_only()?;
        let seen = self.lock.status().version;
        self.access.keypad(room_no.trim(), password.trim()).await?;
        Ok(self.door_after(seen).await)
    }
}
