//! Who may open the door: access cards (Room No. Management > Issue Card,
//! manual 5.2.3) and the keypad's access passwords. A card or a password
//! that passes asks the [`LockService`] to open; one that does not is
//! recorded as refused with the reason.
//!
//! Issuing is in memory (one countdown at a time, as there is one reader):
//! cards swiped during the countdown are captured, named, and written in
//! one transaction by Confirm Send Card. A main card, once it opened the
//! door, issues the next unknown card swiped within
//! [`MAIN_CARD_SECS`](app::model::card::MAIN_CARD_SECS) to its room.

pub mod keypad;

use std::{net::IpAddr, sync::Arc};

use app::{
    error::ApiError,
    model::{
        access::{Refusal, UnlockMethod},
        card::{Card, Issuing, ISSUE_SECS, MAIN_CARD_SECS},
        time::UnixMillis,
    },
};

use crate::{
    account::password::Hasher,
    clock::Clock,
    door::lock::{Attempt, LockService},
    store::{
        settings::SettingsStore,
        tables::{AccessCodeRecord, ACCESS_CODES, CARDS},
        Read,
    },
};
use keypad::KeypadGuard;

/// What a card swipe did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardOutcome {
    Opened,
    Refused(Refusal),
    /// Taken by the Issue Card countdown.
    Captured,
    /// Issued to a room after its main card.
    IssuedByMainCard(String),
}

struct Issue {
    room_no: String,
    until: UnixMillis,
    captured: Vec<Card>,
    refused: Vec<String>,
}

#[derive(Default)]
struct State {
    issue: Option<Issue>,
    /// A main card's room, until when its next unknown card is issued.
    armed: Option<(String, UnixMillis)>,
    keypad: KeypadGuard,
}

pub struct AccessService {
    settings: Arc<SettingsStore>,
    lock: Arc<LockService>,
    /// Countdowns and the keypad's block: the host's clock.
    clock: Arc<dyn Clock>,
    hasher: Hasher,
    state: std::sync::Mutex<State>,
}

