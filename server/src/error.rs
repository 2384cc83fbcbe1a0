//! The server's one error type for what goes wrong inside the device (not
//! the caller's fault), mapped to the API's error in one place: the caller
//! learns that something failed, the log learns what.

use app::error::ApiError;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A blocking or background task panicked or was cancelled.
    #[error("task: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The operating system's random generator failed.
    #[error("random: {0}")]
    Random(#[from] getrandom::Error),
    /// Anything else the device could not do, said plainly.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        tracing::error!(error = %e, "internal error");
        match e {
            // The details stay in the log: paths and table names are not
            // the caller's business.
            Error::Store(_) => ApiError::Internal("storage error".into()),
            Error::Task(_) => ApiError::Internal("a background task failed".into()),
            Error::Random(_) => ApiError::Internal("no random numbers".into()),
            Error::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Error::Store(e).into()
    }
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random<const N: usize>() -> Result<[u8; N], Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}
