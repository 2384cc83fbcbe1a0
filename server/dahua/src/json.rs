//! JSON as Dahua clients read it.
//!
//! Why not `serde_json::to_string`: one DHIP client splits the TCP stream
//! on `\n` and reads the JSON out of a Python byte repr, so a backslash
//! escape (`\"`, `\n`, `\u00e9`) or a non-ASCII byte loses the message; and
//! the HTTP event stream's parsers expect the device's pretty-printing
//! (3-space indent, `" : "`, LF newlines, a trailing `\n`). So every string
//! (keys too) goes through [`sanitize`] first, after which a string never
//! needs an escape and is written between quotes as it is.
//!
//! Key order is the order of the `serde_json::Map` (sorted unless the
//! `preserve_order` feature is on somewhere in the build); Dahua clients
//! read JSON objects by key, and devices themselves write sorted keys.

use serde_json::Value;

/// The one place strings are made safe for Dahua JSON: printable ASCII
/// (0x20..=0x7E) stays, except `\` (becomes `/`) and `"` (becomes `'`);
/// control characters (CR, LF, tab...) become a space and any other
/// character `?`. The result needs no escape in JSON.
pub fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\\' => '/',
            '"' => '\'',
            ' '..='~' => c,
            c if c.is_control() => ' ',
            _ => '?',
        })
        .collect()
}

/// Compact JSON (no spaces, no newline), every string sanitized.
pub fn compact(value: &Value) -> String {
    let mut out = String::new();
    write_compact(value, &mut out);
    out
}

fn write_compact(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_compact(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(v, out);
            }
            out.push(']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_scalar(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => write_string(s, out),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        // Containers are written by the callers.
        Value::Object(_) | Value::Array(_) => write_compact(value, out),
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    out.push_str(&sanitize(s));
    out.push('"');
}

/// Devices print JSON with jsoncpp's styled writer; arrays of scalars
/// that fit stay on one line (`[ 455, 260 ]`), as in recorded events.
const RIGHT_MARGIN: usize = 74;
const INDENT: usize = 3;

/// JSON pretty-printed the way devices write an event's `data=`: 3-space
/// indent, `" : "` between key and value, LF newlines and a trailing `\n`;
/// empty containers as `{}` / `[]`; short arrays of scalars on one line.
pub fn pretty(value: &Value) -> String {
    let mut out = String::new();
    write_pretty(value, 0, &mut out);
    out.push('\n');
    out
}

fn write_pretty(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push_str("{\n");
            let last = map.len() - 1;
            for (i, (k, v)) in map.iter().enumerate() {
                pad(indent + INDENT, out);
                write_string(k, out);
                out.push_str(" : ");
                write_pretty(v, indent + INDENT, out);
                if i != last {
                    out.push(',');
                }
                out.push('\n');
            }
            pad(indent, out);
            out.push('}');
        }
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => match one_line(items) {
            Some(line) => out.push_str(&line),
            None => {
                out.push_str("[\n");
                let last = items.len() - 1;
                for (i, v) in items.iter().enumerate() {
                    pad(indent + INDENT, out);
                    write_pretty(v, indent + INDENT, out);
                    if i != last {
                        out.push(',');
                    }
                    out.push('\n');
                }
                pad(indent, out);
                out.push(']');
            }
        },
        scalar => write_scalar(scalar, out),
    }
}

/// `[ a, b ]` when every item is a scalar or an empty container and the
/// line stays under the margin (jsoncpp's rule).
fn one_line(items: &[Value]) -> Option<String> {
    if items.len() * 3 >= RIGHT_MARGIN {
        return None;
    }
    let mut parts = Vec::with_capacity(items.len());
    for v in items {
        match v {
            Value::Object(m) if !m.is_empty() => return None,
            Value::Array(a) if !a.is_empty() => return None,
            _ => parts.push(compact(v)),
        }
    }
    let len = 4 + (items.len() - 1) * 2 + parts.iter().map(String::len).sum::<usize>();
    (len < RIGHT_MARGIN).then(|| format!("[ {} ]", parts.join(", ")))
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// `value` with `f` applied to every string (keys and values).
pub fn map_strings(value: &Value, f: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(f(s)),
        Value::Array(items) => Value::Array(items.iter().map(|v| map_strings(v, f)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (f(k), map_strings(v, f))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sanitize_leaves_no_escapes() {
        assert_eq!(sanitize("a\"b\\c\nd\u{e9}e"), "a'b/c d?e");
        let v = json!({"Name": "Jos\u{e9} \"J\"\\\n", "n": [1, true, null]});
        let s = compact(&v);
        assert_eq!(s, r#"{"Name":"Jos? 'J'/ ","n":[1,true,null]}"#);
        assert!(s.is_ascii() && !s.contains('\\'));
        // Still JSON, and the same as serde's output once sanitized.
        let back: Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(back["n"], json!([1, true, null]));
    }

    #[test]
    fn pretty_is_the_device_style() {
        let v = json!({
            "LocaleTime": "2024-05-01 12:00:00",
            "LockNum": 1,
            "Region": [[455, 260], [3586, 260]],
            "Empty": {},
            "Nested": {"A": []}
        });
        let expected = "{\n   \"Empty\" : {},\n   \"LocaleTime\" : \"2024-05-01 12:00:00\",\n   \"LockNum\" : 1,\n   \"Nested\" : {\n      \"A\" : []\n   },\n   \"Region\" : [\n      [ 455, 260 ],\n      [ 3586, 260 ]\n   ]\n}\n";
        assert_eq!(pretty(&v), expected);
        assert_eq!(pretty(&json!(3)), "3\n");
    }

    #[test]
    fn long_arrays_go_multiline() {
        let items: Vec<Value> = (0..30).map(|i| json!(format!("item{i}"))).collect();
        let s = pretty(&Value::Array(items));
        assert!(s.starts_with("[\n   \"item0\",\n"));
    }
}
