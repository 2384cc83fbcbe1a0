//! The device's services, one per area (see `docs/architecture.md`), and
//! the one path from stored state to running state.
//!
//! Front doors (the UI's server functions; later the SIP user agent, the
//! HTTP CGI API, DHIP, RTSP and ONVIF) call these services, never each
//! other; the services use the store and the engines (SIP server, lock,
//! media, listeners, clock).

use std::sync::Arc;

use app::{
    error::ApiError,
    model::{
        access::{AccessSettings, UnlockLogSettings},
        ip_permissions::IpPermissions,
        network::NetworkSettings,
        settings::BasicSettings,
        station::StationKind,
        system_time::TimeSettings,
    },
    services as api,
};
use leptos::prelude::provide_context;

use crate::{
    account::{service::AccountService, Auth},
    door::{access::AccessService, lock::LockService, DoorService},
    household::sip_server::{self, SipService},
    household::HouseholdService,
    intercom::{CallConfig, IntercomService},
    logs::LogService,
    mail::Postman,
    network::{ip_filter::IpFilter, tls::TlsRecord, NetworkService},
    store::{
        settings::{
            SettingsStore, ACCESS, BASIC, CLOCK, IPCS, IP_PERMISSIONS, NETWORK, SIP_SERVER, TIME,
            TLS, UNLOCK_LOG, VIDEO,
        },
        tables::{
            ClockRecord, IpcRecord, RoomRecord, SipServerRecord, StationRecord, SETTINGS, SIP_ROOMS,
        },
        Read, Reader, StoreError,
    },
    system::{lifecycle::Lifecycle, service::SystemService, time::TimeService},
    video::{service::VideoService, storage_point::StoragePoint, Media},
    webhooks::{poster::Poster, WebhookService},
};

pub struct Services {
    pub settings: Arc<SettingsStore>,
    pub account: Arc<AccountService>,
    pub system: Arc<SystemService>,
    pub network: Arc<NetworkService>,
    pub household: Arc<HouseholdService>,
    pub door: Arc<DoorService>,
    pub intercom: Arc<IntercomService>,
    pub video: Arc<VideoService>,
    pub logs: Arc<LogService>,
    pub webhooks: Arc<WebhookService>,
    pub onvif: Arc<crate::onvif::OnvifService>,
    /// Where the metrics token's hash is kept (`metrics::token`).
    pub data_dir: std::path::PathBuf,
}

/// Everything stored that running state follows, read in one transaction.
struct Stored {
    basic: BasicSettings,
    ip_permissions: IpPermissions,
    time: TimeSettings,
    clock: ClockRecord,
    network: Option<NetworkSettings>,
    tls: Option<TlsRecord>,
    video: crate::store::tables::VideoRecord,
    ipcs: IpcRecord,
    sip_server: SipServerRecord,
    access: AccessSettings,
    unlock_log: UnlockLogSettings,
    rooms: Vec<RoomRecord>,
    vto: Vec<StationRecord>,
    vts: Vec<StationRecord>,
}

impl Stored {
    fn read(r: &Reader) -> Result<Self, StoreError> {
        Ok(Self {
            basic: r.settings(BASIC)?,
            ip_permissions: r.settings(IP_PERMISSIONS)?,
            time: r.settings(TIME)?,
            clock: r.settings(CLOCK)?,
            network: r.get(SETTINGS, NETWORK.name)?,
            tls: r.get(SETTINGS, TLS.name)?,
            video: r.settings(VIDEO)?,
            ipcs: r.settings(IPCS)?,
            sip_server: r.settings(SIP_SERVER)?,
            access: r.settings(ACCESS)?,
            unlock_log: r.settings(UNLOCK_LOG)?,
            rooms: r
                .all::<RoomRecord>(SIP_ROOMS)?
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
            vto: sip_server::stations_of(r, StationKind::Vto)?,
            vts: sip_server::stations_of(r, StationKind::Vts)?,
        })
    }
}

