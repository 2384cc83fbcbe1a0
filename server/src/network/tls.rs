//! The HTTPS certificate (manual 6.1.2): made by the device (self-signed,
//! for its host name and addresses) or uploaded as PEM certificate + key,
//! checked before anything is stored. The key never leaves the device.

use std::{net::IpAddr, sync::Arc};

use app::model::{
    network::{CertificateInfo, CertificateKind, MAX_PEM_BYTES},
    time::UnixMillis,
};
use rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::secret::Secret;

/// The certificate as stored (in the settings table, never exported).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TlsRecord {
    pub kind: CertificateKind,
    pub cert_pem: String,
    pub key_pem: Secret,
}

/// A self-signed certificate for `names` (host names and addresses).
pub fn generate(names: &[String]) -> Result<TlsRecord, String> {
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .map_err(|e| format!("certificate names: {e}"))?;
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        names.first().map_or("vto", |n| n),
    );
    dn.push(rcgen::DnType::OrganizationName, "vto door station");
    params.distinguished_name = dn;
    // Ten years: a door station is not re-certified every year; a user who
    // wants less uploads a certificate of their own.
    let now = crate::clock::host_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(3650);
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("key: {e}"))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("certificate: {e}"))?;
    Ok(TlsRecord {
        kind: CertificateKind::Generated,
        cert_pem: cert.pem(),
        key_pem: Secret::new(key.serialize_pem()),
    })
}

/// The names a generated certificate covers: the host name, `localhost`
/// and every address of the host.
pub fn device_names(host_name: &str, addresses: &[IpAddr]) -> Vec<String> {
    let mut names = Vec::new();
    if !host_name.is_empty() {
        names.push(host_name.to_string());
    }
    names.push("localhost".to_string());
    for a in addresses {
        let a = a.to_string();
        if !names.contains(&a) {
            names.push(a);
        }
    }
    names
}

/// Checks an uploaded certificate and key; the record to store.
pub fn upload(cert_pem: &str, key_pem: &str) -> Result<TlsRecord, (&'static str, String)> {
    if cert_pem.len() > MAX_PEM_BYTES {
        return Err(("certificate", "The certificate file is too large".into()));
    }
    if key_pem.len() > MAX_PEM_BYTES {
        return Err(("private-key", "The key file is too large".into()));
    }
    let record = TlsRecord {
        kind: CertificateKind::Uploaded,
        cert_pem: cert_pem.to_string(),
        key_pem: Secret::new(key_pem),
    };
    server_config(&record)?;
    info(&record).map_err(|e| ("certificate", e))?;
    Ok(record)
}

/// The TLS configuration for `record`, or why it cannot serve: (field,
/// message) with field `certificate` or `private-key`.
pub fn server_config(
    record: &TlsRecord,
) -> Result<Arc<rustls::ServerConfig>, (&'static str, String)> {
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(record.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| ("certificate", format!("Not a PEM certificate ({e})")))?;
    if certs.is_empty() {
        return Err((
            "certificate",
            "No certificate found (expected -----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(record.key_pem.as_str().as_bytes()).map_err(|e| {
        (
            "private-key",
            format!("Not a PEM private key (PKCS#8, PKCS#1 or SEC1) ({e})"),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ("certificate", e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => (
                "private-key",
                "The private key does not belong to the certificate".to_string(),
            ),
            other => (
                "certificate",
                format!("Cannot use this certificate: {other}"),
            ),
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// What the page shows of the certificate.
pub fn info(record: &TlsRecord) -> Result<CertificateInfo, String> {
    let der = CertificateDer::pem_slice_iter(record.cert_pem.as_bytes())
        .next()
        .ok_or("no certificate")?
        .map_err(|e| e.to_string())?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| format!("Not an X.509 certificate ({e})"))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                x509_parser::extensions::GeneralName::DNSName(d) => names.push(d.to_string()),
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        names.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let fingerprint = Sha256::digest(der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let validity = cert.validity();
    Ok(CertificateInfo {
        kind: record.kind,
        subject: cert.subject().to_string(),
        names,
        not_before: UnixMillis(validity.not_before.timestamp() * 1000),
        not_after: UnixMillis(validity.not_after.timestamp() * 1000),
        fingerprint,
        pem: record.cert_pem.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        device_names(
            "vto-door",
            &["127.0.0.1".parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))],
        )
    }

    #[test]
    fn a_generated_certificate_serves_and_names_the_device() {
        let r = generate(&names()).unwrap_or_else(|e| panic!("{e}"));
        assert!(server_config(&r).is_ok());
        let i = info(&r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(i.kind, CertificateKind::Generated);
        assert_eq!(i.names, vec!["vto-door", "localhost", "127.0.0.1"]);
        assert!(i.not_after - i.not_before > 3000 * 86_400_000);
        assert_eq!(i.fingerprint.len(), 32 * 3 - 1);
        assert!(!i.pem.contains("PRIVATE"));
    }

    #[test]
    fn uploads_are_checked_field_by_field() {
        let a = generate(&names()).unwrap_or_else(|e| panic!("{e}"));
        let b = generate(&names()).unwrap_or_else(|e| panic!("{e}"));
        assert!(upload(&a.cert_pem, a.key_pem.as_str()).is_ok());
        let field = |c: &str, k: &str| upload(c, k).err().map(|e| e.0);
        assert_eq!(field(&a.cert_pem, b.key_pem.as_str()), Some("private-key"));
        assert_eq!(field("garbage", a.key_pem.as_str()), Some("certificate"));
        assert_eq!(
            field(a.key_pem.as_str(), a.key_pem.as_str()),
            Some("certificate")
        );
        assert_eq!(field(&a.cert_pem, "garbage"), Some("private-key"));
        assert_eq!(field(&a.cert_pem, &a.cert_pem), Some("private-key"));
        assert_eq!(
            field(&"x".repeat(MAX_PEM_BYTES + 1), a.key_pem.as_str()),
            Some("certificate")
        );
        let mismatch = upload(&a.cert_pem, b.key_pem.as_str()).err().map(|e| e.1);
        assert_eq!(
            mismatch.as_deref(),
            Some("The private key does not belong to the certificate")
        );
    }
}
