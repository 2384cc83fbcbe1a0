//! Publish Information's MESSAGEs: from this VTO to registered devices,
//! each answered or not (the dispatcher's `uac` client transactions; the
//! bytes leave through the outbox on the next tick, the outcomes come back
//! as its events).

use std::{collections::HashMap, time::Duration};

use app::model::publish::{Delivery, DeliveryResult};
use sip::{
    dispatch::{contact_uri, peer_of, Transport},
    header::SipUri,
    proxy::Peer,
    uac::{Outcome, Text},
};
use tokio::sync::oneshot;

use super::{lock, SipService};

/// Longer than a transaction lives (64*T1 = 32 s): every wait ends with
/// its transaction's outcome.
const WAIT: Duration = Duration::from_secs(40);

/// The MESSAGEs waiting for their outcome, by id.
#[derive(Default)]
pub(super) struct Waiting {
    waiting: HashMap<u64, oneshot::Sender<Outcome>>,
    next_id: u64,
}

impl Waiting {
    /// The dispatcher's outcome of MESSAGE `id`.
    pub(super) fn ended(&mut self, id: u64, outcome: Outcome) {
        if let Some(tx) = self.waiting.remove(&id) {
            let _ = tx.send(outcome);
        }
    }
}

/// A group of SIP users (a room's monitors, a station) and its number.
type Group = (String, Vec<String>);

impl SipService {
    /// The accounts `number` names (None: all of them).
    fn groups(&self, number: Option<&str>) -> Result<Vec<Group>, String> {
        let core = lock(&self.core);
        let (rooms, stations) = (&core.directory().rooms, &core.directory().stations);
        let Some(number) = number else {
            let mut all: Vec<Group> = rooms
                .iter()
                .map(|(room, users)| (room.clone(), users.clone()))
                .chain(stations.keys().map(|n| (n.clone(), vec![n.clone()])))
                .collect();
            all.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
            return Ok(all);
        };
        if let Some(users) = rooms.get(number) {
            return Ok(vec![(number.to_string(), users.clone())]);
        }
        if stations.contains_key(number) || rooms.values().flatten().any(|u| u == number) {
            return Ok(vec![(number.to_string(), vec![number.to_string()])]);
        }
        Err(format!("No room, monitor, VTO or VTS numbered {number}"))
    }

    /// Sends `subject` and `body` from `from` to every registered device of
    /// `number` (None: all devices) and waits for each answer.
    pub async fn publish(
        &self,
        from: &str,
        number: Option<&str>,
        subject: &str,
        body: &str,
    ) -> Result<Vec<Delivery>, String> {
        let groups = self.groups(number)?;
        let now = self.now().mono;
        let mut deliveries: Vec<(String, Option<oneshot::Receiver<Outcome>>)> = Vec::new();
        {
            let mut core = lock(&self.core);
            let mut messages = lock(&self.messages);
            let mut outbox = lock(&self.outbox);
            for (group, users) in groups {
                let live: Vec<(String, SipUri, Peer)> = users
                    .iter()
                    .flat_map(|u| {
                        core.bindings()
                            .contacts(u, now)
                            .into_iter()
                            .filter_map(|b| {
                                Some((u.clone(), contact_uri(&b.contact)?, peer_of(b)?))
                            })
                    })
                    .collect();
                if live.is_empty() {
                    deliveries.push((group, None));
                    continue;
                }
                for (user, uri, peer) in live {
                    let id = messages.next_id;
                    messages.next_id += 1;
                    let text = Text {
                        from,
                        target: &uri,
                        to: &user,
                        addr: peer.addr,
                        subject,
                        body,
                    };
                    let transport = if peer.tcp {
                        Transport::Tcp
                    } else {
                        Transport::Udp
                    };
                    let send = core.message(id, &text, transport, now)?;
                    let (tx, rx) = oneshot::channel();
                    messages.waiting.insert(id, tx);
                    outbox.push(send);
                    deliveries.push((user, Some(rx)));
                }
            }
        }
        let mut out = Vec::with_capacity(deliveries.len());
        for (device, rx) in deliveries {
            let result = match rx {
                None => DeliveryResult::Offline,
                Some(rx) => match tokio::time::timeout(WAIT, rx).await {
                    Ok(Ok(Outcome::Answered(code, _))) if (200..300).contains(&code) => {
                        DeliveryResult::Delivered
                    }
                    Ok(Ok(Outcome::Answered(code, reason))) => {
                        DeliveryResult::Refused(code, reason)
                    }
                    _ => DeliveryResult::NoAnswer,
                },
            };
            out.push(Delivery { device, result });
        }
        Ok(out)
    }
}
