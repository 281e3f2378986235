//! The TLS provider every HTTPS connection of this crate uses: rustls on `ring`.
//!
//! The HTTP stack is built without a default provider (so no C crypto library beyond `ring` is
//! compiled), which means one must be installed for the process before the first client is
//! built. [`install`] does that, once; every constructor in this room that builds an HTTP client
//! (credentials, [`super::ArmClient`], [`super::blob::BlobUploader`]) calls it first. A program
//! that has already installed its own provider keeps it.

use std::sync::Once;

/// Installs rustls's `ring` provider as the process default, unless one is installed already.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means another provider was installed first: that one is used, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn after_install_a_provider_is_the_process_default() {
        super::install();
        super::install();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
