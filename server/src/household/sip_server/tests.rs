//! The dispatcher's clock: registrations expire on monotonic time, and
//! what is stored carries wall time.

use std::time::Duration;

use super::*;
use crate::{clock::sim::SimClock, household::rooms, network::ip_filter::IpFilter};

const T0: UnixMillis = UnixMillis(1_800_000_000_000);

#[tokio::test(start_paused = true)]
async fn a_step_of_the_wall_clock_expires_no_registration() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Arc::new(Store::open(&dir.path().join("data")).unwrap_or_else(|e| panic!("{e}")));
    let room = app::model::room::Room {
        room_no: "9901".into(),
        ..Default::default()
    };
    let digests = rooms::digests(&room, "123456");
    let record = RoomRecord { digests, room };
    let put = store.write(|w| w.put(SIP_ROOMS, "9901", &record));
    put.unwrap_or_else(|e| panic!("{e}"));
    let clock = Arc::new(SimClock::at(T0));
    let filter = Arc::new(IpFilter::new(&Default::default()));
    let sip = SipService::load(store.clone(), clock.clone(), filter, Arc::new(|_| 600))
        .unwrap_or_else(|e| panic!("{e}"));
    let device: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let monitor: SocketAddr = "127.0.0.2:5060".parse().unwrap();
    let mut c = client::Registration::new(
        client::Config {
            server: device,
            domain: "VDP".into(),
            user: "9901#0".into(),
            password: "123456".into(),
            local: monitor,
            expires: 60,
            timers: transaction::Timers::default(),
        },
        [5; 16],
    );
    let mut to_device = c.start(sip.now().mono);
    while let Some(req) = to_device.pop() {
        for (_, _, b) in sip.handle(&req, monitor, dispatch::Transport::Udp) {
            let resp = sip::message::parse(&b).unwrap_or_else(|e| panic!("{e}"));
            to_device = c.on_response_from(&resp, device, sip.now().mono);
        }
    }
    let users = ["9901#0".to_string()];
    assert_eq!(sip.online(&users), 1, "{:?}", c.status());
    sip.tick();
    // Stored as wall time, for a restart.
    let stored = || {
        let read = store.read(|r| r.get::<_, Vec<BindingRecord>>(SIP_BINDINGS, "9901#0"));
        read.unwrap_or_else(|e| panic!("{e}")).unwrap_or_default()
    };
    let expiry: Vec<_> = stored().iter().map(|b| b.expires_at).collect();
    assert_eq!(expiry, [T0 + 60_000]);
    // NTP steps the host's clock 2 h on (at boot, no RTC): still registered.
    clock.advance_secs(7200);
    sip.tick();
    assert_eq!(sip.online(&users), 1);
    // A minute of real time later, it has expired, and its row is gone.
    tokio::time::advance(Duration::from_secs(61)).await;
    sip.tick();
    assert_eq!(sip.online(&users), 0);
    assert!(stored().is_empty());
}
