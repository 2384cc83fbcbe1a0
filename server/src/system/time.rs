//! The device's time: the System page's settings in force, the device's
//! clock, NTP sync and auto maintenance, as one small API for the rest of
//! the server.

use std::sync::Arc;

use app::{
    error::ApiError,
    model::{
        system_time::{NtpSync, SystemTimePage, TimeDisplay, TimeSettings},
        time::UnixMillis,
    },
};
use tokio::sync::watch;

use super::ntp;
use crate::clock::{Clock, DeviceClock};
use crate::store::{
    settings::{CLOCK, TIME},
    tables::ClockRecord,
    Read, Store,
};

pub struct TimeService {
    clock: Arc<DeviceClock>,
    store: Arc<Store>,
    settings: watch::Sender<TimeSettings>,
    /// The last NTP sync's result (watched: a save waits for the sync its
    /// new settings start).
    last_sync: watch::Sender<Option<NtpSync>>,
}

impl TimeService {
    /// The stored settings and clock offset, in force.
    pub fn load(store: Arc<Store>, host: Arc<dyn Clock>) -> Result<Self, ApiError> {
        let (settings, clock): (TimeSettings, ClockRecord) = store
            .read(|r| Ok::<_, crate::store::StoreError>((r.settings(TIME)?, r.settings(CLOCK)?)))?;
        Ok(Self {
            clock: Arc::new(DeviceClock::new(host, clock.offset_ms)),
            store,
            settings: watch::Sender::new(settings),
            last_sync: watch::Sender::new(None),
        })
    }

    pub fn clock(&self) -> Arc<DeviceClock> {
        self.clock.clone()
    }

    pub fn now(&self) -> UnixMillis {
        self.clock.now()
    }

    pub fn settings(&self) -> TimeSettings {
        self.settings.borrow().clone()
    }

    pub fn display(&self) -> TimeDisplay {
        self.settings.borrow().display
    }

    /// `utc` as the UI shows times.
    pub fn format(&self, utc: UnixMillis) -> String {
        self.display().format(utc)
    }

    /// Puts saved settings in force (NTP and maintenance follow at once).
    pub fn apply(&self, settings: TimeSettings) {
        self.settings.send_replace(settings);
    }

    /// [`Self::apply`], then waits for the sync that [`Self::run_ntp`]
    /// starts at once for them, so the page can show its result. One sync,
    /// not a second beside the loop's: two at once both stepped the clock
    /// and the later one reported a step of 0. Bounded by the query's own
    /// timeout.
    pub async fn apply_and_await_sync(&self, settings: TimeSettings) {
        let mut synced = self.last_sync.subscribe();
        self.apply(settings);
        let bound = ntp::TIMEOUT + std::time::Duration::from_secs(2);
        let _ = tokio::time::timeout(bound, synced.changed()).await;
    }

    pub fn page(&self) -> SystemTimePage {
        let settings = self.settings();
        let now = self.now();
        SystemTimePage {
            next_maintenance: settings.next_maintenance(now),
            settings,
            now,
            last_sync: self.last_sync.borrow().clone(),
        }
    }

    /// One NTP sync with the settings in force; stores the result.
    async fn sync_ntp(&self) -> NtpSync {
        let ntp = self.settings().ntp;
        let result = match ntp::query(ntp.server.trim(), ntp.port).await {
            Ok(host_offset) => {
                // The device's clock then reads the server's time.
                let old = self.clock.offset_ms();
                let stored = if (host_offset - old).abs() >= 500 {
                    self.store
                        .write(|w| {
                            w.put_settings(
                                CLOCK,
                                &ClockRecord {
                                    offset_ms: host_offset,
                                },
                            )
                        })
                        .map_err(|e| e.to_string())
                } else {
                    Ok(())
                };
                stored.map(|()| {
                    self.clock.set_offset_ms(host_offset);
                    host_offset - old
                })
            }
            Err(e) => Err(e),
        };
        match &result {
            Ok(step) => tracing::info!(server = %ntp.server, step_ms = step, "NTP sync"),
            Err(e) => tracing::warn!(server = %ntp.server, error = %e, "NTP sync failed"),
        }
        let sync = NtpSync {
            time: self.now(),
            result,
        };
        self.last_sync.send_replace(Some(sync.clone()));
        sync
    }

    /// Keeps the device's clock in sync while NTP is enabled: at once when
    /// the settings change, then every Update Cycle.
    pub async fn run_ntp(self: Arc<Self>) {
        let mut changes = self.settings.subscribe();
        loop {
            let ntp = changes.borrow_and_update().ntp.clone();
            if ntp.enabled {
                self.sync_ntp().await;
                let cycle = std::time::Duration::from_secs(u64::from(ntp.update_cycle.max(1)) * 60);
                tokio::select! {
                    _ = tokio::time::sleep(cycle) => {}
                    changed = changes.changed() => if changed.is_err() { return },
                }
            } else if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Calls `restart` when an auto maintenance time comes.
    pub async fn run_maintenance(self: Arc<Self>, restart: impl Fn() + Send) {
        let mut timer = super::maintenance::MaintenanceTimer::new(self.now());
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
        let mut last = crate::clock::monotonic();
        loop {
            every.tick().await;
            // Real time since the last poll, whatever the device clock did.
            let elapsed = i64::try_from(last.elapsed().as_millis()).unwrap_or(i64::MAX);
            last = crate::clock::monotonic();
            if timer.poll(self.now(), elapsed, &self.settings.borrow()) {
                restart();
                return;
            }
        }
    }
}
