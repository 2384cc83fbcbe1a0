//! `recordFinder.cgi?action=find&name=AccessControlCardRec|VideoTalkLog`:
//! the unlock records and the call log as Dahua clients read them,
//! through the Log service the UI's log pages use.
//!
//! Parameters: `StartTime` and `EndTime` (`YYYY-MM-DD HH:MM:SS`, the
//! device's local time, either may be left out) and `count` (at most
//! [`MAX_COUNT`], default 100). The answer: `found=N`, then
//! `records[i].Field=value` lines, fields in alphabetical order, oldest
//! first; `CreateTime` is UTC seconds, `RecNo` the record's number.

use app::{
    error::ApiError,
    model::{
        access::{UnlockFilter, UnlockRecord},
        call_log::{CallRecord, CallType, EndState},
        system_time::{parse_local, TimeDisplay},
        time::UnixMillis,
    },
    services::{Caller, Logs as _},
};

use super::Dahua;

/// Records in one answer, at most.
pub const MAX_COUNT: usize = 1024;
const DEFAULT_COUNT: usize = 100;

#[derive(Debug, PartialEq, Eq)]
pub enum FindError {
    /// Unknown record name: 400 `Bad Request!`.
    Unsupported,
    Invalid(String),
    Failed(String),
}

impl From<ApiError> for FindError {
    fn from(e: ApiError) -> Self {
        Self::Failed(e.to_string())
    }
}

/// The query's time range and count.
#[derive(Debug, PartialEq, Eq)]
pub struct Query {
    pub start: Option<UnixMillis>,
    pub end: Option<UnixMillis>,
    pub count: usize,
}

impl Query {
    pub fn parse(
        start: Option<&str>,
        end: Option<&str>,
        count: Option<&str>,
        display: &TimeDisplay,
    ) -> Result<Self, FindError> {
        let time = |s: Option<&str>, name: &str| -> Result<Option<UnixMillis>, FindError> {
            s.map(|s| {
                parse_local(s)
                    .map(|local| display.to_utc(local))
                    .ok_or_else(|| FindError::Invalid(format!("{name}: YYYY-MM-DD HH:MM:SS")))
            })
            .transpose()
        };
        let count = match count {
            None => DEFAULT_COUNT,
            Some(c) => match c.parse::<usize>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => n,
                _ => return Err(FindError::Invalid(format!("count: 1 to {MAX_COUNT}"))),
            },
        };
        Ok(Self {
            start: time(start, "StartTime")?,
            end: time(end, "EndTime")?,
            count,
        })
    }

    fn wants(&self, t: UnixMillis) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }
}

fn secs(t: UnixMillis) -> String {
    t.0.div_euclid(1000).to_string()
}

/// One unlock record's fields, alphabetical.
pub fn unlock_fields(rec_no: u64, r: &UnlockRecord) -> Vec<(&'static str, String)> {
    let (card_no, user_id) = super::feed::card_and_user(r);
    vec![
        ("CardName", r.who.clone()),
        ("CardNo", card_no),
        ("CreateTime", secs(r.time)),
        ("Door", "0".into()),
        ("Method", super::feed::method(r.method).0.to_string()),
        ("RecNo", rec_no.to_string()),
        ("Status", u8::from(r.refused.is_none()).to_string()),
        ("Type", "Entry".into()),
        ("UserID", user_id),
    ]
}

/// One call's fields, alphabetical (`VideoTalkLog`).
pub fn call_fields(rec_no: u64, r: &CallRecord, local_number: &str) -> Vec<(&'static str, String)> {
    let outgoing = matches!(r.call_type, CallType::DoorCall | CallType::CentreCall);
    let (peer, end) = if outgoing {
        (r.to.clone(), r.end_state)
    } else {
        (r.from.clone(), r.end_state)
    };
    let end_state = match end {
        EndState::Answered => "Received",
        _ => "Missed",
    };
    vec![
        (
            "CallType",
            if outgoing { "Outgoing" } else { "Incoming" }.into(),
        ),
        ("CreateTime", secs(r.begin)),
        ("EndState", end_state.into()),
        ("LocalNumber", local_number.to_string()),
        (
            "MessageTime",
            if end == EndState::MessageLeft {
                "1"
            } else {
                "0"
            }
            .into(),
        ),
        ("PeerNumber", peer),
        ("PeerType", "VTH".into()),
        ("PicturePath", String::new()),
        ("RecNo", rec_no.to_string()),
        ("TalkTime", r.talk_ms.map_or(0, |ms| ms / 1000).to_string()),
    ]
}

