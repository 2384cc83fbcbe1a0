//! Who is connected through the front doors that hold a connection open
//! (the CGI event stream, DHIP, RTSP later): the Online Users list, with
//! the power to end one. UI sessions are the store's sessions table.
//!
//! A front door calls [`Online::enter`] once the client has proved who it
//! is, keeps the [`Presence`] for as long as the connection lives (its drop
//! takes the entry off the list, whatever way the connection ends) and
//! stops serving when [`Presence::ended`] completes.

use std::{
    collections::BTreeMap,
    net::IpAddr,
    sync::{Arc, Mutex},
};

use app::model::{time::UnixMillis, users::Role};
use tokio::sync::watch;

/// A front door that keeps a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontDoor {
    /// `eventManager.cgi?action=attach`.
    EventStream,
    /// DHIP on TCP 5000.
    Dhip,
    /// The RTSP server.
    Rtsp,
}

impl FrontDoor {
    pub fn label(self) -> &'static str {
        match self {
            Self::EventStream => "HTTP API event stream",
            Self::Dhip => "DHIP",
            Self::Rtsp => "RTSP",
        }
    }
}

/// One connected client as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connected {
    pub id: u64,
    pub user: String,
    pub role: Role,
    pub ip: IpAddr,
    pub door: FrontDoor,
    pub since: UnixMillis,
}

struct Entry {
    who: Connected,
    end: watch::Sender<bool>,
}

#[derive(Default)]
pub struct Online {
    entries: Mutex<BTreeMap<u64, Entry>>,
    next: Mutex<u64>,
}

/// An entry on the list while it lives.
pub struct Presence {
    online: Arc<Online>,
    id: u64,
    ended: watch::Receiver<bool>,
}

impl Presence {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Completes when the connection was ended from the list (or its
    /// account deleted); never otherwise.
    pub async fn ended(&mut self) {
        if self.ended.wait_for(|e| *e).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        self.online.lock().remove(&self.id);
    }
}

impl Online {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn enter(
        self: &Arc<Self>,
        user: &str,
        role: Role,
        ip: IpAddr,
        door: FrontDoor,
        now: UnixMillis,
    ) -> Presence {
        let id = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            *next += 1;
            *next
        };
        let (end, ended) = watch::channel(false);
        let who = Connected {
            id,
            user: user.to_string(),
            role,
            ip,
            door,
            since: now,
        };
        self.lock().insert(id, Entry { who, end });
        Presence {
            online: self.clone(),
            id,
            ended,
        }
    }

    /// Everyone connected, oldest first.
    pub fn list(&self) -> Vec<Connected> {
        self.lock().values().map(|e| e.who.clone()).collect()
    }

    /// Ends connection `id`: its front door closes it. False if unknown.
    pub fn end(&self, id: u64) -> bool {
        match self.lock().remove(&id) {
            Some(e) => {
                e.end.send_replace(true);
                true
            }
            None => false,
        }
    }

    /// Ends every connection of `user` (deleted, password or role changed).
    pub fn end_user(&self, user: &str) -> usize {
        let mut entries = self.lock();
        let ids: Vec<u64> = entries
            .iter()
            .filter(|(_, e)| e.who.user == user)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some(e) = entries.remove(id) {
                e.end.send_replace(true);
            }
        }
        ids.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn entries_live_as_long_as_their_presence_and_can_be_ended() {
        let online = Arc::new(Online::default());
        let a = online.enter("admin", Role::Admin, IP, FrontDoor::Dhip, UnixMillis(1));
        let mut b = online.enter(
            "op",
            Role::Operator,
            IP,
            FrontDoor::EventStream,
            UnixMillis(2),
        );
        let users: Vec<String> = online.list().into_iter().map(|c| c.user).collect();
        assert_eq!(users, ["admin", "op"]);
        drop(a);
        assert_eq!(online.list().len(), 1);
        assert!(online.end(b.id()));
        assert!(!online.end(b.id()), "already ended");
        tokio::time::timeout(std::time::Duration::from_secs(5), b.ended())
            .await
            .unwrap_or_else(|_| panic!("not ended"));
        assert!(online.list().is_empty());
        let _c = online.enter("op", Role::Operator, IP, FrontDoor::Dhip, UnixMillis(3));
        let _d = online.enter("op", Role::Operator, IP, FrontDoor::Rtsp, UnixMillis(4));
        assert_eq!(online.end_user("op"), 2);
        assert!(online.list().is_empty());
    }
}
