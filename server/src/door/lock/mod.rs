//! The door lock: one task owns the [`controller::Controller`] and the
//! [`driver::LockDriver`]; everything that opens the door (the UI, the
//! API, the exit button, cards and the keypad ([`super::access`]), SIP) asks it through
//! [`LockService::unlock`]. Every attempt goes to Log Management > Unlock,
//! every alarm to the alarm log, and each change to the [`DoorStatus`] the
//! browser waits on.
//!
//! Fail-safe: the relay is driven to "locked" before anything else at
//! start, and again when the service stops.

pub mod controller;
pub mod driver;
pub mod gpio;
pub mod reader;
pub mod wiegand;

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use app::model::{
    access::{
        AccessSettings, AlarmRecord, ContactType, DoorStatus, Refusal, SimAction,
        UnlockLogSettings, UnlockMethod, UnlockRecord, MAX_ALARMS, MAX_RECORDS, MIN_RECORDS,
    },
    security_log::{SecurityEvent, SecurityEventKind},
    time::UnixMillis,
};
use tokio::{
    sync::{broadcast, mpsc, mpsc::error::TrySendError, oneshot, watch},
    time::Instant,
};

use crate::{
    clock::Clock,
    metrics::{Metrics, METRICS},
    store::{
        settings::{ACCESS, UNLOCK_LOG as UNLOCK_LOG_SETTINGS},
        tables::{ALARM_LOG, UNLOCK_LOG},
        Read, Store, StoreError,
    },
};
use controller::{Controller, Event, Ms};
use driver::{Input, LockDriver, Simulator};

/// Who asks to open, for the record.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub method: UnlockMethod,
    /// The user, room or card.
    pub who: String,
    /// The address the request came from, if any.
    pub source: String,
}

enum Command {
    Unlock(Attempt, oneshot::Sender<Result<(), Refusal>>),
    Input(Input),
    Settings(AccessSettings),
    /// An attempt refused before it reached the lock (an unknown card).
    Refused(Attempt, Refusal, oneshot::Sender<()>),
    Stop(oneshot::Sender<()>),
    /// Answered at once: the service manager's watchdog sees the task live.
    Ping(oneshot::Sender<()>),
}

pub struct LockService {
    commands: mpsc::Sender<Command>,
    /// Each record once stored, for what follows an unlock or an alarm
    /// (snapshot, management centre).
    written: broadcast::Sender<Written>,
    /// Records Kept of the unlock log.
    keep: Arc<AtomicU64>,
    status: watch::Receiver<DoorStatus>,
    sim: Option<Simulator>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the lock is not simulated: this device drives real hardware")]
    NotSimulated,
    #[error("the lock controller has stopped")]
    Stopped,
}

impl LockService {
    /// Reads Access Control > Local, locks the door and starts the task.
    pub fn start(
        store: Arc<Store>,
        wall: Arc<dyn Clock>,
        mut driver: Box<dyn LockDriver>,
        inputs: Option<mpsc::Receiver<Input>>,
    ) -> Result<Arc<Self>, StoreError> {
        let settings: AccessSettings = store.read(|r| r.settings(ACCESS))?;
        let log: UnlockLogSettings = store.read(|r| r.settings(UNLOCK_LOG_SETTINGS))?;
        let keep = Arc::new(AtomicU64::new(log.keep));
        let sim = driver.simulator();
        // Locked first, whatever the door does.
        let locked = settings.contact == ContactType::Nc;
        let fault = driver.set_relay(locked).err().map(|e| e.0);
        let door_open = driver.door_open().unwrap_or_else(|e| {
            tracing::error!(error = %e, "door sensor unreadable; taken as closed");
            false
        });
        let controller = Controller::new(settings, 0, door_open);
        let (status_tx, status) = watch::channel(DoorStatus {
            version: 1,
            door_open,
            relay_energized: locked,
            fault: fault.clone(),
            simulated: sim.is_some(),
            ..DoorStatus::default()
        });
        let (commands, rx) = mpsc::channel(64);
        // What the hardware reports goes in line with the other commands.
        if let Some(mut inputs) = inputs {
            let commands = commands.clone();
            tokio::spawn(async move {
                while let Some(i) = inputs.recv().await {
                    if commands.send(Command::Input(i)).await.is_err() {
                        break;
                    }
                }
            });
        }
        let (records, records_rx) = Records::new(RECORD_QUEUE, &METRICS);
        let (written, _) = broadcast::channel(64);
        tokio::spawn(record(
            store,
            wall.clone(),
            records_rx,
            keep.clone(),
            written.clone(),
        ));
        tokio::spawn(
            Task {
                controller,
                driver,
                start: crate::clock::monotonic(),
                wall,
                status: status_tx,
                records,
                relay: locked,
                fault,
            }
            .run(rx),
        );
        Ok(Arc::new(Self {
            commands,
            written,
            keep,
            status,
            sim,
        }))
    }

