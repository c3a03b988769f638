//! Log output: where `tracing` events go and how each is written (text or JSON lines).
//!
//! Owns the process-wide subscriber. Must not decide what is logged: modules log their own
//! events (one line per request in `api`, per webhook attempt in `delivery`).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

/// The log setting could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("RUST_LOG {0:?} is not a log filter: {1}")]
    Filter(String, #[source] tracing_subscriber::filter::ParseError),
    #[error("a log subscriber is already installed")]
    AlreadyInstalled,
}

/// Installs the process's subscriber: events passing `filter` are written to standard error
/// in `format`.
pub fn init(format: LogFormat, filter: &str) -> Result<(), LogError> {
    let subscriber = subscriber(format, filter, std::io::stderr)?;
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LogError::AlreadyInstalled)
}

/// A subscriber writing events passing `filter` to `writer` in `format`.
pub fn subscriber<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
) -> Result<Box<dyn tracing::Subscriber + Send + Sync>, LogError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_new(filter).map_err(|error| LogError::Filter(filter.to_owned(), error))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    Ok(match format {
        LogFormat::Text => Box::new(builder.finish()),
        // The request's span (method, uri) rides along with each event inside it; the list of
        // every enclosing span would only repeat it.
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    })
}