impl AccessService {
    pub fn new(
        settings: Arc<SettingsStore>,
        lock: Arc<LockService>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            settings,
            lock,
            clock,
            hasher: Hasher::new(),
            state: std::sync::Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A card presented at the reader.
    pub async fn card(&self, number: &str) -> Result<CardOutcome, ApiError> {
        let now = self.clock.now();
        let stored: Option<Card> = {
            let key = number.to_string();
            self.settings
                .read(move |r| Ok(r.get(CARDS, key.as_str())?))
                .await?
        };
        // The Issue Card countdown takes every card.
        {
            let mut state = self.state();
            if let Some(issue) = state.issue.as_mut().filter(|i| now < i.until) {
                match &stored {
                    Some(c) if c.room_no != issue.room_no => {
                        if !issue.refused.iter().any(|n| n == number) {
                            issue.refused.push(number.to_string());
                        }
                    }
                    Some(_) => {}
                    None => {
                        if !issue.captured.iter().any(|c| c.number == number) {
                            issue.captured.push(Card {
                                number: number.to_string(),
                                room_no: issue.room_no.clone(),
                                ..Card::default()
                            });
                        }
                    }
                }
                return Ok(CardOutcome::Captured);
            }
        }
        let card = match stored {
            Some(c) => c,
            None => {
                let armed = self.state().armed.take().filter(|(_, until)| now < *until);
                if let Some((room_no, _)) = armed {
                    self.issue_at_door(number, &room_no).await?;
                    return Ok(CardOutcome::IssuedByMainCard(room_no));
                }
                let attempt = card_attempt(format!("card {number}"));
                self.lock.refused(attempt, Refusal::UnknownCard).await;
                return Ok(CardOutcome::Refused(Refusal::UnknownCard));
            }
        };
        let attempt = card_attempt(card_who(&card));
        if card.lost {
            self.lock.refused(attempt, Refusal::LostCard).await;
            return Ok(CardOutcome::Refused(Refusal::LostCard));
        }
        match self.lock.unlock(attempt).await {
            Ok(()) => {
                if card.main {
                    self.state().armed =
                        Some((card.room_no.clone(), now + i64::from(MAIN_CARD_SECS) * 1000));
                }
                Ok(CardOutcome::Opened)
            }
            Err(r) => Ok(CardOutcome::Refused(r)),
        }
    }

    async fn issue_at_door(&self, number: &str, room_no: &str) -> Result<(), ApiError> {
        let card = Card {
            number: number.to_string(),
            room_no: room_no.to_string(),
            name: "Issued at the door".into(),
            main: false,
            lost: false,
        };
        let me = IpAddr::from([127, 0, 0, 1]);
        self.settings
            .save("main card", me, "Issue Card", move |w| {
                // Taken meanwhile: nothing changes.
                if w.get::<&str, Card>(CARDS, card.number.as_str())?.is_some() {
                    return Ok(vec![]);
                }
                w.put(CARDS, card.number.as_str(), &card)?;
                Ok(vec!["a card issued at the door with the main card"])
            })
            .await?;
        Ok(())
    }

    /// An access password typed at the keypad for a room.
    /// `None`: the door opened; else why not.
    pub async fn keypad(&self, room_no: &str, password: &str) -> Result<Option<Refusal>, ApiError> {
        let now = self.clock.now();
        let attempt = Attempt {
            method: UnlockMethod::Password,
            who: room_no.to_string(),
            source: String::new(),
        };
        if !self.state().keypad.begin(now) {
            let refusal = if self.state().keypad.locked(now) {
                Refusal::KeypadLocked
            } else {
                // As many checks in flight as may still fail: wait for them.
                Refusal::KeypadBusy
            };
            self.lock.refused(attempt, refusal).await;
            return Ok(Some(refusal));
        }
        // Reserved: settled below, or abandoned if this is dropped first.
        let check = KeypadCheck {
            state: &self.state,
            settled: false,
        };
        let key = room_no.to_string();
        let stored: Option<AccessCodeRecord> = self
            .settings
            .read(move |r| Ok(r.get(ACCESS_CODES, key.as_str())?))
            .await?;
        let ok = self
            .hasher
            .verify(password.to_string(), stored.map(|s| s.hash))
            .await?;
        if !ok {
            if check.settle(|k| k.fail(self.clock.now())) {
                tracing::warn!("keypad blocked after 5 wrong access passwords");
            }
            self.lock.refused(attempt, Refusal::WrongPassword).await;
            return Ok(Some(Refusal::WrongPassword));
        }
        check.settle(KeypadGuard::succeed);
        Ok(self.lock.unlock(attempt).await.err())
    }

    /// The keypad's access password for a room, as argon2id.
    pub async fn hash_password(&self, password: String) -> Result<String, ApiError> {
        self.hasher.hash(password).await
    }

    /// Starts (or restarts) the Issue Card countdown for a room.
    pub fn start_issue(&self, room_no: &str) -> Issuing {
        let until = self.clock.now() + i64::from(ISSUE_SECS) * 1000;
        let mut state = self.state();
        state.issue = Some(Issue {
            room_no: room_no.to_string(),
            until,
            captured: Vec::new(),
            refused: Vec::new(),
        });
        issuing(state.issue.as_ref(), self.clock.now()).unwrap_or_default()
    }

    /// The countdown of this room, if it runs or has cards waiting.
    pub fn issuing(&self, room_no: &str) -> Option<Issuing> {
        let state = self.state();
        issuing(
            state.issue.as_ref().filter(|i| i.room_no == room_no),
            self.clock.now(),
        )
    }

    /// Names a captured card (the Issue Card dialog's Save).
    pub fn name_captured(&self, room_no: &str, number: &str, name: String) -> bool {
        let mut state = self.state();
        let Some(issue) = state.issue.as_mut().filter(|i| i.room_no == room_no) else {
            return false;
        };
        match issue.captured.iter_mut().find(|c| c.number == number) {
            Some(c) => {
                c.name = name;
                true
            }
            None => false,
        }
    }

    /// Ends the countdown; the named cards captured (Confirm Send Card
    /// writes them).
    pub fn end_issue(&self, room_no: &str) -> Vec<Card> {
        let mut state = self.state();
        if state.issue.as_ref().is_some_and(|i| i.room_no == room_no) {
            if let Some(issue) = state.issue.take() {
                return issue
                    .captured
                    .into_iter()
                    .filter(|c| !c.name.is_empty())
                    .collect();
            }
        }
        Vec::new()
    }
}

fn issuing(issue: Option<&Issue>, now: UnixMillis) -> Option<Issuing> {
    issue.map(|i| Issuing {
        room_no: i.room_no.clone(),
        secs_left: u32::try_from(((i.until - now).max(0) + 999) / 1000).unwrap_or(0),
        captured: i.captured.clone(),
        refused: i.refused.clone(),
    })
}

fn card_attempt(who: String) -> Attempt {
    Attempt {
        method: UnlockMethod::Card,
        who,
        source: String::new(),
    }
}

/// `9901 Anna (card 00AB12)`.
pub fn card_who(c: &Card) -> String {
    format!("{} {} (card {})", c.room_no, c.name, c.number)
}

#[cfg(test)]
mod tests;

/// A keypad check reserved: settled once, or abandoned when dropped (the
/// simulator's request went away mid-check).
struct KeypadCheck<'a> {
    state: &'a std::sync::Mutex<State>,
    settled: bool,
}

impl KeypadCheck<'_> {
    fn settle<T>(mut self, f: impl FnOnce(&mut KeypadGuard) -> T) -> T {
        self.settled = true;
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()).keypad)
    }
}

impl Drop for KeypadCheck<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .keypad
                .abandon();
        }
    }
}
