//! Against a real SMTP server (aiosmtpd on loopback).

use ::tests::smtp::{Options, Security, SmtpSink};
use app::model::mail::{MailSecurity, MailSettings};

use super::*;

fn mail() -> Mail {
    Mail {
        to: "owner@example.com".into(),
        subject: "Test".into(),
        body: "Security code: ACDE-FGH3-47\n".into(),
    }
}

fn config(sink: &SmtpSink, security: MailSecurity) -> MailConfig {
    MailConfig {
        settings: MailSettings {
            server: "127.0.0.1".into(),
            port: sink.port,
            security,
            sender: "door@example.com".into(),
            ..MailSettings::default()
        },
        password: None,
    }
}

fn postman(sink: Option<&SmtpSink>) -> (tempfile::TempDir, Postman) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let ca = sink
        .and_then(|s| s.ca_pem.as_ref())
        .map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{e}")));
    let p = Postman::new(dir.path(), ca);
    (dir, p)
}

#[tokio::test]
async fn plain_smtp_delivers_and_reports_the_answer() -> Result<(), MailError> {
    let sink = SmtpSink::plain().await;
    let (_d, p) = postman(None);
    let receipt = p.send(&config(&sink, MailSecurity::None), mail()).await?;
    assert!(
        receipt.answer.starts_with("250 OK queued as test-0001"),
        "{receipt:?}"
    );
    let mails = sink.wait_for(1).await;
    assert!(mails[0].contains("Security code: ACDE-FGH3-47"));
    assert!(mails[0].contains("From: door@example.com"));
    assert!(mails[0].contains("To: owner@example.com"));
    Ok(())
}

#[tokio::test]
async fn starttls_with_auth() -> Result<(), MailError> {
    let sink = SmtpSink::start(Options {
        security: Some(Security::StartTls),
        auth: Some(("door", "s3cret")),
        ..Options::default()
    })
    .await;
    let (_d, p) = postman(Some(&sink));
    let mut c = config(&sink, MailSecurity::StartTls);
    c.settings.user = "door".into();
    c.password = Some("s3cret".into());
    p.send(&c, mail()).await?;
    assert_eq!(sink.wait_for(1).await.len(), 1);

    // A wrong password is the server's answer, word for word.
    c.password = Some("wrong".into());
    let e = p.send(&c, mail()).await.err().map(|e| e.to_string());
    assert!(e.as_deref().is_some_and(|e| e.contains("535")), "{e:?}");
    // Without STARTTLS the server refuses (it requires it) and so do we:
    // with security None the password would go in clear text.
    c.settings.security = MailSecurity::None;
    assert!(p.send(&c, mail()).await.is_err());
    assert_eq!(sink.mails().len(), 1);
    Ok(())
}

#[tokio::test]
async fn untrusted_certificate_is_refused() {
    let sink = SmtpSink::start(Options {
        security: Some(Security::StartTls),
        ..Options::default()
    })
    .await;
    // No extra CA: the self-signed certificate must not be accepted.
    let (_d, p) = postman(None);
    let e = p.send(&config(&sink, MailSecurity::StartTls), mail()).await;
    let e = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.contains("certificate") || e.contains("Certificate"),
        "{e}"
    );
    assert!(sink.mails().is_empty());
}

#[tokio::test]
async fn implicit_tls() -> Result<(), MailError> {
    let sink = SmtpSink::start(Options {
        security: Some(Security::Tls),
        ..Options::default()
    })
    .await;
    let (_d, p) = postman(Some(&sink));
    p.send(&config(&sink, MailSecurity::Tls), mail()).await?;
    assert_eq!(sink.wait_for(1).await.len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_rejected_mail_is_an_error_with_the_answer() {
    let sink = SmtpSink::start(Options {
        reject: Some(554),
        ..Options::default()
    })
    .await;
    let (_d, p) = postman(None);
    let e = p.send(&config(&sink, MailSecurity::None), mail()).await;
    let e = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("554"), "{e}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(1);
    let (_d, p) = postman(None);
    let mut c = MailConfig::default();
    c.settings.server = "127.0.0.1".into();
    c.settings.port = port;
    c.settings.security = MailSecurity::None;
    c.settings.sender = "door@example.com".into();
    let e = p.send(&c, mail()).await.err().map(|e| e.to_string());
    let e = e.unwrap_or_default();
    assert!(
        e.starts_with(&format!("cannot talk to 127.0.0.1:{port}")),
        "{e}"
    );
}

/// The outbox keeps the newest [`MAX_OUTBOX`] mails: the oldest go.
#[tokio::test]
async fn the_outbox_keeps_the_newest_mails() -> Result<(), MailError> {
    let (dir, p) = postman(None);
    let outbox = dir.path().join("outbox");
    std::fs::create_dir_all(&outbox).map_err(|e| MailError::Outbox(outbox.clone(), e))?;
    for t in 0..MAX_OUTBOX {
        std::fs::write(outbox.join(format!("{}-00000000.eml", 1000 + t)), b"old")
            .map_err(|e| MailError::Outbox(outbox.clone(), e))?;
    }
    let receipt = p.send(&MailConfig::default(), mail()).await?;
    let mut names: Vec<String> = std::fs::read_dir(&outbox)
        .map_err(|e| MailError::Outbox(outbox.clone(), e))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    assert_eq!(names.len(), MAX_OUTBOX);
    assert_eq!(names[0], "1001-00000000.eml", "the oldest removed");
    assert!(receipt.via.ends_with(&names[MAX_OUTBOX - 1]), "{receipt:?}");
    Ok(())
}

#[tokio::test]
async fn without_a_server_mail_goes_to_the_outbox() -> Result<(), MailError> {
    let (dir, p) = postman(None);
    let receipt = p.send(&MailConfig::default(), mail()).await?;
    assert!(receipt.via.starts_with("outbox/"), "{receipt:?}");
    let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
        .map_err(|e| MailError::Outbox(dir.path().into(), e))?
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(files.len(), 1);
    let path = files[0].path();
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(text.contains("Security code: ACDE-FGH3-47"));
    assert!(text.contains("To: owner@example.com"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777);
    assert_eq!(mode.ok(), Some(0o600));
    Ok(())
}