/// The body: `found=N` and the records' lines.
pub fn body(records: &[Vec<(&'static str, String)>]) -> String {
    let mut lines: Vec<(String, String)> = vec![("found".into(), records.len().to_string())];
    for (i, fields) in records.iter().enumerate() {
        for (k, v) in fields {
            lines.push((format!("records[{i}].{k}"), v.clone()));
        }
    }
    let refs: Vec<(&str, String)> = lines.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    dahua::cgi::body(&refs)
}

/// Pages through a newest-first log until `count` records in range are
/// found or the log ends; returns them oldest first with their numbers.
async fn collect<R, F, Fut>(
    query: &Query,
    time: impl Fn(&R) -> UnixMillis,
    mut page: F,
) -> Result<Vec<(u64, R)>, FindError>
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<R>, u64), ApiError>>,
{
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let (records, total) = page(offset).await?;
        if records.is_empty() {
            break;
        }
        for (i, r) in records.into_iter().enumerate() {
            // Newest first: the n-th newest of `total` is number total - n.
            let rec_no = total.saturating_sub(offset + i as u64);
            let t = time(&r);
            if query.start.is_some_and(|s| t < s) {
                out.reverse();
                return Ok(out);
            }
            if query.wants(t) {
                out.push((rec_no, r));
                if out.len() == query.count {
                    out.reverse();
                    return Ok(out);
                }
            }
        }
        offset = offset.saturating_add(app::model::access::PAGE_SIZE);
        if offset >= total {
            break;
        }
    }
    out.reverse();
    Ok(out)
}

pub async fn find(
    d: &Dahua,
    caller: &Caller,
    name: Option<&str>,
    query: Query,
) -> Result<String, FindError> {
    let logs = &d.services.logs;
    match name {
        Some("AccessControlCardRec") => {
            let found = collect(
                &query,
                |r: &UnlockRecord| r.time,
                |offset| async move {
                    let p = logs
                        .unlock_log(caller, offset, UnlockFilter::default())
                        .await?;
                    Ok((p.records, p.total))
                },
            )
            .await?;
            Ok(body(
                &found
                    .iter()
                    .map(|(n, r)| unlock_fields(*n, r))
                    .collect::<Vec<_>>(),
            ))
        }
        Some("VideoTalkLog") => {
            let vto_no = d
                .services
                .settings
                .get(crate::store::settings::BASIC)
                .await
                .map(|b| b.vto_no)
                .unwrap_or_default();
            let found = collect(
                &query,
                |r: &CallRecord| r.begin,
                |offset| async move {
                    let p = logs.call_log(caller, offset).await?;
                    Ok((p.records, p.total))
                },
            )
            .await?;
            Ok(body(
                &found
                    .iter()
                    .map(|(n, r)| call_fields(*n, r, &vto_no))
                    .collect::<Vec<_>>(),
            ))
        }
        _ => Err(FindError::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::access::UnlockMethod;

    #[test]
    fn queries_and_bodies() {
        let display = TimeDisplay::default();
        let q = Query::parse(Some("2026-12-01 00:00:00"), None, Some("5"), &display);
        let q = q.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(q.count, 5);
        assert!(q.start.is_some() && q.end.is_none());
        for (start, count) in [
            (Some("yesterday"), None),
            (None, Some("0")),
            (None, Some("99999")),
        ] {
            assert!(matches!(
                Query::parse(start, None, count, &display),
                Err(FindError::Invalid(_))
            ));
        }
        let r = UnlockRecord {
            time: UnixMillis(1_700_000_000_500),
            method: UnlockMethod::Card,
            who: "9901 Anna (card 00AB12)".into(),
            source: String::new(),
            refused: None,
            snapshot: None,
        };
        let b = body(&[unlock_fields(3, &r)]);
        assert!(b.starts_with("found=1\r\nrecords[0].CardName=9901 Anna (card 00AB12)\r\nrecords[0].CardNo=00AB12\r\nrecords[0].CreateTime=1700000000\r\n"), "{b}");
        assert!(
            b.contains("records[0].RecNo=3\r\nrecords[0].Status=1\r\n"),
            "{b}"
        );
        assert!(b.ends_with("records[0].UserID=9901\r\n"), "{b}");
        let keys: Vec<&str> = unlock_fields(1, &r).iter().map(|(k, _)| *k).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted, "alphabetical");
        let call = CallRecord {
            call_type: CallType::DoorCall,
            from: "8001".into(),
            to: "9901".into(),
            room_no: "9901".into(),
            begin: UnixMillis(1_700_000_000_000),
            talk_ms: Some(12_400),
            end_state: EndState::Answered,
            snapshot: None,
        };
        let f = call_fields(1, &call, "8001");
        let keys: Vec<&str> = f.iter().map(|(k, _)| *k).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted, "alphabetical");
        assert!(f.contains(&("CallType", "Outgoing".into())));
        assert!(f.contains(&("EndState", "Received".into())));
        assert!(f.contains(&("TalkTime", "12".into())));
        assert!(f.contains(&("PeerNumber", "9901".into())));
    }
}
