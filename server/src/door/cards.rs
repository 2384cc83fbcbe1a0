//! Access cards as stored: each of one room (Room No. Management > Issue
//! Card, manual 5.2.3).

use app::{error::ApiError, model::card::Card};

use crate::store::{
    tables::{ACCESS_CODES, CARDS},
    Read, StoreError, Writer,
};

/// The cards of one room.
pub fn cards_of(r: &impl Read, room_no: &str) -> Result<Vec<Card>, StoreError> {
    Ok(r.all::<Card>(CARDS)?
        .into_iter()
        .map(|(_, c)| c)
        .filter(|c| c.room_no == room_no)
        .collect())
}

/// A deleted room takes its cards and access password with it (in the
/// deleting transaction).
pub fn forget_room(w: &Writer, room_no: &str) -> Result<(), StoreError> {
    for c in cards_of(w, room_no)? {
        w.remove(CARDS, c.number.as_str())?;
    }
    w.remove(ACCESS_CODES, room_no)?;
    Ok(())
}

pub fn no_room(room_no: &str) -> ApiError {
    ApiError::invalid("room-no", format!("No room {room_no}"))
}
