//! Publish Information's MESSAGEs: from this VTO to registered devices,
//! each answered or not (the `sip` crate's `uac` client transactions; the
//! bytes leave through the outbox on the next tick).

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use app::model::publish::{Delivery, DeliveryResult};
use sip::{
    header::SipUri,
    message::Message,
    proxy::Peer,
    uac::{Outcome, Outgoing, Text},
};
use tokio::sync::oneshot;

use super::{contact_uri, lock, peer_of, SipService};

/// Longer than a transaction lives (64*T1 = 32 s): every wait ends with
/// its transaction's outcome.
const WAIT: Duration = Duration::from_secs(40);

#[derive(Default)]
pub(super) struct Messages {
    pub(super) outgoing: Option<Outgoing>,
    waiting: HashMap<u64, (Peer, oneshot::Sender<Outcome>)>,
    next_id: u64,
}

impl Messages {
    /// A response to one of our MESSAGEs: true if it was one.
    pub(super) fn on_response(&mut self, msg: &Message, from: SocketAddr, now: i64) -> bool {
        let Some(o) = self.outgoing.as_mut() else {
            return false;
        };
        let Some((id, outcome)) = o.on_response(msg, from, now) else {
            return false;
        };
        if let Some(outcome) = outcome {
            if let Some((_, tx)) = self.waiting.remove(&id) {
                let _ = tx.send(outcome);
            }
        }
        true
    }

    /// Repeats to send, and ends the waits of what was given up.
    pub(super) fn on_timer(&mut self, now: i64) -> Vec<super::Send> {
        let Some(o) = self.outgoing.as_mut() else {
            return Vec::new();
        };
        if o.deadline().is_none_or(|d| d > now) {
            return Vec::new();
        }
        let (repeats, ended) = o.on_timer(now);
        for (id, outcome) in ended {
            if let Some((_, tx)) = self.waiting.remove(&id) {
                let _ = tx.send(outcome);
            }
        }
        repeats
            .into_iter()
            .filter_map(|(id, _, b)| Some((self.waiting.get(&id)?.0.clone(), b)))
            .collect()
    }
}

/// A group of SIP users (a room's monitors, a station) and its number.
type Group = (String, Vec<String>);

impl SipService {
    /// The accounts `number` names (None: all of them).
    fn groups(&self, number: Option<&str>) -> Result<Vec<Group>, String> {
        let rooms = self.rooms.read().unwrap_or_else(|p| p.into_inner());
        let stations = self.stations.read().unwrap_or_else(|p| p.into_inner());
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
        let now = self.clock.now();
        let mut deliveries: Vec<(String, Option<oneshot::Receiver<Outcome>>)> = Vec::new();
        {
            let reg = lock(&self.registrar);
            let mut messages = lock(&self.messages);
            let mut outbox = lock(&self.outbox);
            for (group, users) in groups {
                let live: Vec<(String, SipUri, Peer)> = users
                    .iter()
                    .flat_map(|u| {
                        reg.bindings().contacts(u, now).into_iter().filter_map(|b| {
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
                    let sent = messages
                        .outgoing
                        .as_mut()
                        .ok_or("The SIP port is off (--sip off)")?
                        .message(id, &text, peer.tcp, now);
                    let Some(bytes) = sent else {
                        return Err("Too many messages on their way: try again in a minute".into());
                    };
                    let (tx, rx) = oneshot::channel();
                    messages.waiting.insert(id, (peer.clone(), tx));
                    outbox.push((peer, bytes));
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
