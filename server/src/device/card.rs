//! Room No. Management > Issue Card (manual 5.2.3) and a room's keypad
//! access password, as the UI drives them; the simulator's card reader and
//! keypad.

use app::{
    backend::Caller,
    error::ApiError,
    model::{
        access::DoorStatus,
        card::{
            normalize_number, validate_access_password, validate_name, Card, CardChange, RoomCards,
            MAX_PER_ROOM,
        },
    },
};

use super::DeviceImpl;
use crate::store::{
    tables::{AccessCodeRecord, RoomRecord, ACCESS_CODES, CARDS, SIP_ROOMS},
    Read, StoreError, Writer,
};

/// The cards of one room.
fn cards_of(r: &impl Read, room_no: &str) -> Result<Vec<Card>, StoreError> {
    Ok(r.all::<Card>(CARDS)?
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| c.room_no == room_no)
        .collect())
}

/// A deleted room takes its cards and access password with it (in the
/// deleting transaction).
pub(super) fn forget_room(w: &Writer, room_no: &str) -> Result<(), StoreError> {
    for c in cards_of(w, room_no)? {
        w.remove(CARDS, c.number.as_str())?;
    }
    w.remove(ACCESS_CODES, room_no)?;
    Ok(())
}

fn no_room(room_no: &str) -> ApiError {
    ApiError::invalid("room-no", format!("No room {room_no}"))
}

impl DeviceImpl {
    pub(super) async fn room_cards_page(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError> {
        caller.session()?;
        let key = room_no.clone();
        let (exists, cards, password_set) = self
            .auth
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

    pub(super) async fn issue_start(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError> {
        let page = self.room_cards_page(caller, room_no).await?;
        if page.cards.len() >= MAX_PER_ROOM {
            return Err(ApiError::invalid(
                "issue-card",
                format!("A room has at most {MAX_PER_ROOM} cards"),
            ));
        }
        self.access.start_issue(&page.room_no);
        self.room_cards_page(caller, page.room_no).await
    }

    pub(super) async fn issue_name(
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
        self.room_cards_page(caller, room_no).await
    }

    /// Confirm Send Card: the named cards captured, in one transaction.
    /// A number another room took meanwhile is left out.
    pub(super) async fn issue_confirm(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError> {
        let session = caller.session()?;
        let cards = self.access.end_issue(&room_no);
        let key = room_no.clone();
        self.auth
            .save_settings(&session.user, caller.ip, "Issue Card", move |w| {
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
        self.room_cards_page(caller, room_no).await
    }

    pub(super) async fn issue_cancel(
        &self,
        caller: &Caller,
        room_no: String,
    ) -> Result<RoomCards, ApiError> {
        caller.session()?;
        self.access.end_issue(&room_no);
        self.room_cards_page(caller, room_no).await
    }

    pub(super) async fn card_change(
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
        self.auth
            .save_settings(&session.user, caller.ip, "Issue Card", move |w| {
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
        self.room_cards_page(caller, room_no).await
    }

    /// Sets (or, with `None`, clears) a room's keypad access password.
    pub(super) async fn access_password(
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
        self.auth
            .save_settings(&session.user, caller.ip, "Access Password", move |w| {
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
        self.room_cards_page(caller, room_no).await
    }

    fn simulator_only(&self) -> Result<(), ApiError> {
        if self.lock.status().simulated {
            Ok(())
        } else {
            Err(crate::lock::LockError::NotSimulated.into())
        }
    }

    /// The simulator's card reader.
    pub(super) async fn sim_card(
        &self,
        caller: &Caller,
        number: String,
    ) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        self.simulator_only()?;
        let number = normalize_number(&number)
            .ok_or_else(|| ApiError::invalid("sim-card", "1 to 20 digits 0-9 or A-F"))?;
        let seen = self.lock.status().version;
        self.access.card(&number).await?;
        self.door_after(seen).await
    }

    /// The simulator's keypad: a room and its access password.
    pub(super) async fn sim_keypad(
        &self,
        caller: &Caller,
        room_no: String,
        password: String,
    ) -> Result<DoorStatus, ApiError> {
        caller.session()?;
        self.simulator_only()?;
        let seen = self.lock.status().version;
        self.access.keypad(room_no.trim(), password.trim()).await?;
        self.door_after(seen).await
    }
}
