//! How values are encoded in redb: one format byte, then the payload.
//!
//! Format 1: the value as JSON (serde_json). Stated here so that a later
//! format can be introduced beside it and read both.

use serde::{de::DeserializeOwned, Serialize};

use super::StoreError;

/// The format byte of values written by this build.
pub const FORMAT_JSON_V1: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_JSON_V1];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Encode(e.to_string()))?;
    Ok(out)
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_JSON_V1, json)) => {
            serde_json::from_slice(json).map_err(|e| StoreError::Decode(e.to_string()))
        }
        Some((other, _)) => Err(StoreError::Decode(format!("unknown value format {other}"))),
        None => Err(StoreError::Decode("empty value".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let bytes = encode(&("x", 7u32)).unwrap_or_default();
        assert_eq!(bytes[0], FORMAT_JSON_V1);
        assert_eq!(&bytes[1..], br#"["x",7]"#);
        assert_eq!(decode::<(String, u32)>(&bytes).ok(), Some(("x".into(), 7)));
        assert!(decode::<u32>(&[]).is_err());
        assert!(decode::<u32>(&[9, b'1']).is_err());
        assert!(decode::<u32>(&[FORMAT_JSON_V1, b'{']).is_err());
    }
}
