//! Network Setting > Webhooks: follows the door (calls, answers, unlocks,
//! alarms) and POSTs each event to the webhooks that chose it, trying
//! again with back-off; keeps the newest deliveries for the page.
//!
//! [`delivery`] is the pure part (events, bodies, verdicts, back-off,
//! signature); [`poster`] the I/O seam.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use app::{
    error::ApiError,
    model::{
        intercom::CallStatus,
        mail::PasswordUpdate,
        webhook::{
            parse_url, Delivery, DeliveryResult, HookEvent, HookSave, Webhook, WebhooksPage,
            MAX_DELIVERIES, MAX_SECRET, MAX_WEBHOOKS,
        },
    },
    services::{self as api, Caller},
};
use tokio::sync::{
    broadcast::{self, error::RecvError},
    watch, Semaphore,
};

use crate::{
    door::lock::Written,
    store::{
        secret::Secret,
        settings::{SettingsStore, BASIC, WEBHOOKS},
        tables::{StoredHook, WebhookRecord},
        Read,
    },
    system::time::TimeService,
};

pub mod delivery;
pub mod poster;

use delivery::{Device, Fired, Verdict};
use poster::{Post, Poster};

/// Deliveries waiting for an attempt or a retry at most; beyond, new ones
/// are dropped (and shown as such) rather than piling up in memory.
const MAX_PENDING: usize = 64;

pub struct WebhookService {
    settings: Arc<SettingsStore>,
    time: Arc<TimeService>,
    poster: Arc<dyn Poster>,
    /// Newest first.
    log: Mutex<VecDeque<Delivery>>,
    next_id: AtomicU64,
    pending: Arc<Semaphore>,
}

impl WebhookService {
    pub fn new(
        settings: Arc<SettingsStore>,
        time: Arc<TimeService>,
        poster: Arc<dyn Poster>,
    ) -> Self {
        Self {
            settings,
            time,
            poster,
            log: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(1),
            pending: Arc::new(Semaphore::new(MAX_PENDING)),
        }
    }

