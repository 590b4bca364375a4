//! The transport: HTTP/2 (h2c) over the process's stdin and stdout.
//!
//! BuildKit serves the gateway API on the pipes of the frontend container, so the frontend is a
//! gRPC client whose "socket" is stdin (what the daemon writes) joined with stdout (what it
//! reads). Nothing else may ever write to stdout while serving.

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Uri};
use tower::service_fn;

/// Opens a gRPC channel over stdin/stdout.
pub async fn connect() -> Result<Channel, tonic::transport::Error> {
    // The URI is never dialled; the connector below provides the stream.
    Endpoint::from_static("http://buildkit.invalid")
        .connect_with_connector(service_fn(|_: Uri| async {
            let stream = tokio::io::join(tokio::io::stdin(), tokio::io::stdout());
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }))
        .await
}
