//! The one I/O seam of webhooks: POST a body to a URL, get the status.

use std::time::Duration;

/// One attempt's request.
#[derive(Clone, Debug)]
pub struct Post {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

#[async_trait::async_trait]
pub trait Poster: Send + Sync + 'static {
    /// The receiver's status, or why there was none (never with the URL in
    /// it: its path may be the receiver's secret).
    async fn post(&self, post: &Post) -> Result<u16, String>;
}

/// Per attempt: connecting, then the whole answer.
const CONNECT: Duration = Duration::from_secs(5);
const ANSWER: Duration = Duration::from_secs(10);

/// Over HTTP or HTTPS (Mozilla's roots plus `--ca-file`), no redirects
/// followed, no proxy.
pub struct HttpPoster {
    client: reqwest::Client,
}

impl HttpPoster {
    pub fn new(extra_ca_pem: Option<&[u8]>) -> Result<Self, String> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(CONNECT)
            .timeout(ANSWER)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("vto/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = extra_ca_pem {
            for cert in
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("--ca-file: {e}"))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        let client = b.build().map_err(|e| format!("webhook client: {e}"))?;
        Ok(Self { client })
    }
}

#[async_trait::async_trait]
impl Poster for HttpPoster {
    async fn post(&self, post: &Post) -> Result<u16, String> {
        let mut req = self
            .client
            .post(&post.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(post.body.clone());
        for (k, v) in &post.headers {
            req = req.header(*k, v);
        }
        // The answer's body is not read: the status is the verdict.
        req.send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| describe(&e.without_url()))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "No answer in time".into();
    }
    // The innermost cause says most (refused, unknown host, certificate).
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if e.is_connect() {
        format!("Cannot connect: {cause}")
    } else {
        format!("Not sent: {cause}")
    }
}