    /// Follows the lock's records and the call until they stop.
    pub async fn follow(
        self: Arc<Self>,
        mut written: broadcast::Receiver<Written>,
        mut call: watch::Receiver<CallStatus>,
    ) {
        let mut phase = call.borrow_and_update().phase;
        loop {
            let fired = tokio::select! {
                w = written.recv() => match w {
                    Ok(Written::Unlock(_, r)) => Some(delivery::on_unlock(&r)),
                    Ok(Written::Alarm(_, a)) => Some(delivery::on_alarm(&a)),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "door records not sent to webhooks");
                        None
                    }
                    Err(RecvError::Closed) => break,
                },
                changed = call.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let now = call.borrow_and_update().clone();
                    let fired = delivery::on_call(phase, &now, self.time.now());
                    phase = now.phase;
                    fired
                }
            };
            if let Some(f) = fired {
                self.fire(&f).await;
            }
        }
    }

    /// Starts a delivery of `f` to every webhook that chose its event.
    async fn fire(self: &Arc<Self>, f: &Fired) {
        let Some(event) = f.event else { return };
        let read = self
            .settings
            .read(|r| Ok((r.settings(WEBHOOKS)?, r.settings(BASIC)?.vto_no)))
            .await;
        let (record, vto_no) = match read {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "webhooks not read");
                return;
            }
        };
        let hooks: Vec<StoredHook> = record
            .hooks
            .into_iter()
            .filter(|h| h.hook.sends(event))
            .collect();
        if hooks.is_empty() {
            return;
        }
        let body = self.body(f, vto_no);
        for h in hooks {
            self.start(h, f.key(), body.clone());
        }
    }

    fn body(&self, f: &Fired, vto_no: String) -> Vec<u8> {
        let device = Device {
            serial: self.settings.store().serial().unwrap_or_default(),
            vto_no,
        };
        let local = self.time.display().format(f.time);
        delivery::body(f, &local, &device)
    }

    /// Records a new delivery and returns its id.
    fn record(&self, hook: &Webhook, key: &str) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let d = Delivery {
            id,
            time: self.time.now(),
            hook: hook.id,
            url: hook.url.clone(),
            event: key.to_string(),
            attempts: 0,
            result: DeliveryResult::Sending,
        };
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.push_front(d);
        log.truncate(MAX_DELIVERIES);
        id
    }

    fn update(&self, id: u64, attempts: u32, result: DeliveryResult) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = log.iter_mut().find(|d| d.id == id) {
            d.attempts = attempts;
            d.result = result;
        }
    }

    fn delivery(&self, id: u64) -> Option<Delivery> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().find(|d| d.id == id).cloned()
    }

    /// A delivery in the background, with its retries.
    fn start(self: &Arc<Self>, h: StoredHook, key: &str, body: Vec<u8>) {
        let id = self.record(&h.hook, key);
        // The permit is held until the last attempt settles, also when the
        // task is dropped at shutdown.
        let Ok(permit) = self.pending.clone().try_acquire_owned() else {
            self.update(
                id,
                0,
                DeliveryResult::Failed(format!(
                    "{MAX_PENDING} deliveries already waiting: dropped"
                )),
            );
            tracing::warn!(
                hook = h.hook.id,
                "webhook delivery dropped: too many waiting"
            );
            return;
        };
        let me = self.clone();
        let key = key.to_string();
        tokio::spawn(async move {
            let _permit = permit;
            me.deliver(id, h, &key, body).await;
        });
    }

    async fn deliver(&self, id: u64, h: StoredHook, key: &str, body: Vec<u8>) {
        let post = post(&h, key, id, body);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let verdict = delivery::judge(self.poster.post(&post).await);
            let (error, retry) = match verdict {
                Verdict::Delivered(code) => {
                    self.update(id, attempts, DeliveryResult::Delivered(code));
                    return;
                }
                Verdict::Retry(e) => (e, delivery::retry_delay(attempts)),
                Verdict::GiveUp(e) => (e, None),
            };
            tracing::info!(hook = h.hook.id, attempts, error = %error, "webhook not delivered");
            let Some(wait) = retry else {
                self.update(id, attempts, DeliveryResult::Failed(error));
                return;
            };
            let next = app::model::time::UnixMillis(
                self.time.now().0 + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX),
            );
            self.update(id, attempts, DeliveryResult::Retrying { error, next });
            tokio::time::sleep(wait).await;
            // Not after the owner deleted it, turned it off or pointed it
            // elsewhere.
            if !self.still_sends(&h.hook).await {
                self.update(
                    id,
                    attempts,
                    DeliveryResult::Failed(
                        "The webhook was changed or deleted: not tried again".into(),
                    ),
                );
                return;
            }
        }
    }

    async fn still_sends(&self, hook: &Webhook) -> bool {
        let (id, url) = (hook.id, hook.url.clone());
        self.settings
            .read(move |r| {
                Ok(r.settings(WEBHOOKS)?
                    .hooks
                    .iter()
                    .any(|h| h.hook.id == id && h.hook.url == url && h.hook.enabled))
            })
            .await
            .unwrap_or(false)
    }

    fn page(&self, record: &WebhookRecord) -> WebhooksPage {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        WebhooksPage {
            hooks: record.hooks.iter().map(shown).collect(),
            deliveries: log.iter().cloned().collect(),
            display: self.time.display(),
        }
    }
}

fn post(h: &StoredHook, key: &str, id: u64, body: Vec<u8>) -> Post {
    let secret = h.secret.as_ref().map(Secret::as_str);
    Post {
        url: h.hook.url.clone(),
        headers: delivery::headers(key, id, secret, &body),
        body,
    }
}

/// A webhook as the page sees it: whether it has a secret, not the secret.
fn shown(h: &StoredHook) -> Webhook {
    Webhook {
        has_secret: h.secret.is_some(),
        ..h.hook.clone()
    }
}

