//! vto: the door station's device server.
//!
//! Module map: [`cli`] arguments; [`services`] the device's areas and the
//! one apply path; one folder per area: [`account`], [`system`],
//! [`network`], [`household`] (with the SIP server,
//! [`household::sip_server`]), [`door`], [`video`], [`logs`]; [`store`] the
//! redb tables and the settings store; [`http`] the web front door;
//! [`clock`] time; [`mail`] outgoing mail; [`error`] the server's error
//! type. See docs/architecture.md.

// Leptos view types nest deeply.
#![recursion_limit = "256"]

mod account;
mod cli;
mod clock;
mod dahua;
mod door;
mod error;
mod household;
mod http;
mod intercom;
mod log_output;
mod logs;
mod mail;
mod metrics;
mod network;
mod onvif;
mod qr;
mod rtsp_out;
mod services;
mod store;
mod system;
mod video;
mod webhooks;

use std::{process::ExitCode, sync::Arc, time::Duration};

use app::model::{network::NetworkSettings, security_log::SecurityEventKind};
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::{
    account::{lockout::Policy, Auth},
    cli::Cli,
    clock::SystemClock,
    door::{access::AccessService, lock::LockService, DoorService},
    network::{ip_filter::IpFilter, listen::WebServer},
    services::{Engines, Services},
    store::{
        settings::{SettingsStore, IP_PERMISSIONS, NETWORK, TLS, VIDEO},
        Store,
    },
    system::{
        lifecycle::{self, Lifecycle, Stop},
        time::TimeService,
    },
};