    /// Opens the door if the controller allows it now. Answers once the
    /// relay has been driven.
    pub async fn unlock(&self, attempt: Attempt) -> Result<(), Refusal> {
        let (tx, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::Unlock(attempt, tx))
            .await
            .is_err()
        {
            return Err(Refusal::LockFault);
        }
        rx.await.unwrap_or(Err(Refusal::LockFault))
    }

    /// Records an attempt refused before it reached the lock, in order
    /// with the others; returns once the status shows it.
    pub async fn refused(&self, attempt: Attempt, refusal: Refusal) {
        let (tx, rx) = oneshot::channel();
        if self
            .send(Command::Refused(attempt, refusal, tx))
            .await
            .is_ok()
        {
            let _ = rx.await;
        }
    }

    /// Records Kept, once stored (the table already trimmed).
    pub fn set_keep(&self, keep: u64) {
        self.keep.store(keep, Ordering::SeqCst);
    }

    /// Records as they are stored, with their sequence numbers.
    pub fn written(&self) -> broadcast::Receiver<Written> {
        self.written.subscribe()
    }

    /// The status as it changes.
    pub fn watch_status(&self) -> watch::Receiver<DoorStatus> {
        self.status.clone()
    }

    pub fn status(&self) -> DoorStatus {
        self.status.borrow().clone()
    }

    /// The status's version alone (no copy of the rest): it only grows.
    pub fn version(&self) -> u64 {
        self.status.borrow().version
    }

    /// The status once its version differs from `seen`, or after `wait`.
    pub async fn changed(&self, seen: u64, wait: Duration) -> DoorStatus {
        let mut rx = self.status.clone();
        let _ = tokio::time::timeout(wait, rx.wait_for(|s| s.version != seen)).await;
        self.status()
    }

    /// New Access Control > Local parameters (already stored).
    pub async fn apply(&self, settings: AccessSettings) -> Result<(), LockError> {
        self.send(Command::Settings(settings)).await
    }

    /// Does what a person at the door would, on the simulator.
    pub async fn simulate(&self, action: SimAction) -> Result<(), LockError> {
        let sim = self.sim.as_ref().ok_or(LockError::NotSimulated)?;
        let input = match action {
            SimAction::ExitButton => Input::ExitButton,
            SimAction::OpenDoor | SimAction::CloseDoor => {
                let open = action == SimAction::OpenDoor;
                sim.set_door(open);
                Input::Door(open)
            }
        };
        self.send(Command::Input(input)).await
    }

    /// Locks the door and stops the task.
    pub async fn stop(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Stop(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether the controller's task answers (it does unless it hangs).
    pub async fn answers(&self) -> bool {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Ping(tx)).await.is_ok() && rx.await.is_ok()
    }

    async fn send(&self, command: Command) -> Result<(), LockError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| LockError::Stopped)
    }
}

enum Record {
    Unlock(UnlockRecord),
    Alarm(AlarmRecord),
}

/// Records waiting for the disk at most. The lock never waits for its
/// log: beyond this, records are dropped and counted, and the count is
/// written to the security log with the next record that gets through.
pub const RECORD_QUEUE: usize = 256;

/// The lock's end of the record queue: never blocks.
struct Records {
    tx: mpsc::Sender<Record>,
    dropped: Arc<AtomicU64>,
    /// Counted here, not by the writer: a record the disk never gets
    /// (dropped, or its write failed) was still an attempt.
    metrics: &'static Metrics,
}

/// The writer's end: the records, and how many were dropped.
struct RecordsRx {
    rx: mpsc::Receiver<Record>,
    dropped: Arc<AtomicU64>,
}

