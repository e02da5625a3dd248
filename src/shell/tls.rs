//! TLS for the IMAP connection: the system's roots plus, optionally, one CA file (an
//! office's own CA, or the one the tests make). rustls with ring, like lettre's side.

use std::path::Path;
use std::sync::Arc;
use tokio_rustls::rustls::{self, RootCertStore};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("the CA file {path} holds no PEM certificate: give a PEM file (-----BEGIN CERTIFICATE-----)")]
    Empty { path: String },
    #[error("TLS configuration: {0}")]
    Rustls(String),
}

pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    // A missing or odd system store is not fatal when a CA file is given.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|source| TlsError::Read { path: shown.clone(), source })?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice()).filter_map(Result::ok).collect();
        if certs.is_empty() {
            return Err(TlsError::Empty { path: shown });
        }
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(TlsError::Empty { path: shown });
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Rustls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
