//! Any request target: parsing never panics, keeps its bounds, and what
//! parses is consistent (the action is the first `action` parameter, the
//! codes filter and the Digest `uri=` comparison take any value).
#![no_main]

use dahua::cgi::{self, Request, MAX_PARAMS, MAX_QUERY};
use dahua::events::Filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(target) = std::str::from_utf8(data) else {
        return;
    };
    assert!(cgi::same_target(target, target));
    if let Ok(r) = Request::parse(target) {
        assert!(!r.script.is_empty() && !r.script.contains('/'));
        assert!(r.params.len() <= MAX_PARAMS);
        assert!(target.split_once('?').map_or(0, |(_, q)| q.len()) <= MAX_QUERY);
        assert_eq!(r.action.as_deref(), r.get("action"));
        assert!(r.set_config().iter().all(|(k, _)| *k != "action"));
        for (_, v) in &r.params {
            if let Ok(f) = Filter::parse(v) {
                let _ = f.wants("Invite");
            }
        }
        let lines: Vec<(&str, String)> = r
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        let body = cgi::body(&lines);
        assert_eq!(body.matches("\r\n").count(), lines.len());
        assert_eq!(body.matches('\n').count(), lines.len());
    }
});