/// The saved webhook after `save`, or the field in error.
fn saved(record: &mut WebhookRecord, save: HookSave) -> Result<Vec<&'static str>, ApiError> {
    let HookSave { hook, secret } = save;
    let hook = Webhook {
        url: hook.url.trim().to_string(),
        has_secret: false,
        ..hook
    };
    if let Some((field, m)) = hook.validate().into_iter().next() {
        return Err(ApiError::invalid(field, m));
    }
    if let PasswordUpdate::Set(s) = &secret {
        if s.chars().count() > MAX_SECRET {
            return Err(ApiError::invalid(
                "hook-secret",
                format!("At most {MAX_SECRET} characters"),
            ));
        }
    }
    // The model's own checks passed; the server's URL parser (the one the
    // request is sent with) must agree.
    if url::Url::parse(&hook.url).is_err() {
        return Err(ApiError::invalid("hook-url", "Not a URL"));
    }
    let mut events = hook.events.clone();
    // In the page's order.
    events.sort_by_key(|e| HookEvent::ALL.iter().position(|x| x == e));
    events.dedup();
    let hook = Webhook { events, ..hook };
    if hook.id == 0 {
        if record.hooks.len() >= MAX_WEBHOOKS {
            return Err(ApiError::invalid(
                "hook-url",
                format!("At most {MAX_WEBHOOKS} webhooks"),
            ));
        }
        record.next_id = record.next_id.max(1);
        let hook = Webhook {
            id: record.next_id,
            ..hook
        };
        record.next_id += 1;
        record.hooks.push(StoredHook {
            hook,
            secret: Secret::updated(secret, None),
        });
        return Ok(vec!["added"]);
    }
    let Some(old) = record.hooks.iter_mut().find(|h| h.hook.id == hook.id) else {
        return Err(ApiError::invalid(
            "hook-url",
            "This webhook was deleted meanwhile: Refresh",
        ));
    };
    // A kept secret signs only for where it was entered for.
    if matches!(secret, PasswordUpdate::Keep)
        && old.secret.is_some()
        && parse_url(&old.hook.url).ok() != parse_url(&hook.url).ok()
    {
        return Err(ApiError::invalid(
            "hook-secret",
            "The URL points to another host: enter the Secret again (or clear it)",
        ));
    }
    let mut changed = Vec::new();
    if old.hook.url != hook.url {
        changed.push("URL");
    }
    if old.hook.events != hook.events {
        changed.push("Events");
    }
    if old.hook.enabled != hook.enabled {
        changed.push("Enable");
    }
    if !matches!(secret, PasswordUpdate::Keep) {
        changed.push("Secret");
    }
    old.secret = Secret::updated(secret, old.secret.take());
    old.hook = hook;
    Ok(changed)
}

#[async_trait::async_trait]
impl api::Webhooks for WebhookService {
    async fn webhooks(&self, caller: &Caller) -> Result<WebhooksPage, ApiError> {
        caller.session()?;
        let record = self.settings.get(WEBHOOKS).await?;
        Ok(self.page(&record))
    }

    async fn save_webhook(
        &self,
        caller: &Caller,
        save: HookSave,
    ) -> Result<WebhooksPage, ApiError> {
        let session = caller.session()?;
        let record = self
            .settings
            .update(&session.user, caller.ip, "Webhooks", WEBHOOKS, move |r| {
                saved(r, save)
            })
            .await?;
        tracing::info!(ip = %caller.ip, "webhooks saved");
        Ok(self.page(&record))
    }

    async fn delete_webhook(&self, caller: &Caller, id: u32) -> Result<WebhooksPage, ApiError> {
        let session = caller.session()?;
        let record = self
            .settings
            .update(&session.user, caller.ip, "Webhooks", WEBHOOKS, move |r| {
                let before = r.hooks.len();
                r.hooks.retain(|h| h.hook.id != id);
                Ok(if r.hooks.len() < before {
                    vec!["deleted"]
                } else {
                    Vec::new()
                })
            })
            .await?;
        Ok(self.page(&record))
    }

    async fn test_webhook(&self, caller: &Caller, id: u32) -> Result<Delivery, ApiError> {
        caller.session()?;
        let (record, vto_no) = self
            .settings
            .read(|r| Ok((r.settings(WEBHOOKS)?, r.settings(BASIC)?.vto_no)))
            .await?;
        let h = record
            .hooks
            .into_iter()
            .find(|h| h.hook.id == id)
            .ok_or_else(|| ApiError::invalid("hook-test", "No such webhook: Refresh"))?;
        let f = delivery::test(self.time.now());
        let body = self.body(&f, vto_no);
        let key = f.key();
        let delivery = self.record(&h.hook, key);
        let post = post(&h, key, delivery, body);
        // One attempt, answered now: the owner is waiting for it.
        let result = match delivery::judge(self.poster.post(&post).await) {
            Verdict::Delivered(code) => DeliveryResult::Delivered(code),
            Verdict::Retry(e) | Verdict::GiveUp(e) => DeliveryResult::Failed(e),
        };
        self.update(delivery, 1, result);
        self.delivery(delivery)
            .ok_or_else(|| ApiError::Internal("delivery not kept".into()))
    }
}

#[cfg(test)]
mod tests;
