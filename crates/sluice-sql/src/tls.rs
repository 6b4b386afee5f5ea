//! TLS for PostgreSQL with rustls (already in the build for object storage),
//! following libpq's meaning of the modes: `prefer` and `require` encrypt
//! without checking the certificate, `verify-full` checks it against the
//! `ca_file` (or the system's roots) and the host name.

use crate::warehouse::Settings;
use crate::SqlError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use sluice_spec::TlsMode;
use std::sync::Arc;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The rustls configuration for a mode; `None` for `disable`.
pub(crate) fn client_config(settings: &Settings) -> Result<Option<ClientConfig>, SqlError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(settings, e.to_string()))?;
    let config = match settings.tls {
        TlsMode::Disable => return Ok(None),
        TlsMode::Prefer | TlsMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider())))
            .with_no_client_auth(),
        TlsMode::VerifyFull => builder
            .with_root_certificates(roots(settings)?)
            .with_no_client_auth(),
    };
    Ok(Some(config))
}

/// The certificates a `verify-full` server must chain to.
fn roots(settings: &Settings) -> Result<RootCertStore, SqlError> {
    let mut roots = RootCertStore::empty();
    match &settings.ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    tls_error(
                        settings,
                        format!("cannot read ca_file {}: {e}", path.display()),
                    )
                })?;
            if certs.is_empty() {
                let reason = format!("ca_file {} holds no PEM certificate", path.display());
                return Err(tls_error(settings, reason));
            }
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| tls_error(settings, format!("{}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                let reason = "no system CA certificates found; set `tls.ca_file`".to_string();
                return Err(tls_error(settings, reason));
            }
        }
    }
    Ok(roots)
}

pub(crate) fn tls_error(settings: &Settings, reason: String) -> SqlError {
    SqlError::Tls {
        connection: settings.name.clone(),
        target: settings.shown.clone(),
        mode: mode_name(settings.tls).to_string(),
        reason,
    }
}

pub(crate) fn mode_name(mode: TlsMode) -> &'static str {
    match mode {
        TlsMode::Disable => "disable",
        TlsMode::Prefer => "prefer",
        TlsMode::Require => "require",
        TlsMode::VerifyFull => "verify-full",
    }
}

/// Accepts any server certificate while still checking the handshake's
/// signatures: encryption without authentication, as libpq's `require`.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
