//! Outgoing mail: security codes, notices and test mails.
//!
//! [`Postman::send`] delivers through the SMTP server of Network Setting >
//! Email (lettre over rustls), or, when none is set, writes the mail to
//! `DATA_DIR/outbox/` as an `.eml` file. Either way the caller learns what
//! happened: a mail that fails is an error, never dropped silently.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use lettre::{
    message::{
        header::{ContentTransferEncoding, ContentType},
        Body, Mailbox,
    },
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
        AsyncSmtpTransport,
    },
    AsyncTransport, Message, Tokio1Executor,
};

use app::{
    error::ApiError,
    model::mail::{MailReceipt, MailSecurity, MailSettings},
};

use crate::store::{
    secret::Secret,
    settings::{SettingsStore, MAIL},
};

/// How long one SMTP exchange may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);
/// The From of outbox mail when no sender is configured.
const OUTBOX_SENDER: &str = "VTO <vto@localhost>";

/// One plain-text mail.
#[derive(Clone, Debug)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The Email page's settings with the stored SMTP password.
#[derive(Clone, Debug, Default)]
pub struct MailConfig {
    pub settings: MailSettings,
    pub password: Option<Secret>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid address {0}")]
    Address(String),
    #[error("cannot build the mail: {0}")]
    Build(String),
    #[error("{0}")]
    Smtp(String),
    #[error("cannot write to the outbox {0}: {1}")]
    Outbox(PathBuf, std::io::Error),
}

pub struct Postman {
    outbox: PathBuf,
    /// Extra trusted CA certificates (PEM) for SMTP over TLS, besides the
    /// built-in Mozilla roots.
    extra_ca_pem: Option<Vec<u8>>,
}

impl Postman {
    pub fn new(data_dir: &Path, extra_ca_pem: Option<Vec<u8>>) -> Self {
        Self {
            outbox: data_dir.join("outbox"),
            extra_ca_pem,
        }
    }

    /// Delivers `mail` as `config` says; a failure is the user's error
    /// ("the mail could not be sent: ...").
    pub async fn deliver(&self, config: &MailConfig, mail: Mail) -> Result<MailReceipt, ApiError> {
        self.send(config, mail).await.map_err(|e| {
            tracing::warn!(error = %e, "mail not sent");
            ApiError::Mail(e.to_string())
        })
    }

    /// Delivers `mail` with the stored Email settings.
    pub async fn deliver_stored(
        &self,
        settings: &SettingsStore,
        mail: Mail,
    ) -> Result<MailReceipt, ApiError> {
        let record = settings.get(MAIL).await?;
        let config = MailConfig {
            settings: record.settings,
            password: record.password,
        };
        self.deliver(&config, mail).await
    }

    /// Delivers `mail` as `config` says.
    pub async fn send(&self, config: &MailConfig, mail: Mail) -> Result<MailReceipt, MailError> {
        let s = &config.settings;
        let from = if s.sender.trim().is_empty() {
            OUTBOX_SENDER
        } else {
            s.sender.trim()
        };
        let message = build(from, &mail)?;
        if s.uses_server() {
            self.smtp(config, message).await
        } else {
            let outbox = self.outbox.clone();
            tokio::task::spawn_blocking(move || to_outbox(&outbox, &message))
                .await
                .map_err(|e| MailError::Build(e.to_string()))?
        }
    }

    async fn smtp(&self, config: &MailConfig, message: Message) -> Result<MailReceipt, MailError> {
        let s = &config.settings;
        let host = s.server.trim().to_string();
        let tls = match s.security {
            MailSecurity::None => Tls::None,
            MailSecurity::StartTls => Tls::Required(self.tls_parameters(&host)?),
            MailSecurity::Tls => Tls::Wrapper(self.tls_parameters(&host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if !s.user.is_empty() {
            builder = builder.credentials(Credentials::new(
                s.user.clone(),
                config
                    .password
                    .as_ref()
                    .map(Secret::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
        let via = format!("{host}:{}", s.port);
        let response = builder
            .build()
            .send(message)
            .await
            .map_err(|e| MailError::Smtp(describe_smtp_error(&via, &e)))?;
        let text: Vec<&str> = response.message().collect();
        let answer = format!("{} {}", response.code(), text.join(" "));
        tracing::info!(%via, answer = %answer, "mail sent");
        Ok(MailReceipt { via, answer })
    }

    fn tls_parameters(&self, host: &str) -> Result<TlsParameters, MailError> {
        let mut b = TlsParameters::builder(host.to_string());
        if let Some(pem) = &self.extra_ca_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| MailError::Build(e.to_string()))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| MailError::Smtp(format!("TLS setup: {e}")))
    }
}

fn build(from: &str, mail: &Mail) -> Result<Message, MailError> {
    let from: Mailbox = from
        .parse()
        .map_err(|_| MailError::Address(from.to_string()))?;
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|_| MailError::Address(mail.to.clone()))?;
    // Plain 7-bit text when it can be: a code or link stays readable (and
    // copyable) in any mail client and in the outbox file.
    let body = Body::new_with_encoding(mail.body.clone(), ContentTransferEncoding::SevenBit)
        .unwrap_or_else(Body::new);
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| MailError::Build(e.to_string()))
}

/// Mails kept in the outbox at most; the oldest go first.
pub const MAX_OUTBOX: usize = 100;

/// Writes the mail as `outbox/<time>-<random>.eml`, readable by the device
/// user only (it may hold a security code); then keeps the newest
/// [`MAX_OUTBOX`].
fn to_outbox(outbox: &Path, message: &Message) -> Result<MailReceipt, MailError> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let err = |e| MailError::Outbox(outbox.to_path_buf(), e);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(outbox)
        .map_err(err)?;
    let mut random = [0u8; 4];
    getrandom::fill(&mut random).map_err(|e| MailError::Build(e.to_string()))?;
    let stamp = crate::clock::Clock::now(&crate::clock::SystemClock);
    let name = format!("{}-{:08x}.eml", stamp.0, u32::from_be_bytes(random));
    let path = outbox.join(&name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(err)?;
    file.write_all(&message.formatted())
        .and_then(|()| file.sync_all())
        .map_err(err)?;
    tracing::info!(file = %path.display(), "no SMTP server set: mail written to the outbox");
    rotate_outbox(outbox);
    Ok(MailReceipt {
        via: format!("outbox/{name}"),
        answer: format!("Saved to {}", path.display()),
    })
}

/// Removes the oldest of the outbox's mails beyond [`MAX_OUTBOX`] (by the
/// time in their names).
fn rotate_outbox(outbox: &Path) {
    let Ok(dir) = std::fs::read_dir(outbox) else {
        return;
    };
    let mut mails: Vec<(u64, String)> = dir
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let time = name.strip_suffix(".eml")?.split('-').next()?.parse().ok()?;
            Some((time, name))
        })
        .collect();
    if mails.len() <= MAX_OUTBOX {
        return;
    }
    mails.sort();
    let extra = mails.len() - MAX_OUTBOX;
    for (_, name) in mails.into_iter().take(extra) {
        if let Err(e) = std::fs::remove_file(outbox.join(&name)) {
            tracing::warn!(%name, error = %e, "outbox: an old mail not removed");
        }
    }
}

/// An SMTP failure in words a user can act on.
fn describe_smtp_error(via: &str, e: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(code) = e.status() {
        format!("{via} answered {code}: {detail}")
    } else if e.is_timeout() {
        format!("{via} did not answer in time ({detail})")
    } else {
        format!("cannot talk to {via}: {detail}")
    }
}

#[cfg(test)]
mod tests;
