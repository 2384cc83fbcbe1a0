use std::time::Duration;

use super::*;

fn gauges() -> Gauges {
    Gauges {
        version: "1.2.3",
        registrations: 2,
        viewers: 1,
        rtsp: 0,
    }
}

/// The value of the sample whose line starts with `series ` in `text`.
fn value(text: &str, series: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(str::to_string)
}

#[test]
fn events_become_counters_with_their_labels() {
    let m = Metrics::new();
    m.call("Door Call", "Not Answered");
    m.call("Door Call", "Not Answered");
    m.call("Intercom", "Answered");
    m.talked(12_500);
    m.unlock("card", true);
    m.unlock("card", false);
    m.unlock("remote", true);
    m.alarm("forced");
    m.login_failed("password");
    m.sip_message(Way::In, false);
    m.sip_message(Way::In, false);
    m.sip_message(Way::Out, true);
    m.sip_dropped(Dropped::Malformed);
    let text = render(&m.families(&gauges()));
    let want = [
        (
            r#"vto_calls_total{type="door_call",end_state="not_answered"}"#,
            "2",
        ),
        (
            r#"vto_calls_total{type="intercom",end_state="answered"}"#,
            "1",
        ),
        ("vto_talk_seconds_total", "12.5"),
        (r#"vto_unlocks_total{method="card",result="opened"}"#, "1"),
        (r#"vto_unlocks_total{method="card",result="refused"}"#, "1"),
        (r#"vto_unlocks_total{method="remote",result="opened"}"#, "1"),
        (r#"vto_alarms_total{kind="forced"}"#, "1"),
        (r#"vto_login_failures_total{method="password"}"#, "1"),
        (
            r#"vto_sip_messages_total{direction="in",transport="udp"}"#,
            "2",
        ),
        (
            r#"vto_sip_messages_total{direction="out",transport="tcp"}"#,
            "1",
        ),
        (
            r#"vto_sip_messages_total{direction="in",transport="tcp"}"#,
            "0",
        ),
        (r#"vto_sip_dropped_total{reason="malformed"}"#, "1"),
        (r#"vto_sip_dropped_total{reason="refused"}"#, "0"),
        ("vto_sip_registrations_online", "2"),
        ("vto_live_viewers", "1"),
        ("vto_rtsp_sessions", "0"),
        (r#"vto_build_info{version="1.2.3"}"#, "1"),
    ];
    for (series, v) in want {
        assert_eq!(value(&text, series).as_deref(), Some(v), "{series}\n{text}");
    }
    assert!(text.contains("# TYPE vto_calls_total counter\n"), "{text}");
    assert!(text.contains("# TYPE vto_live_viewers gauge\n"), "{text}");
}

#[test]
fn the_write_histogram_is_cumulative_with_sum_and_count() {
    let m = Metrics::new();
    m.db_write.observe(Duration::from_micros(300));
    m.db_write.observe(Duration::from_millis(3));
    m.db_write.observe(Duration::from_secs(5));
    let text = render(&m.families(&gauges()));
    assert_eq!(
        value(&text, r#"vto_db_write_seconds_bucket{le="0.0005"}"#).as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&text, r#"vto_db_write_seconds_bucket{le="0.005"}"#).as_deref(),
        Some("2")
    );
    assert_eq!(
        value(&text, r#"vto_db_write_seconds_bucket{le="2.5"}"#).as_deref(),
        Some("2")
    );
    assert_eq!(
        value(&text, r#"vto_db_write_seconds_bucket{le="+Inf"}"#).as_deref(),
        Some("3")
    );
    assert_eq!(
        value(&text, "vto_db_write_seconds_count").as_deref(),
        Some("3")
    );
    assert_eq!(
        value(&text, "vto_db_write_seconds_sum").as_deref(),
        Some("5.0033")
    );
    assert!(text.contains("# TYPE vto_db_write_seconds histogram\n"));
}

#[test]
fn label_values_are_escaped() {
    let families = [Sampled {
        name: "x",
        help: "a \\ b\nc",
        kind: "gauge",
        samples: vec![Sample {
            suffix: "",
            labels: vec![("v", "q\"u\\o\nte".into())],
            value: 0.25,
        }],
    }];
    assert_eq!(
        render(&families),
        "# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{v=\"q\\\"u\\\\o\\nte\"} 0.25\n"
    );
}

#[test]
fn an_rtsp_session_counts_while_its_guard_lives() {
    static M: Metrics = Metrics::new();
    let a = M.rtsp_started();
    let b = M.rtsp_started();
    assert_eq!(M.rtsp_playing(), 2);
    drop(a);
    assert_eq!(M.rtsp_playing(), 1);
    drop(b);
    assert_eq!(M.rtsp_playing(), 0);
}

#[test]
fn labels_become_slugs() {
    assert_eq!(slug("Call Centre"), "call_centre");
    assert_eq!(slug("Message Left"), "message_left");
}
