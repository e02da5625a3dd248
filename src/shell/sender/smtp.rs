//! The SMTP sender: lettre over tokio with rustls, pooled connections, AUTH only over
//! TLS (or to loopback, which the config enforces). A 5xx is permanent; everything else
//! (4xx, a dropped connection, a TLS hiccup, a timeout) is worth a retry.

use crate::core::domain::Address;
use crate::shell::config::{ServerConfig, Tls};
use crate::shell::sender::{SendError, Sender};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls as LettreTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    #[error("cannot read the CA file {path}: {source}")]
    CaFile { path: String, source: std::io::Error },
    #[error("TLS for {host}: {message}")]
    Tls { host: String, message: String },
}

impl SmtpSender {
    pub fn new(server: &ServerConfig) -> Result<SmtpSender, SmtpSetupError> {
        let tls_error = |e: lettre::transport::smtp::Error| SmtpSetupError::Tls {
            host: server.host.clone(),
            message: e.to_string(),
        };
        let mut params = TlsParameters::builder(server.host.clone());
        if let Some(path) = &server.ca_file {
            let pem = std::fs::read(path)
                .map_err(|source| SmtpSetupError::CaFile { path: path.display().to_string(), source })?;
            params = params.add_root_certificate(Certificate::from_pem(&pem).map_err(tls_error)?);
        }
        let params = params.build_rustls().map_err(tls_error)?;
        let tls = match server.tls {
            Tls::Implicit => LettreTls::Wrapper(params),
            // Required, not Opportunistic: without STARTTLS the password would go in clear.
            Tls::Starttls => LettreTls::Required(params),
            Tls::None => LettreTls::None,
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host.clone())
            .port(server.port)
            .tls(tls)
            .credentials(Credentials::new(server.username.clone(), server.password.expose().to_string()))
            .authentication(vec![Mechanism::Plain, Mechanism::Login])
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(SmtpSender { transport })
    }
}

fn lettre_address(a: &Address) -> Result<lettre::Address, SendError> {
    a.as_str().parse().map_err(|e| SendError::Permanent(format!("{a}: {e}")))
}

impl Sender for SmtpSender {
    async fn send(&self, from: &Address, to: &[Address], raw: &[u8]) -> Result<(), SendError> {
        let to = to.iter().map(lettre_address).collect::<Result<Vec<_>, _>>()?;
        let envelope =
            Envelope::new(Some(lettre_address(from)?), to).map_err(|e| SendError::Permanent(e.to_string()))?;
        match self.transport.send_raw(&envelope, raw).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