impl Records {
    fn new(capacity: usize, metrics: &'static Metrics) -> (Self, RecordsRx) {
        let (tx, rx) = mpsc::channel(capacity);
        let dropped = Arc::new(AtomicU64::new(0));
        (
            Self {
                tx,
                dropped: dropped.clone(),
                metrics,
            },
            RecordsRx { rx, dropped },
        )
    }

    /// Queues `r`, or counts it as dropped if the queue is full.
    fn push(&self, r: Record) {
        match &r {
            Record::Unlock(u) => self.metrics.unlock(u.method.key(), u.refused.is_none()),
            Record::Alarm(a) => self.metrics.alarm(a.kind.key()),
        }
        match self.tx.try_send(r) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                if self.dropped.fetch_add(1, Ordering::SeqCst) == 0 {
                    tracing::error!(
                        queue = RECORD_QUEUE,
                        "door records: the disk is behind; records dropped (counted)"
                    );
                }
            }
            Err(TrySendError::Closed(_)) => {
                tracing::error!("door records: the writer has stopped; record dropped");
            }
        }
    }
}

impl RecordsRx {
    /// Records dropped since the last call.
    fn take_dropped(&self) -> u64 {
        self.dropped.swap(0, Ordering::SeqCst)
    }
}

/// The security log's row for `n` records dropped.
fn dropped_event(time: UnixMillis, n: u64) -> SecurityEvent {
    SecurityEvent {
        time,
        kind: SecurityEventKind::RecordsDropped,
        user: String::new(),
        ip: String::new(),
        detail: Some(format!(
            "{n} unlock or alarm records dropped: more than {RECORD_QUEUE} waited for the disk"
        )),
        coalesced: 0,
    }
}

/// A record just stored, and its sequence number in its table.
#[derive(Clone, Debug)]
pub enum Written {
    Unlock(u64, UnlockRecord),
    Alarm(u64, AlarmRecord),
}

