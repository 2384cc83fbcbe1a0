use super::*;

#[test]
fn keys_of_events() {
    let keys: String = (0..16).filter_map(key).collect();
    assert_eq!(keys, "0123456789*#ABCD");
    assert_eq!(key(16), None);
    for (i, k) in keys.chars().enumerate() {
        assert_eq!(code(k), Some(i as u8));
    }
    assert_eq!(
        (code('a'), code('d'), code('x'), code(' ')),
        (Some(12), Some(15), None, None)
    );
}

#[test]
fn event_bytes() {
    // '#', end, volume 10, 800 units (100 ms at 8000 Hz).
    let e = Event::parse(&[0x0b, 0x8a, 0x03, 0x20]).unwrap();
    assert_eq!(
        e,
        Event {
            code: 11,
            end: true,
            volume: 10,
            duration: 800
        }
    );
    assert_eq!(e.key(), Some('#'));
    assert_eq!(e.write(), [0x0b, 0x8a, 0x03, 0x20]);
    // The reserved bit is not the end bit, nor volume.
    let e = Event::parse(&[0x01, 0x4a, 0, 160, 0xff]).unwrap();
    assert_eq!(
        e,
        Event {
            code: 1,
            end: false,
            volume: 10,
            duration: 160
        }
    );
    // Volume is 6 bits.
    let loud = Event {
        code: 5,
        end: false,
        volume: 0xff,
        duration: 0,
    };
    assert_eq!(loud.write(), [5, 0x3f, 0, 0]);
    for n in 0..4 {
        assert_eq!(
            Event::parse(&[1, 2, 3, 4][..n]),
            Err(Error::Truncated("telephone event"))
        );
    }
    assert_eq!(Event::parse(&[16, 0, 0, 0]).unwrap().key(), None);
}

/// A key press as a sender sends it: packets every 20 ms with the same
/// timestamp, then three end packets.
fn press(code: u8, timestamp: u32) -> Vec<(u32, Event)> {
    let mut v: Vec<(u32, Event)> = (1..=4)
        .map(|i| {
            (
                timestamp,
                Event {
                    code,
                    end: false,
                    volume: 10,
                    duration: 160 * i,
                },
            )
        })
        .collect();
    for _ in 0..3 {
        v.push((
            timestamp,
            Event {
                code,
                end: true,
                volume: 10,
                duration: 800,
            },
        ));
    }
    v
}

fn detect(d: &mut Detector, packets: &[(u32, Event)]) -> String {
    packets
        .iter()
        .filter_map(|(ts, e)| d.push(*ts, e))
        .collect()
}

#[test]
fn one_key_per_event() {
    let mut d = Detector::new();
    assert_eq!(detect(&mut d, &press(1, 1000)), "1");
    assert_eq!(detect(&mut d, &press(2, 3000)), "2");
    // The same key again is a new event: a new timestamp.
    let mut again = press(1, 5000);
    // A late end packet of the first press, behind the third.
    again.insert(2, press(1, 1000)[6]);
    assert_eq!(detect(&mut d, &again), "1");
    // Flash (16) is an event but no key.
    assert_eq!(detect(&mut d, &press(16, 7000)), "");
    assert_eq!(detect(&mut d, &press(11, 9000)), "#");
    assert_eq!(d.keys(), "121#");
    // Two events on one timestamp (a sender against RFC 4733) are two keys.
    assert_eq!(
        detect(&mut d, &[press(4, 11_000)[0], press(5, 11_000)[0]]),
        "45"
    );
}

#[test]
fn detector_keeps_the_newest_keys() {
    let mut d = Detector::new();
    for i in 0..40u32 {
        let packets = press((i % 10) as u8, i * 1000);
        detect(&mut d, &packets);
    }
    assert_eq!(d.keys(), "89012345678901234567890123456789");
}

const TIMEOUT: i64 = 5000;

#[test]
fn matcher_finds_the_command_after_other_keys() {
    let mut m = Matcher::new("123#", TIMEOUT).unwrap();
    let typed: Vec<bool> = "5123#"
        .chars()
        .enumerate()
        .map(|(i, k)| m.push(k, i as i64 * 500))
        .collect();
    assert_eq!(typed, [false, false, false, false, true]);
    // Matched keys are forgotten: '#' alone does not open again.
    assert!(!m.push('#', 3000));
    // Keys of a match do not count towards the next: "###" is "##" once.
    let mut m = Matcher::new("##", TIMEOUT).unwrap();
    assert_eq!(
        "###".chars().map(|k| m.push(k, 0)).collect::<Vec<_>>(),
        [false, true, false]
    );
    // A command whose start repeats: "112" in "1112".
    let mut m = Matcher::new("112", TIMEOUT).unwrap();
    assert_eq!(
        "1112".chars().map(|k| m.push(k, 0)).collect::<Vec<_>>(),
        [false, false, false, true]
    );
}

#[test]
fn matcher_starts_over_after_a_pause() {
    let mut m = Matcher::new("123#", TIMEOUT).unwrap();
    assert!(!m.push('1', 0));
    assert!(!m.push('2', 1000));
    // Exactly the timeout is still in time; more is not.
    assert!(!m.push('3', 1000 + TIMEOUT + 1));
    assert!(!m.push('#', 7000));
    for (i, k) in "123".chars().enumerate() {
        assert!(!m.push(k, 20_000 + i as i64 * TIMEOUT));
    }
    assert!(m.push('#', 20_000 + 3 * TIMEOUT));
}

#[test]
fn matcher_commands() {
    let mut m = Matcher::new("9a*d", TIMEOUT).unwrap();
    assert!(["9", "A", "*"]
        .iter()
        .all(|k| !m.push(k.chars().next().unwrap(), 0)));
    assert!(m.push('d', 0));
    for bad in ["", "12x", "1 2", "١٢"] {
        assert_eq!(
            Matcher::new(bad, TIMEOUT).unwrap_err(),
            Error::Command(bad.into())
        );
    }
}

/// Event packets through the detector into the matcher, as the device
/// will chain them.
#[test]
fn unlock_command_from_event_packets() {
    let mut d = Detector::new();
    let mut m = Matcher::new("123#", TIMEOUT).unwrap();
    let mut opened = Vec::new();
    for (i, code) in [7u8, 1, 2, 3, 11].into_iter().enumerate() {
        let start = i as u32 * 8000;
        for (ts, e) in press(code, start) {
            if let Some(k) = d.push(ts, &e) {
                // RTP time to milliseconds at 8000 Hz.
                opened.push(m.push(k, i64::from(ts / 8)));
            }
        }
    }
    assert_eq!(opened, [false, false, false, false, true]);
    assert_eq!(d.keys(), "7123#");
}