/// The engines the services run on, built at start (or by a test).
pub struct Engines {
    pub settings: Arc<SettingsStore>,
    pub auth: Arc<Auth>,
    pub time: Arc<TimeService>,
    pub lifecycle: Lifecycle,
    pub postman: Arc<Postman>,
    pub ip_filter: Arc<IpFilter>,
    /// `--http`: the web listener until Network Setting > Basic is saved.
    pub cli_http: std::net::SocketAddr,
    pub media: Arc<Media>,
    pub sip: Arc<SipService>,
    pub lock: Arc<LockService>,
    pub access: Arc<AccessService>,
    pub data_dir: std::path::PathBuf,
    /// `--storage-max-files`, `--storage-max-mb`.
    pub storage: crate::video::storage_point::Limits,
    /// `--rtp-ports`, `--ring-secs`.
    pub calls: CallConfig,
    /// Where webhooks are POSTed through.
    pub webhook_poster: Arc<dyn Poster>,
}

impl Services {
    /// Each area's service on the engines it uses.
    pub fn assemble(e: Engines) -> Arc<Self> {
        let storage = Arc::new(StoragePoint::new(&e.data_dir, e.storage));
        let services = Arc::new(Services {
            account: Arc::new(AccountService {
                auth: e.auth.clone(),
                settings: e.settings.clone(),
                time: e.time.clone(),
                postman: e.postman.clone(),
                lifecycle: e.lifecycle.clone(),
            }),
            system: Arc::new(SystemService {
                settings: e.settings.clone(),
                auth: e.auth.clone(),
                time: e.time.clone(),
                lifecycle: e.lifecycle.clone(),
                services: Default::default(),
                backup_busy: Default::default(),
            }),
            network: Arc::new(NetworkService::new(
                e.cli_http,
                e.settings.clone(),
                e.ip_filter.clone(),
                e.postman,
                e.time.clone(),
            )),
            household: Arc::new(HouseholdService {
                settings: e.settings.clone(),
                time: e.time.clone(),
                sip: e.sip.clone(),
            }),
            door: Arc::new(DoorService {
                settings: e.settings.clone(),
                time: e.time.clone(),
                lock: e.lock.clone(),
                access: e.access,
                media: e.media.clone(),
                sip: e.sip.clone(),
                storage: storage.clone(),
            }),
            intercom: Arc::new(IntercomService::new(
                e.settings.clone(),
                e.time.clone(),
                e.sip.clone(),
                e.media.clone(),
                e.lock.clone(),
                storage.clone(),
                e.calls,
            )),
            video: Arc::new(VideoService {
                settings: e.settings.clone(),
                media: e.media.clone(),
            }),
            logs: Arc::new(LogService {
                settings: e.settings.clone(),
                time: e.time.clone(),
                sip: e.sip.clone(),
                lock: e.lock.clone(),
            }),
            webhooks: Arc::new(WebhookService::new(
                e.settings.clone(),
                e.time.clone(),
                e.webhook_poster,
            )),
            onvif: Arc::new(crate::onvif::OnvifService::new(
                e.settings.clone(),
                e.auth.clone(),
                e.time.clone(),
                e.settings.store().serial().unwrap_or_default(),
            )),
            data_dir: e.data_dir.clone(),
            settings: e.settings,
        });
        let _ = services.system.services.set(Arc::downgrade(&services));
        services
    }

