//! TLS with rustls: a certificate resolver whose key pair is replaced on
//! reload (SIGHUP) without dropping connections.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsConfig;
use crate::error::ServeError;

/// The certificate in force.
#[derive(Debug)]
pub(crate) struct CertResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertResolver {
    pub(crate) fn load(config: &TlsConfig) -> Result<CertResolver, ServeError> {
        Ok(CertResolver {
            current: RwLock::new(Arc::new(certified_key(config)?)),
        })
    }

    /// Read the files again; on error the certificate in force stays.
    pub(crate) fn reload(&self, config: &TlsConfig) -> Result<(), ServeError> {
        let key = certified_key(config)?;
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(key);
        }
        tracing::info!("TLS certificate reloaded from {}", config.cert.display());
        Ok(())
    }

    /// The rustls server configuration using this resolver.
    pub(crate) fn server_config(self: &Arc<Self>) -> Result<rustls::ServerConfig, ServeError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServeError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.clone())
    }
}

fn certified_key(config: &TlsConfig) -> Result<CertifiedKey, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&config.cert)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", config.cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| ServeError::Tls(format!("{}: {e}", config.cert.display())))?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate in the file",
            config.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&config.key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", config.key.display())))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| ServeError::Tls(format!("{}: {e}", config.key.display())))?;
    Ok(CertifiedKey::new(certs, signing))
}