fn main() -> ExitCode {
    // Before any thread: password checks' blocks go back to the system.
    system::memory::return_large_blocks();
    let cli = Cli::parse();
    let log = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&cli.log).unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        // Colours for a terminal only, not in the journal or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format {
        log_output::LogFormat::Text => log.init(),
        log_output::LogFormat::Json => log.event_format(log_output::Json).init(),
    }

    if cli.list_routes {
        for r in http::routes() {
            // Routes for a session also name the right the role needs.
            let right = match r.access {
                http::guard::Access::Session => format!(" {:?}", app::api::required_right(&r.path)),
                _ => String::new(),
            };
            println!("{:<6} {:<28} {}{right}", r.method, r.path, r.access.label());
        }
        return ExitCode::SUCCESS;
    }

    if cli.new_metrics_token {
        return match metrics::token::create(&cli.data_dir) {
            Ok(token) => {
                // Shown once; only its hash is kept.
                println!("{token}");
                eprintln!(
                    "vto: a new metrics token (the last one no longer works); only its hash is kept in {}",
                    cli.data_dir.join(metrics::token::FILE).display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vto: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if cli.revoke_metrics_token {
        return match metrics::token::revoke(&cli.data_dir) {
            Ok(had) => {
                eprintln!(
                    "vto: {}",
                    if had {
                        "metrics token revoked"
                    } else {
                        "no metrics token was set"
                    }
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("vto: {e}");
                ExitCode::FAILURE
            }
        };
    }

    // Before any thread starts: the environment is read and cleared here.
    let inherited = match lifecycle::inherited_listener() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("vto: cannot use the handed-over listener: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vto: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, inherited)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vto: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, inherited: Option<std::net::TcpListener>) -> Result<(), String> {
    // Every connection is a file: the listeners' limits together exceed
    // the usual soft limit.
    network::conn_limit::raise_open_files_limit();
    let timeouts = network::conn_limit::Timeouts {
        first_request: std::time::Duration::from_secs(cli.first_request_secs),
    };
    let store = Arc::new(Store::open(&cli.data_dir).map_err(|e| e.to_string())?);
    let host_clock: Arc<dyn clock::Clock> = Arc::new(SystemClock);
    let time =
        Arc::new(TimeService::load(store.clone(), host_clock.clone()).map_err(|e| e.to_string())?);
    let settings = Arc::new(SettingsStore::new(store.clone(), time.clock()));
    let auth = Arc::new(
        Auth::new(
            store.clone(),
            host_clock,
            Policy::with_lock_secs(cli.lockout_secs),
        )
        .map_err(|e| e.to_string())?
        .with_wall_clock(time.clock()),
    );
    let (lifecycle, mut stop_rx) = Lifecycle::new();
    let extra_ca = match &cli.ca_file {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| format!("cannot read --ca-file {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let webhook_poster = Arc::new(webhooks::poster::HttpPoster::new(extra_ca.as_deref())?);
    let postman = Arc::new(mail::Postman::new(&cli.data_dir, extra_ca));
    // In force before anything listens.
    let permissions = store
        .read(|r| store::Read::settings(r, IP_PERMISSIONS))
        .map_err(|e: store::StoreError| e.to_string())?;
    let ip_filter = Arc::new(IpFilter::new(&permissions));
    let video: store::tables::VideoRecord = store
        .read(|r| store::Read::settings(r, VIDEO))
        .map_err(|e: store::StoreError| e.to_string())?;
    let door = video::door_ingest(
        &video.settings,
        video
            .camera_password
            .as_ref()
            .map(store::secret::Secret::as_str),
    )
    .or_else(|e| {
        // A stored address that no longer parses must not keep the
        // device from starting: the built-in camera stands in.
        tracing::error!(error = %e, "door camera settings: using the built-in camera");
        video::door_ingest(&Default::default(), None)
    })?;
    let media = video::Media::start(
        time.clone(),
        video::live::LiveConfig {
            udp_ports: cli.webrtc_ports,
            max_viewers: cli.max_viewers,
        },
        door,
    );
    let door_audio = match media.source("door") {
        Some(door) => door::audio::start(&cli.audio(), door)?,
        None => door::audio::DoorAudio::default(),
    };
    for d in &door_audio.described {
        tracing::info!("door audio: {d}");
    }
    let sip = household::sip_server::SipService::load(
        store.clone(),
        Arc::new(SystemClock),
        ip_filter.clone(),
        household::sip_server::local_minute_of(&time),
    )
    .map_err(|e| e.to_string())?;
    let sip_task = match cli.sip.0 {
        Some(addr) => match household::sip_server::transport::bind(addr).await {
            Ok((udp, tcp)) => {
                let bound = udp.local_addr().map_err(|e| e.to_string())?;
                // Tests and scripts read this line to find the port.
                println!("vto sip on {bound}");
                Some(tokio::spawn(household::sip_server::transport::serve(
                    sip.clone(),
                    udp,
                    tcp,
                    timeouts,
                )))
            }
            // The web UI must stay reachable to fix what is wrong.
            Err(e) => {
                tracing::error!(%addr, error = %e, "SIP server not started: cannot listen");
                None
            }
        },
        None => None,
    };
    let (lock_driver, lock_inputs, wiegand_cards, call_button) = lock_driver(&cli, &store)?;
    let lock = LockService::start(store.clone(), time.clock(), lock_driver, lock_inputs)
        .map_err(|e| e.to_string())?;
    let access = Arc::new(AccessService::new(
        settings.clone(),
        lock.clone(),
        Arc::new(SystemClock),
    ));
    let services = Services::assemble(Engines {
        settings,
        auth: auth.clone(),
        time: time.clone(),
        lifecycle: lifecycle.clone(),
        postman,
        ip_filter: ip_filter.clone(),
        cli_http: cli.http,
        media: media.clone(),
        sip: sip.clone(),
        lock: lock.clone(),
        access,
        data_dir: cli.data_dir.clone(),
        storage: video::storage_point::Limits::new(cli.storage_max_files, cli.storage_max_mb),
        calls: intercom::CallConfig {
            rtp_ports: cli.rtp_ports,
            ring_ms: i64::from(cli.ring_secs) * 1000,
            speaker: door_audio.speaker.clone(),
        },
        webhook_poster,
    });
    let calls = tokio::spawn(services.intercom.clone().run());
    let button = call_button.map(|mut presses| {
        // The door's Call button: another front door of the Intercom service.
        let intercom = services.intercom.clone();
        tokio::spawn(async move {
            while presses.recv().await.is_some() {
                if let Err(e) = intercom.press(intercom::Press::Button, None).await {
                    tracing::warn!(error = %e, "Call button: no call");
                }
            }
        })
    });
    let readers = card_readers(&cli, &services.door, wiegand_cards);
    let follow = tokio::spawn(services.door.clone().follow_door());
    if http::assets::UI_MISSING {
        tracing::error!("this binary was built without the web UI: build it with .ci/build");
    }
    let dahua = Arc::new(
        dahua::Dahua::new(
            services.clone(),
            auth.clone(),
            store.serial().map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?,
    );
    let events = tokio::spawn(dahua.feed.clone().run(services.clone()));
    let hooks = tokio::spawn(
        services
            .webhooks
            .clone()
            .follow(services.door.lock.written(), services.intercom.follow()),
    );
    let dhip = match cli.dhip.0 {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let bound = listener.local_addr().map_err(|e| e.to_string())?;
                // Tests and scripts read this line to find the port.
                println!("vto dhip on {bound}");
                Some(tokio::spawn(dahua::dhip::serve(
                    listener,
                    dahua.clone(),
                    ip_filter.clone(),
                    timeouts,
                )))
            }
            // The web UI must stay reachable to fix what is wrong.
            Err(e) => {
                tracing::error!(%addr, error = %e, "DHIP: cannot listen");
                None
            }
        },
        None => None,
    };
    let rtsp = match cli.rtsp.0 {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let bound = listener.local_addr().map_err(|e| e.to_string())?;
                // Tests and scripts read this line to find the port.
                println!("vto rtsp on {bound}");
                services.network.set_rtsp(bound);
                let out = rtsp_out::RtspOut::new(
                    services.clone(),
                    auth.clone(),
                    ip_filter.clone(),
                    timeouts,
                )
                .map_err(|e| e.to_string())?;
                Some((
                    tokio::spawn(rtsp_out::serve(listener, Arc::new(out))),
                    bound,
                ))
            }
            // The web UI must stay reachable to fix what is wrong.
            Err(e) => {
                tracing::error!(%addr, error = %e, "RTSP: cannot listen");
                None
            }
        },
        None => None,
    };
    let discovery = match cli.discovery.0 {
        Some(addr) => match crate::onvif::discovery::bind(addr).await {
            Ok(socket) => {
                let bound = socket.local_addr().map_err(|e| e.to_string())?;
                // Tests and scripts read this line to find the port.
                println!("vto discovery on {bound}");
                Some((socket, bound))
            }
            // The web UI must stay reachable to fix what is wrong.
            Err(e) => {
                tracing::error!(%addr, error = %e, "WS-Discovery: cannot listen");
                None
            }
        },
        None => None,
    };
    services.onvif.set_listeners(crate::onvif::Listeners {
        rtsp: rtsp.as_ref().map(|(_, bound)| *bound),
        discovery: discovery.as_ref().map(|(_, bound)| *bound),
    });
    let rtsp = rtsp.map(|(task, _)| task);
    let discovery = discovery.map(|(socket, _)| {
        tokio::spawn(crate::onvif::discovery::serve(
            socket,
            services.clone(),
            services.onvif.clone(),
            ip_filter.clone(),
        ))
    });
    let hosts = Arc::new(http::host::HostPolicy::new(
        &network::host_name(),
        &cli.host_name,
    ));
    tracing::info!(names = ?hosts.names(), "web server answers to IP addresses and these names");
    let state = http::AppState {
        leptos: http::leptos_options(),
        services: services.clone(),
        auth: auth.clone(),
        ip_filter: ip_filter.clone(),
        hosts: hosts.clone(),
        dahua,
    };
    let limits = network::listen::HttpLimits {
        header_timeout: Duration::from_secs(cli.http_idle_secs),
        per_addr: network::listen::HTTP_PER_ADDR,
        total: network::listen::HTTP_TOTAL,
    };
    let web = WebServer::new(http::router(state), ip_filter, hosts, limits);
    services.network.attach(web.clone());
    // Stored state to running state, before the first request.
    services.apply().await.map_err(|e| e.to_string())?;
    start_listeners(&web, &store, &cli, inherited)?;
    // The web listener serves: the service manager may call us started.
    let notifier = Arc::new(system::notify::Notifier::from_env());
    notifier.notify("READY=1");
    let watchdog = notifier.watchdog().map(|every| {
        tokio::spawn(tell_watchdog(
            notifier.clone(),
            every,
            lock.clone(),
            sip_task.is_some().then(|| sip.clone()),
        ))
    });

    let purge = tokio::spawn({
        let auth = auth.clone();
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(600));
            loop {
                every.tick().await;
                if let Err(e) = auth.purge_sessions().await {
                    tracing::warn!(error = %e, "session purge");
                }
                if let Err(e) = auth.purge_pending() {
                    tracing::warn!(error = %e, "pending login purge");
                }
            }
        }
    });
    let ntp = tokio::spawn(time.clone().run_ntp());
    let maintenance = tokio::spawn(time.clone().run_maintenance({
        let (settings, lifecycle) = (services.settings.clone(), lifecycle.clone());
        move || {
            tracing::warn!("auto maintenance: restarting the services");
            let (settings, lifecycle) = (settings.clone(), lifecycle.clone());
            tokio::spawn(async move {
                let me = std::net::IpAddr::from([127, 0, 0, 1]);
                if let Err(e) = settings
                    .log(SecurityEventKind::AutoMaintenance, "system", me)
                    .await
                {
                    tracing::warn!(error = %e, "auto maintenance not logged");
                }
                lifecycle.stop(Stop::Reboot);
            });
        }
    }));
    let signals = tokio::spawn({
        let lifecycle = lifecycle.clone();
        async move {
            shutdown_signal().await;
            lifecycle.stop(Stop::Shutdown);
        }
    });

    tracing::info!(data_dir = %cli.data_dir.display(), "data");
    let _ = stop_rx.wait_for(Option::is_some).await;
    let how = (*stop_rx.borrow()).unwrap_or(Stop::Shutdown);
    if how == Stop::Shutdown {
        notifier.notify("STOPPING=1");
    }
    // Kept for a reboot's hand-over before the listeners close.
    let keep = web.handover();
    // Open connections get a moment to finish; then we go regardless.
    web.shutdown().await;
    media.stop().await;
    lock.stop().await;
    // The SIP server lets go of the database even if a handler lingers.
    sip.close();
    for task in [
        purge,
        signals,
        ntp,
        maintenance,
        follow,
        calls,
        events,
        hooks,
    ]
    .into_iter()
    .chain(sip_task)
    .chain(watchdog)
    .chain(dhip)
    .chain(rtsp)
    .chain(discovery)
    .chain(button)
    .chain(readers)
    {
        task.abort();
        let _ = task.await;
    }
    drop((auth, time, web, media, sip, lock, services));
    // The serve loop ends when its count of connections does, a moment
    // before each connection's task has dropped its request (and a write
    // on the blocking pool finishes even if its request was dropped):
    // give the last holders up to 2 s to let go.
    for _ in 0..200 {
        if Arc::strong_count(&store) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Close the database cleanly when nothing else holds it (a connection
    // that outlived the grace period still may).
    match Arc::try_unwrap(store) {
        Ok(store) => drop(store),
        Err(_) => tracing::warn!("database still in use at exit; it is checked at the next start"),
    }

    match how {
        Stop::Shutdown => {
            tracing::info!("stopped");
            Ok(())
        }
        Stop::Reboot => {
            tracing::info!("rebooting");
            let keep = keep.ok_or("reboot failed: no listener to hand over")?;
            Err(format!("reboot failed: {}", lifecycle::reexec(&keep)))
        }
    }
}

/// The card readers on the command line (USB, Wiegand): each card read
/// goes to the door like the simulator's.
fn card_readers(
    cli: &Cli,
    door: &Arc<DoorService>,
    wiegand: Option<tokio::sync::mpsc::Receiver<String>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if let Some(path) = cli.card_reader.clone() {
        let door = door.clone();
        tasks.push(tokio::spawn(door::lock::reader::run(path, move |number| {
            let door = door.clone();
            async move { door.card_read(&number).await }
        })));
    }
    if let Some(mut cards) = wiegand {
        let door = door.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(number) = cards.recv().await {
                door.card_read(&number).await;
            }
        }));
    }
    tasks
}

/// The lock's driver, its inputs, a Wiegand reader's cards and the Call
/// button's presses (GPIO only).
type LockParts = (
    Box<dyn door::lock::driver::LockDriver>,
    Option<tokio::sync::mpsc::Receiver<door::lock::driver::Input>>,
    Option<tokio::sync::mpsc::Receiver<String>>,
    Option<tokio::sync::mpsc::Receiver<()>>,
);

fn lock_driver(cli: &Cli, store: &Store) -> Result<LockParts, String> {
    let Some(config) = cli.gpio() else {
        return Ok((
            Box::new(door::lock::driver::SimDriver::default()),
            None,
            None,
            None,
        ));
    };
    let settings: app::model::access::AccessSettings = store
        .read(|r| store::Read::settings(r, store::settings::ACCESS))
        .map_err(|e: store::StoreError| e.to_string())?;
    let locked = settings.contact == app::model::access::ContactType::Nc;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let (cards_tx, cards) = tokio::sync::mpsc::channel(16);
    let (calls_tx, calls) = tokio::sync::mpsc::channel(4);
    let driver = door::lock::gpio::GpioDriver::open(&config, locked, tx, cards_tx, calls_tx)
        .map_err(|e| format!("lock GPIO: {e}"))?;
    tracing::info!(chip = %config.chip.display(), relay = config.relay, "lock on GPIO");
    Ok((Box::new(driver), Some(rx), Some(cards), Some(calls)))
}

/// Tells the service manager's watchdog we are live while the lock
/// controller answers and the SIP loop ticks; when either hangs it hears
/// nothing and restarts the service.
async fn tell_watchdog(
    notifier: Arc<system::notify::Notifier>,
    every: Duration,
    lock: Arc<LockService>,
    sip: Option<Arc<household::sip_server::SipService>>,
) {
    let mut dog = system::notify::Watchdog::default();
    let mut answered = 0u64;
    let mut period = tokio::time::interval(every);
    loop {
        period.tick().await;
        if tokio::time::timeout(every, lock.answers())
            .await
            .unwrap_or(false)
        {
            answered += 1;
        }
        let mut beats = vec![("lock controller", answered)];
        if let Some(sip) = &sip {
            beats.push(("SIP server", sip.ticks()));
        }
        match dog.check(&beats) {
            Ok(()) => notifier.notify("WATCHDOG=1"),
            Err(area) => {
                tracing::error!(area, "not answering: the watchdog is not told we are live")
            }
        }
    }
}

/// Binds and starts the web listeners: where Network Setting > Basic says,
/// else where `--http` says (also when the stored address cannot be used,
/// so the device stays reachable).
fn start_listeners(
    web: &WebServer,
    store: &Store,
    cli: &Cli,
    inherited: Option<std::net::TcpListener>,
) -> Result<(), String> {
    use store::tables::SETTINGS;
    let (stored, tls): (Option<NetworkSettings>, Option<network::tls::TlsRecord>) = store
        .read(|r| {
            Ok::<_, store::StoreError>((
                store::Read::get(r, SETTINGS, NETWORK.name)?,
                store::Read::get(r, SETTINGS, TLS.name)?,
            ))
        })
        .map_err(|e| e.to_string())?;
    let want = stored
        .as_ref()
        .and_then(network::http_addr)
        .unwrap_or(cli.http);
    let inherited = inherited.filter(|l| {
        l.local_addr()
            .is_ok_and(|a| network::listen::satisfies(a, want))
    });
    let http_listener = match inherited {
        Some(l) => l,
        None => match network::listen::bind(want) {
            Ok(l) => l,
            Err(e) if want != cli.http => {
                tracing::error!(addr = %want, error = %e, "cannot listen where Network Setting > Basic says; using --http");
                network::listen::bind(cli.http)
                    .map_err(|e| format!("cannot listen on {}: {e}", cli.http))?
            }
            Err(e) => return Err(format!("cannot listen on {want}: {e}")),
        },
    };
    let addr = http_listener.local_addr().map_err(|e| e.to_string())?;
    let https = match (&stored, &tls) {
        (Some(s), Some(record)) if s.https => match network::tls::server_config(record) {
            Ok(config) => Some((std::net::SocketAddr::new(addr.ip(), s.https_port), config)),
            Err((_, e)) => {
                tracing::error!(error = %e, "HTTPS not started: its certificate cannot be used");
                None
            }
        },
        _ => None,
    };
    web.start(http_listener, https).map_err(|e| e.to_string())?;
    // Tests and scripts read this line to find the port.
    println!("vto listening on http://{addr}");
    if let (_, Some(https)) = web.addresses() {
        println!("vto listening on https://{https}");
    }
    Ok(())
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}