    /// Every service on a store in `data`, on simulated time and the
    /// simulated lock, with mail trusting `ca`; no sockets.
    #[cfg(test)]
    pub async fn for_test(
        store: Arc<crate::store::Store>,
        clock: Arc<crate::clock::sim::SimClock>,
        data: &std::path::Path,
        ca: Option<Vec<u8>>,
    ) -> Arc<Self> {
        let time = Arc::new(
            TimeService::load(store.clone(), clock.clone()).unwrap_or_else(|e| panic!("{e}")),
        );
        let settings = Arc::new(SettingsStore::new(store.clone(), time.clock()));
        let auth = Arc::new(
            Auth::new(
                store.clone(),
                clock.clone(),
                crate::account::lockout::Policy::default(),
            )
            .unwrap_or_else(|e| panic!("{e}"))
            .with_wall_clock(time.clock()),
        );
        let ip_filter = Arc::new(IpFilter::new(&IpPermissions::default()));
        let lock = LockService::start(
            store.clone(),
            clock.clone(),
            Box::new(crate::door::lock::driver::SimDriver::default()),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let sip = SipService::load(
            store,
            clock.clone(),
            ip_filter.clone(),
            sip_server::local_minute_of(&time),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let media = Media::start(
            time.clone(),
            crate::video::live::LiveConfig {
                udp_ports: (40000, 40999),
                max_viewers: crate::video::live::MAX_VIEWERS,
            },
            crate::video::door_ingest(&Default::default(), None).unwrap_or_else(|e| panic!("{e}")),
        );
        Self::assemble(Engines {
            access: Arc::new(AccessService::new(settings.clone(), lock.clone(), clock)),
            settings,
            auth,
            time,
            lifecycle: Lifecycle::new().0,
            postman: Arc::new(Postman::new(data, ca)),
            ip_filter,
            cli_http: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            media,
            sip,
            lock,
            data_dir: data.to_path_buf(),
            storage: Default::default(),
            calls: CallConfig {
                rtp_ports: (30000, 30999),
                ring_ms: sip::call::RING_TIMEOUT_MS,
                speaker: None,
            },
            webhook_poster: Arc::new(
                crate::webhooks::poster::HttpPoster::new(None).unwrap_or_else(|e| panic!("{e}")),
            ),
        })
    }

    /// Puts each area's service in the Leptos context, for the server
    /// functions.
    pub fn provide(&self) {
        provide_context::<Arc<dyn api::Account>>(self.account.clone());
        provide_context::<Arc<dyn api::System>>(self.system.clone());
        provide_context::<Arc<dyn api::Network>>(self.network.clone());
        provide_context::<Arc<dyn api::Household>>(self.household.clone());
        provide_context::<Arc<dyn api::Door>>(self.door.clone());
        provide_context::<Arc<dyn api::Intercom>>(self.intercom.clone());
        provide_context::<Arc<dyn api::Video>>(self.video.clone());
        provide_context::<Arc<dyn api::Logs>>(self.logs.clone());
        provide_context::<Arc<dyn api::Webhooks>>(self.webhooks.clone());
        provide_context::<Arc<dyn api::Onvif>>(self.onvif.clone());
    }

    /// The one path from stored state to running state: at start, after an
    /// import, after Restore Factory Defaults. Each area takes what it
    /// follows; what is already running as stored goes on untouched (the
    /// same camera keeps streaming, the same listener keeps its clients).
    pub async fn apply(&self) -> Result<(), ApiError> {
        let s = self.settings.read(|r| Ok(Stored::read(r)?)).await?;
        // Network: who may connect, and where the web server listens.
        self.network.ip_filter.set(&s.ip_permissions);
        self.network
            .apply_listeners(s.network.as_ref(), s.tls.as_ref());
        // System: the device's clock and its display, NTP, maintenance.
        let time = &self.system.time;
        time.clock().set_offset_ms(s.clock.offset_ms);
        time.apply(s.time);
        // Household: the SIP server's accounts, centre and upstream.
        let sip = &self.household.sip;
        sip.set_rooms(&s.rooms)?;
        sip.set_stations(StationKind::Vto, &s.vto)?;
        sip.set_stations(StationKind::Vts, &s.vts)?;
        sip.set_numbers(
            &s.basic.vto_no,
            &s.basic.centre_call_no,
            s.basic.call_centre_time,
        );
        sip.set_upstream(sip_server::wanted_from(&s.sip_server, &s.basic.vto_no));
        sip.set_digest(s.sip_server.settings.digest);
        // Door: the lock's settings and the unlock log's bound.
        self.door.apply(s.access, s.unlock_log.keep).await?;
        // Video: the door camera and the IPCs.
        self.video.apply(&s.video, &s.ipcs).await;
        Ok(())
    }
}