/// Writes records in order, off the lock's task: a slow disk never delays
/// the door. Records dropped (the queue was full) are one row of the
/// security log, written with the next record (counted again if that
/// write fails).
async fn record(
    store: Arc<Store>,
    wall: Arc<dyn Clock>,
    mut rx: RecordsRx,
    keep: Arc<AtomicU64>,
    tell: broadcast::Sender<Written>,
) {
    while let Some(r) = rx.rx.recv().await {
        let store = store.clone();
        let keep = keep.load(Ordering::SeqCst).clamp(MIN_RECORDS, MAX_RECORDS);
        let n = rx.take_dropped();
        let dropped = (n > 0).then(|| dropped_event(wall.now(), n));
        let written = tokio::task::spawn_blocking(move || {
            store
                .write(|w| {
                    if let Some(event) = &dropped {
                        w.log(event)?;
                    }
                    match &r {
                        Record::Unlock(u) => w.append(UNLOCK_LOG, u, keep),
                        Record::Alarm(a) => w.append(ALARM_LOG, a, MAX_ALARMS),
                    }
                })
                .map(|seq| match r {
                    Record::Unlock(u) => Written::Unlock(seq, u),
                    Record::Alarm(a) => Written::Alarm(seq, a),
                })
        })
        .await;
        let failed = match written {
            // Nobody listening is fine.
            Ok(Ok(w)) => {
                let _ = tell.send(w);
                None
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = failed {
            tracing::error!(error = %e, "unlock record not written");
            // The drop count was not written either: kept for the next.
            rx.dropped.fetch_add(n, Ordering::SeqCst);
        }
    }
}

struct Task {
    controller: Controller,
    driver: Box<dyn LockDriver>,
    start: Instant,
    wall: Arc<dyn Clock>,
    status: watch::Sender<DoorStatus>,
    records: Records,
    /// What the relay was last driven to, and the driver's last fault.
    relay: bool,
    fault: Option<String>,
}

impl Task {
    fn now(&self) -> Ms {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let stopped = loop {
            let wake = self
                .controller
                .deadline()
                .map(|d| self.start + Duration::from_millis(d));
            let command = tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => Some(c),
                    None => break None,
                },
                _ = tokio::time::sleep_until(wake.unwrap_or_else(crate::clock::monotonic)), if wake.is_some() => None,
            };
            let now = self.now();
            match command {
                None => {
                    let events = self.controller.poll(now);
                    self.settle(events, None);
                }
                Some(Command::Unlock(attempt, reply)) => {
                    let (events, refused) = self.open(now);
                    // The status first, so whoever was answered sees it.
                    self.settle(events, Some((attempt, refused)));
                    let _ = reply.send(refused.map_or(Ok(()), Err));
                }
                Some(Command::Input(Input::Door(open))) => {
                    let events = self.controller.sensor(now, open);
                    self.settle(events, None);
                }
                Some(Command::Input(Input::ExitButton)) => {
                    let attempt = Attempt {
                        method: UnlockMethod::Button,
                        who: "Exit button".into(),
                        source: String::new(),
                    };
                    let (events, refused) = self.open(now);
                    self.settle(events, Some((attempt, refused)));
                }
                Some(Command::Settings(s)) => {
                    let events = self.controller.set_settings(now, s);
                    self.settle(events, None);
                }
                Some(Command::Refused(attempt, refusal, ack)) => {
                    self.settle(Vec::new(), Some((attempt, Some(refusal))));
                    let _ = ack.send(());
                }
                Some(Command::Stop(ack)) => break Some(ack),
                Some(Command::Ping(ack)) => {
                    let _ = ack.send(());
                }
            }
        };
        // Fail-safe: locked when the controller goes.
        let locked = self.controller.settings().contact == ContactType::Nc;
        if let Err(e) = self.driver.set_relay(locked) {
            tracing::error!(error = %e, "lock output not returned to locked at stop");
        }
        if let Some(ack) = stopped {
            let _ = ack.send(());
        }
    }

    /// An attempt to open: the controller decides, the relay follows at
    /// once (before anything is recorded).
    fn open(&mut self, now: Ms) -> (Vec<Event>, Option<Refusal>) {
        match self.controller.unlock(now) {
            Ok(events) => (events, self.drive().err()),
            Err(r) => (Vec::new(), Some(r)),
        }
    }

    /// Drives the relay to what the controller wants.
    fn drive(&mut self) -> Result<(), Refusal> {
        let want = self.controller.relay_energized();
        let result = self.driver.set_relay(want);
        let fault = result.as_ref().err().map(|e| e.0.clone());
        if let Some(f) = &fault {
            tracing::error!(error = %f, "lock output");
        }
        if result.is_ok() {
            self.relay = want;
        }
        // Shown with the rest by `settle`: one version per step, never a
        // relay driven with the lock still shown closed.
        self.fault = fault;
        result.map_err(|_| Refusal::LockFault)
    }

    /// After the controller moved: relay, records, status.
    fn settle(&mut self, events: Vec<Event>, attempt: Option<(Attempt, Option<Refusal>)>) {
        if attempt.is_none() {
            let _ = self.drive();
        }
        let time: UnixMillis = self.wall.now();
        let mut alarms = Vec::new();
        for e in &events {
            if let Event::Alarm(kind) = e {
                tracing::warn!(alarm = kind.label(), "door alarm");
                let a = AlarmRecord {
                    time,
                    kind: *kind,
                    centre: None,
                };
                self.records.push(Record::Alarm(a.clone()));
                alarms.push(a);
            }
        }
        let last = attempt.map(|(a, refused)| {
            let r = UnlockRecord {
                time,
                method: a.method,
                who: a.who,
                source: a.source,
                refused,
                snapshot: None,
            };
            self.records.push(Record::Unlock(r.clone()));
            r
        });
        let (lock_open, door_open) = (self.controller.lock_open(), self.controller.door_open());
        let (relay, fault) = (self.relay, self.fault.clone());
        let reopened = events.contains(&Event::DoorOpened);
        self.status.send_if_modified(|s| {
            let mut changed = s.relay_energized != relay
                || s.fault != fault
                || s.lock_open != lock_open
                || s.door_open != door_open
                || !alarms.is_empty()
                || last.is_some();
            // The alarms shown are those of the latest opening.
            if reopened && !s.alarms.is_empty() {
                s.alarms.clear();
                changed = true;
            }
            s.alarms.extend(alarms);
            s.lock_open = lock_open;
            s.door_open = door_open;
            s.relay_energized = relay;
            s.fault = fault;
            if last.is_some() {
                s.last = last;
            }
            if changed {
                s.version += 1;
            }
            changed
        });
    }
}

#[cfg(test)]
mod tests;
